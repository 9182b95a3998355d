"""The tool's RS256 keys, pure: a JSON Web Key Set of private keys, the first of which signs; all of
them are published (`/.well-known/jwks.json`), so a platform that cached the previous key still
verifies during a rotation.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from kollus_bridge.errors import InvalidRequest

#: Keys published at once: the one that signs and the one before it.
KEPT = 2
_PUBLIC = ("kty", "n", "e", "kid", "alg", "use")


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638's thumbprint of an RSA key: the key id we give it."""
    canonical = json.dumps({name: jwk[name] for name in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).decode().rstrip("=")


def new_key() -> dict[str, Any]:
    """A fresh RSA 2048 private key as a JWK, with its thumbprint as `kid`."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(private, as_dict=True)
    return {**jwk, "kid": thumbprint(jwk), "alg": "RS256", "use": "sig"}


@dataclass(frozen=True)
class ToolKeys:
    keys: tuple[Mapping[str, Any], ...]

    @classmethod
    def parse(cls, text: str) -> ToolKeys:
        """A key set as kept (`{"keys": [...]}`, the signing key first); an empty text is no key."""
        if not text.strip():
            return cls(())
        try:
            document = json.loads(text)
            keys = tuple(document["keys"])
            for key in keys:
                if key.get("kty") != "RSA" or "d" not in key or not key.get("kid"):
                    raise ValueError("a tool key must be a private RSA JWK with a kid")
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise InvalidRequest(f"the LTI tool keys are not a JSON Web Key Set of private RSA keys: {error}") from None
        return cls(keys)

    def text(self) -> str:
        return json.dumps({"keys": list(self.keys)}, separators=(",", ":"))

    def rotated(self, fresh: Mapping[str, Any]) -> ToolKeys:
        """`fresh` signs from now on; the key that signed until now stays published; older ones go."""
        return ToolKeys((fresh, *self.keys)[:KEPT])

    def public(self) -> dict[str, Any]:
        """The JSON Web Key Set to publish (public parts only)."""
        return {"keys": [{name: key[name] for name in _PUBLIC if name in key} for key in self.keys]}

    def verify(self, token: str, audience: str) -> dict[str, Any]:
        """The claims of an RS256 JWT one of these keys signed for `audience`, unexpired;
        `jwt.PyJWTError` naming what is wrong otherwise."""
        public = {key["kid"]: jwt.PyJWK(key, algorithm="RS256") for key in self.public()["keys"]}
        kid = str(jwt.get_unverified_header(token).get("kid") or "")
        if kid not in public:
            raise jwt.InvalidTokenError("signed by a key the tool no longer has")
        claims: dict[str, Any] = jwt.decode(token, public[kid].key, algorithms=["RS256"], audience=audience)
        return claims

    def sign(self, claims: Mapping[str, Any]) -> str:
        """An RS256 JWT of `claims`, signed by the current key, naming it by `kid`."""
        if not self.keys:
            raise InvalidRequest("the LTI tool has no key")
        current = self.keys[0]
        key = jwt.PyJWK(dict(current), algorithm="RS256")
        return jwt.encode(dict(claims), key.key, algorithm="RS256", headers={"kid": current["kid"]})
