"""OIDC login initiation and the launch (LTI 1.3 core, IMS Security Framework), checked in full:

- login: the platform's `iss` (and `client_id`, when it names one) must be registered; the tool keeps
  a fresh `state` and `nonce` (single use, `LTI_STATE_SECONDS`) and sends the browser to the
  platform's authorization endpoint;
- launch: the `state` must be one we issued and not yet used; the `id_token` must be an RS256 JWT
  signed by a key of the platform's JWKS, issued by it, for our client id (`azp` too when there are
  several audiences), unexpired, carrying our nonce, LTI version 1.3.0, a registered deployment id
  and a message type we handle.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt

from kollus_bridge.errors import Forbidden, InvalidRequest, NotFound
from kollus_bridge.kollus.values import holds_lone_surrogate

from .keys import ToolKeys
from .platforms import Login, LtiStore, Platform

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
RESOURCE_LINK = "LtiResourceLinkRequest"
DEEP_LINKING = "LtiDeepLinkingRequest"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
LINEITEM_READ_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
#: Clock skew allowed on the id_token's times, in seconds.
LEEWAY = 60

#: A platform's key for a `kid` (fetched from its JWKS URL, cached).
KeyFor = Callable[[Platform, str], Any]


@dataclass(frozen=True)
class Launch:
    """What a verified launch says."""

    platform: Platform
    message_type: str
    sub: str
    deployment_id: str
    claims: Mapping[str, Any] = field(repr=False)

    def claim(self, name: str) -> Any:
        return self.claims.get(CLAIM + name)

    @property
    def custom(self) -> Mapping[str, Any]:
        custom = self.claim("custom")
        return custom if isinstance(custom, dict) else {}

    @property
    def client_user_id(self) -> str:
        """The learner id: `<platform id>:<sub>`, or the launch's custom `client_user_id` when the
        platform's registration trusts it (`trust_client_user_id`: its administrator maps the LMS's
        own user ids in). Untrusted, a custom id is ignored: one platform cannot launch as another's
        learner."""
        given = self.custom.get("client_user_id") if self.platform.trust_client_user_id else None
        return str(given) if given else f"{self.platform.platform_id}:{self.sub}"

    def _text(self, claim: str, *names: str) -> str | None:
        """The first non-empty of `names` in an object claim (`context`, `resource_link`), as text."""
        found = self.claim(claim)
        values = [found.get(name) for name in names] if isinstance(found, dict) else []
        return next((str(value) for value in values if value), None)

    @property
    def context_id(self) -> str | None:
        return self._text("context", "id")

    @property
    def context_title(self) -> str | None:
        return self._text("context", "title", "label")

    def _ags(self) -> tuple[Mapping[str, Any], frozenset[str]]:
        """The launch's AGS endpoint claim and the scopes it grants (empty when it has none)."""
        endpoint = self.claims.get(AGS_CLAIM)
        if not isinstance(endpoint, dict):
            return {}, frozenset()
        scopes = endpoint.get("scope")
        return endpoint, frozenset(s for s in scopes if isinstance(s, str)) if isinstance(scopes, list) else frozenset()

    @property
    def lineitem(self) -> str | None:
        """The line item scores go to (AGS), when the platform gives one and lets us post scores."""
        endpoint, scopes = self._ags()
        lineitem = endpoint.get("lineitem")
        return lineitem if isinstance(lineitem, str) and lineitem and SCORE_SCOPE in scopes else None

    @property
    def lineitems(self) -> str | None:
        """The context's line items (AGS), when the launch names no line item of its own but lets us
        look one up (and, with the `lineitem` scope, create it) and post scores to it."""
        endpoint, scopes = self._ags()
        lineitems = endpoint.get("lineitems")
        if self.lineitem is not None or self.resource_link_id is None or SCORE_SCOPE not in scopes:
            return None
        if not scopes & {LINEITEM_SCOPE, LINEITEM_READ_SCOPE}:
            return None
        return lineitems if isinstance(lineitems, str) and lineitems else None

    @property
    def may_create_lineitem(self) -> bool:
        return LINEITEM_SCOPE in self._ags()[1]

    @property
    def resource_link_id(self) -> str | None:
        return self._text("resource_link", "id")

    @property
    def resource_link_title(self) -> str | None:
        return self._text("resource_link", "title")

    @property
    def deep_linking(self) -> Mapping[str, Any]:
        settings = self.claims.get(DL_CLAIM)
        return settings if isinstance(settings, dict) else {}


def _platform_for(store: LtiStore, issuer: str, client_id: str | None) -> Platform:
    candidates = [p for p in store.platforms_of(issuer) if client_id in {None, p.client_id}]
    if not candidates:
        raise NotFound(
            f"no LTI platform is registered for issuer {issuer[:200]!r}"
            + (f" and client id {client_id[:100]!r}" if client_id else "")
        )
    if len(candidates) > 1:
        raise InvalidRequest("several registrations share this issuer: the login must name its client_id")
    return candidates[0]


#: The audience of the login states we sign.
STATE_AUDIENCE = "kollus-lms-bridge/login"


def login(  # noqa: PLR0917 (the login's request, where it comes back, when, and what signs its state)
    params: Mapping[str, str], store: LtiStore, redirect_uri: str, now: int, ttl_seconds: int, keys: ToolKeys
) -> str:
    """Start the OIDC flow: where to send the browser (the platform's authorization endpoint). The
    state is signed, not stored: a login writes nothing, however many strangers start one."""
    missing = [name for name in ("iss", "login_hint", "target_link_uri") if not params.get(name)]
    if missing:
        raise InvalidRequest(f"an LTI login needs {', '.join(missing)}", field=missing[0])
    platform = _platform_for(store, params["iss"], params.get("client_id"))
    deployment = params.get("lti_deployment_id")
    if deployment and deployment not in platform.deployment_ids:
        raise Forbidden(
            f"deployment {deployment[:100]!r} is not registered for this platform", field="lti_deployment_id"
        )
    nonce = secrets.token_urlsafe(32)
    state = keys.sign({
        "aud": STATE_AUDIENCE, "exp": now // 1000 + ttl_seconds, "jti": secrets.token_urlsafe(16),
        "nonce": nonce, "platform_id": platform.platform_id,
    })  # fmt: skip
    query = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": redirect_uri,
        "login_hint": params["login_hint"],
        "state": state,
        "nonce": nonce,
    }
    if params.get("lti_message_hint"):
        query["lti_message_hint"] = params["lti_message_hint"]
    separator = "&" if "?" in platform.auth_login_url else "?"
    return platform.auth_login_url + separator + urlencode(query)


def read_state(state: str, keys: ToolKeys) -> Login:
    """The login a launch's `state` names: one we signed, unexpired; `Forbidden` otherwise."""
    try:
        claims = keys.verify(state, STATE_AUDIENCE)
        return Login(str(claims["jti"]), str(claims["nonce"]), str(claims["platform_id"]), int(claims["exp"]) * 1000)
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        raise Forbidden("unknown or expired state: start again from the LMS", field="state") from None


def use_state(pending: Login, store: LtiStore) -> None:
    """Mark a login used, so that no second launch can use it (the first write a launch makes, once
    the platform's signature on its id_token held)."""
    if not store.use_login(pending.state, pending.expires_at):
        raise Forbidden("this login was used already: start again from the LMS", field="state")


def verify(token: str, pending: Login, store: LtiStore, key_for: KeyFor) -> Launch:
    """Check a launch's id_token against the login it answers, in full; raise `Forbidden` naming
    what failed."""
    platform, claims = signed_claims(token, pending, store, key_for)
    return launch_of(platform, claims, pending)


def signed_claims(token: str, pending: Login, store: LtiStore, key_for: KeyFor) -> tuple[Platform, dict[str, Any]]:
    """The id_token's claims, once the login's platform is known to have signed it for us."""
    if not token:
        raise InvalidRequest("a launch carries an id_token", field="id_token")
    platform = store.get_platform(pending.platform_id)
    if platform is None:
        raise Forbidden("the platform of this login is no longer registered", field="state")
    try:
        header = jwt.get_unverified_header(token)
        key = key_for(platform, str(header.get("kid") or ""))
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=platform.client_id,
            issuer=platform.issuer,
            leeway=LEEWAY,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "nonce"]},
        )
    except jwt.PyJWTError as error:
        raise Forbidden(f"the id_token is not valid: {error}", field="id_token") from None
    return platform, claims


def launch_of(platform: Platform, claims: dict[str, Any], pending: Login) -> Launch:
    """The launch the platform signed, once it passes every rule of LTI 1.3 and of this login."""
    if holds_lone_surrogate(claims):  # a lone surrogate escape in a claim decodes to text nothing can store
        raise InvalidRequest("the id_token holds a lone UTF-16 surrogate escape", field="id_token")
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != platform.client_id:
        raise Forbidden("the id_token names several audiences and not us as its azp", field="id_token")
    if claims["nonce"] != pending.nonce:
        raise Forbidden("the id_token's nonce is not the one this login issued", field="id_token")
    if claims.get(CLAIM + "version") != "1.3.0":
        raise Forbidden("only LTI 1.3.0 launches are accepted", field="id_token")
    deployment = claims.get(CLAIM + "deployment_id")
    if deployment not in platform.deployment_ids:
        raise Forbidden(f"deployment {str(deployment)[:100]!r} is not registered for this platform", field="id_token")
    message_type = claims.get(CLAIM + "message_type")
    if message_type not in {RESOURCE_LINK, DEEP_LINKING}:
        raise InvalidRequest(f"message type {str(message_type)[:60]!r} is not handled", field="id_token")
    return Launch(platform, str(message_type), str(claims["sub"]), str(deployment), claims)
