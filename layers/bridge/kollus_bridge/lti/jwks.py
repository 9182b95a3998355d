"""Platforms' key sets, fetched from their JWKS URLs over the shared outbound client and kept for
`LTI_JWKS_CACHE_SECONDS`; a key id the cached set lacks (the platform rotated) fetches it again, at
most once a minute."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt

from kollus_bridge.errors import Forbidden
from kollus_bridge.outbound import NoAnswer, request

from .platforms import Platform

#: A set lacking a key id is fetched again only when it is older than this, in seconds.
REFETCH_SECONDS = 60


@dataclass
class KeySets:
    max_age: float = 3600.0
    timeout: float = 5.0
    clock: Callable[[], float] = time.monotonic
    _sets: dict[str, tuple[float, jwt.PyJWKSet]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _fetch(self, url: str) -> jwt.PyJWKSet:
        try:
            answer = request("GET", url, headers={"accept": "application/json"}, timeout=self.timeout)
        except NoAnswer as error:
            raise Forbidden(f"the platform's key set could not be fetched: {error}", field="id_token") from None
        try:
            if answer.status != 200:
                raise ValueError(f"it answered {answer.status}")
            keys = jwt.PyJWKSet.from_dict(json.loads(answer.body))
        except (ValueError, jwt.PyJWKSetError) as error:
            raise Forbidden(f"the platform's key set is not usable: {error}", field="id_token") from None
        with self._lock:
            self._sets[url] = (self.clock(), keys)
        return keys

    def key_for(self, platform: Platform, kid: str) -> Any:
        """The platform's public key named `kid` (the only key, when the token names none)."""
        with self._lock:
            cached = self._sets.get(platform.jwks_url)
        age = None if cached is None else self.clock() - cached[0]
        keys = (
            cached[1]
            if cached is not None and age is not None and age < self.max_age
            else self._fetch(platform.jwks_url)
        )
        found = _find(keys, kid)
        if found is None and (age is None or age >= REFETCH_SECONDS) and cached is not None and keys is cached[1]:
            found = _find(self._fetch(platform.jwks_url), kid)
        if found is None:
            raise Forbidden(f"the platform's key set has no key {kid[:64]!r}", field="id_token")
        return found


def _find(keys: jwt.PyJWKSet, kid: str) -> Any:
    if not kid:
        return keys.keys[0].key if len(keys.keys) == 1 else None
    for key in keys.keys:
        if key.key_id == kid:
            return key.key
    return None
