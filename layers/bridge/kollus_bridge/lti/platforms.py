"""LTI platforms (LMSs) registered with the tool, and what the tool needs from storage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Platform:
    """A platform registration: who it is (`issuer`, our `client_id` there) and its endpoints."""

    platform_id: str
    issuer: str
    client_id: str
    auth_login_url: str
    token_url: str
    jwks_url: str
    deployment_ids: tuple[str, ...]
    updated_at: int = 0


@dataclass(frozen=True)
class Login:
    """An OIDC login waiting for its launch: the state names it, the nonce must come back signed."""

    state: str
    nonce: str
    platform_id: str
    expires_at: int  # epoch ms


class LtiStore(Protocol):
    def get_platform(self, platform_id: str) -> Platform | None: ...

    def platforms_of(self, issuer: str) -> Sequence[Platform]: ...

    def put_login(self, login: Login) -> None: ...

    def take_login(self, state: str) -> Login | None: ...
