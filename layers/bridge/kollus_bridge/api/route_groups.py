"""The API's routes beyond its core (progress, contents, rules, playback, sync) come in groups, each
made the first time a request asks for a path under its prefixes: a cold start imports only what its
first request needs (the LTI group alone brings the X.509 and JWT machinery, the analytics group its
models). `load_all` makes every group, for the OpenAPI document."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.api_gateway import Router

#: The LTI tool's routes that platforms and browsers call without the API token.
LTI_PUBLIC_PATHS = frozenset({"/.well-known/jwks.json", "/lti/login", "/lti/launch", "/lti/deep-link"})
#: The signed analytics pages (their token is in the path, not a header).
VIEWS_PREFIX = "/v1/views/"


@dataclass(frozen=True)
class RouteGroup:
    """`make` builds the group's router (importing its modules); `prefixes` are the paths it serves:
    each is the path itself or a parent of it."""

    name: str
    prefixes: tuple[str, ...]
    make: Callable[[], Router]

    def serves(self, path: str) -> bool:
        return any(path == prefix or path.startswith(prefix.rstrip("/") + "/") for prefix in self.prefixes)


class LazyRoutes:
    """The groups of one resolver, each included once, when first asked for (also when requests on
    several threads, as the local stack serves them, ask at once)."""

    def __init__(self, app: APIGatewayHttpResolver, groups: Iterable[RouteGroup]) -> None:
        self.app = app
        self.groups = tuple(groups)
        self.loaded: set[str] = set()
        self._lock = threading.Lock()

    def load_for(self, path: str) -> None:
        for group in self.groups:
            if group.name not in self.loaded and group.serves(path):
                self._load(group)

    def load_all(self) -> None:
        for group in self.groups:
            if group.name not in self.loaded:
                self._load(group)

    def _load(self, group: RouteGroup) -> None:
        with self._lock:
            if group.name not in self.loaded:
                self.app.include_router(group.make())
                self.loaded.add(group.name)
