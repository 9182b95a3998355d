"""LTI platforms (LMSs) registered with the tool, and what the tool needs from storage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol
from urllib.parse import urlsplit


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
    #: Take a launch's custom `client_user_id` as the learner id (the platform maps its own ids in);
    #: otherwise a learner is `<platform id>:<sub>`, so no platform can launch as another's learner.
    trust_client_user_id: bool = False
    #: Launch contents the catalog does not list (a custom `media_content_key` named by hand).
    allow_unlisted_contents: bool = False

    def owns(self, url: str) -> bool:
        """Whether `url` is on one of the hosts this registration names: a line item URL from a launch
        must be, so a launch cannot send our bearer token, and a score, anywhere else."""
        named = (self.issuer, self.auth_login_url, self.token_url, self.jwks_url)
        hosts = {urlsplit(known).hostname for known in named}
        parts = urlsplit(url)
        return parts.scheme in ("https", "http") and parts.hostname is not None and parts.hostname in hosts


@dataclass(frozen=True)
class Login:
    """An OIDC login waiting for its launch: `state` names it (the signed state's id), the nonce must
    come back signed."""

    state: str
    nonce: str
    platform_id: str
    expires_at: int  # epoch ms


class LtiStore(Protocol):
    def get_platform(self, platform_id: str) -> Platform | None: ...

    def platforms_of(self, issuer: str) -> Sequence[Platform]: ...

    def use_login(self, state_id: str, expires_at: int) -> bool: ...


class LinePlace(NamedTuple):
    """Whose line item: a platform's resource link, for the content it launches."""

    platform_id: str
    resource_link_id: str
    media_content_key: str


class LineItemStore(Protocol):
    """The line items found or made for resource links whose launches named none, and the claim that
    lets one delivery at a time find or make one (so a link never gets two)."""

    def get_lineitem(self, place: LinePlace) -> str | None: ...

    def claim_lineitem(self, place: LinePlace, owner: str, now: int, until: int) -> bool: ...

    def put_lineitem(self, place: LinePlace, lineitem: str) -> None: ...

    def release_lineitem(self, place: LinePlace, owner: str) -> None: ...

    def forget_lineitem(self, place: LinePlace, lineitem: str) -> None: ...
