"""What the LTI routes do: register platforms, answer a launch (a resource link plays its content; a
deep-linking request lists contents to pick), and build the deep-linking response."""

from __future__ import annotations

import html
import time
from collections.abc import Mapping, Sequence
from typing import Annotated, Any
from urllib.parse import urlsplit

import jwt
from pydantic import BaseModel, ConfigDict, Field

from kollus_bridge.access.ports import Course
from kollus_bridge.analytics.page import STYLE_HASH, document
from kollus_bridge.analytics.words import LANGUAGES
from kollus_bridge.delivery.ledger import Link, Target
from kollus_bridge.errors import Forbidden, InvalidRequest
from kollus_bridge.lti import deep_linking
from kollus_bridge.lti.keys import ToolKeys
from kollus_bridge.lti.launch import Launch
from kollus_bridge.lti.platforms import Platform
from kollus_bridge.lti.roster import Roster, launch_enrolment, memberships_url
from kollus_bridge.settings import Settings
from kollus_bridge.store.dynamo import DynamoStore
from kollus_bridge.xapi.statements import registration

from .models import example
from .picker import https_or_loopback

#: An http(s) URL of printable ASCII (one pattern that JSON Schema's and Python's regexes read alike).
_URL = Field(min_length=8, max_length=2048, pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?][!-~]*)?$")
#: How long an instructor has to pick contents after a deep-linking launch, in seconds.
PICK_SECONDS = 1800


#: A registration, as Moodle's tool details show it.
REGISTRATION: dict[str, Any] = {
    "issuer": "https://moodle.example.com",
    "client_id": "Xq3Lr0VJ1xP5aBc",
    "auth_login_url": "https://moodle.example.com/mod/lti/auth.php",
    "token_url": "https://moodle.example.com/mod/lti/token.php",
    "jwks_url": "https://moodle.example.com/mod/lti/certs.php",
    "deployment_ids": ["3"],
}


class PlatformInput(BaseModel):
    """A platform registration (from the LMS's tool settings)."""

    model_config = ConfigDict(extra="forbid", strict=True) | example(REGISTRATION)

    issuer: str = _URL
    client_id: str = Field(min_length=1, max_length=256)
    auth_login_url: str = _URL
    token_url: str = _URL
    jwks_url: str = _URL
    deployment_ids: list[Annotated[str, Field(min_length=1, max_length=256)]] = Field(min_length=1, max_length=100)
    trust_client_user_id: bool = Field(
        default=False,
        description="Take a launch's custom client_user_id as the learner id (else <platform_id>:<sub>).",
    )
    allow_unlisted_contents: bool = Field(
        default=False, description="Launch a custom media_content_key the catalog does not list."
    )


class PlatformOut(BaseModel):
    model_config = example({"platform_id": "moodle", **REGISTRATION})

    platform_id: str
    issuer: str
    client_id: str
    auth_login_url: str
    token_url: str
    jwks_url: str
    deployment_ids: list[str]
    trust_client_user_id: bool = False
    allow_unlisted_contents: bool = False


class PlatformPage(BaseModel):
    model_config = example({"items": [{"platform_id": "moodle", **REGISTRATION}]})

    items: list[PlatformOut]


class KeySet(BaseModel):
    """The tool's public keys (JSON Web Key Set)."""

    model_config = ConfigDict(extra="allow") | example(
        {
            "keys": [
                {
                    "kty": "RSA",
                    "n": "0vx7agoebGcQSuuPiLJXZptN...",
                    "e": "AQAB",
                    "kid": "NzbLsXh8uDCcd",
                    "alg": "RS256",
                    "use": "sig",
                }
            ]
        }
    )

    keys: list[dict[str, Any]]


def platform_json(platform: Platform) -> PlatformOut:
    return PlatformOut(
        platform_id=platform.platform_id,
        issuer=platform.issuer,
        client_id=platform.client_id,
        auth_login_url=platform.auth_login_url,
        token_url=platform.token_url,
        jwks_url=platform.jwks_url,
        deployment_ids=list(platform.deployment_ids),
        trust_client_user_id=platform.trust_client_user_id,
        allow_unlisted_contents=platform.allow_unlisted_contents,
    )


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def frame_ancestors(platform: Platform) -> str:
    """The platform's own origins: where the tool's pages may be framed."""
    return " ".join(dict.fromkeys(origin(url) for url in (platform.issuer, platform.auth_login_url)))


def course_of(launch: Launch) -> str:
    """The course a launch's context is kept as (`lti:<platform>:<context>`)."""
    return f"lti:{launch.platform.platform_id}:{launch.context_id or 'no-context'}"


def join_course(store: DynamoStore, course_id: str, title: str, contents: Sequence[str], now: int) -> None:
    """Make the course when there is none, and add to it the contents it does not hold yet."""
    course = store.get_course(course_id)
    held = course.media_content_keys if course else ()
    missing = [content for content in dict.fromkeys(contents) if content not in held]
    if course is None or missing:
        kept_title = course.title if course else title[:256]
        store.put_course(Course(course_id, kept_title, (*held, *missing), now, course.max_devices if course else None))


def keep_context(launch: Launch, store: DynamoStore, now: int, contents: Sequence[str] = ()) -> str:
    """The course of a launch's context, made or updated: it holds `contents`, and its roster is kept
    where the launch names its membership service (a new roster is synced at once). The course id."""
    course_id = course_of(launch)
    join_course(store, course_id, launch.context_title or course_id, contents, now)
    if launch.context_id is not None:
        found = Roster(
            course_id,
            launch.platform.platform_id,
            launch.context_id,
            memberships_url=memberships_url(launch.claims),
            resource_link_id=launch.resource_link_id,
        )
        store.note_launch(found, now)
    return course_id


def admit(launch: Launch, content: str, settings: Settings, store: DynamoStore, now: int) -> str:
    """Record a resource-link launch: the context's course holds the content and the learner may play
    it at least until the playback URL expires (an enrolment the roster keeps is left as it is); the
    learner's AGS line item (or, when the launch names none, where to look it up) and xAPI registration
    are kept on their deliveries (and a completion they already have is passed back). The learner id."""
    learner = launch.client_user_id
    course_id = keep_context(launch, store, now, [content])
    until = now + settings.lti_playback_expires_in * 1000
    granted = launch_enrolment(store.enrolments_of(learner), course_id, learner, now, until)
    if granted is not None:
        store.put_enrolments([granted])
    lineitems = launch.lineitems
    targets = [Target.AGS] if launch.lineitem or lineitems else []
    if settings.xapi_lrs_url is not None:
        targets.append(Target.XAPI)
    if targets:
        kept = Link(
            launch.platform.platform_id,
            launch.sub,
            launch.lineitem,
            launch.context_id,
            registration(launch.platform.platform_id, launch.context_id, content),
            lineitems=lineitems,
            resource_link_id=launch.resource_link_id if lineitems else None,
            resource_link_title=launch.resource_link_title if lineitems else None,
            create_lineitem=bool(lineitems) and launch.may_create_lineitem,
        )
        store.put_link(learner, content, targets, kept)
        record = store.get_stored(learner, content)
        if record is not None:
            store.fan_out(record, targets, now)
    return learner


def session_token(launch: Launch, keys: ToolKeys, now_seconds: int) -> str:
    """What the picking page carries back: the deep-linking request's essentials, signed by us."""
    claims = {
        "iss": "kollus-lms-bridge",
        "aud": "kollus-lms-bridge/deep-link",
        "exp": now_seconds + PICK_SECONDS,
        "platform_id": launch.platform.platform_id,
        "deployment_id": launch.deployment_id,
        "return_url": str(launch.deep_linking.get("deep_link_return_url") or ""),
        "course_id": course_of(launch),
        "data": launch.deep_linking.get("data"),
        "lang": launch_language(launch),
    }
    if not claims["return_url"]:
        raise InvalidRequest("the deep-linking request names no deep_link_return_url", field="id_token")
    if not return_url_allowed(str(claims["return_url"])):
        refused = "deep_link_return_url must be an https URL (http only on loopback)"
        raise InvalidRequest(refused, field="id_token")
    return keys.sign(claims)


def launch_language(launch: Launch) -> str | None:
    """`ko` or `en` from the launch's presentation locale (`ko-KR`, `en_US`), else None."""
    presentation = launch.claim("launch_presentation")
    locale = str(presentation.get("locale") or "") if isinstance(presentation, dict) else ""
    code = locale[:2].lower()
    return code if code in LANGUAGES else None


def return_url_allowed(url: str) -> bool:
    """Where a deep-linking response may be posted: https, or http to this machine (a local platform);
    never `javascript:` or another scheme a browser would run."""
    return https_or_loopback(url)


def read_session(token: str, keys: ToolKeys) -> Mapping[str, Any]:
    try:
        claims = keys.verify(token, "kollus-lms-bridge/deep-link")
    except jwt.PyJWTError as error:
        raise Forbidden(
            f"the picking session is not valid (start again from the LMS): {error}", field="session"
        ) from None
    return claims


RESPONSE_WORDS = {
    "en": {"title": "Kollus videos", "chosen": "{n} video(s) chosen.", "add": "Add to the course"},
    "ko": {"title": "Kollus 동영상", "chosen": "동영상 {n}개를 골랐습니다.", "add": "강의실에 추가"},
}


def response_page(  # noqa: PLR0917 (to whom, for which request, what, signed how, launched where, in which language)
    platform: Platform, session: Mapping[str, Any], choices: Sequence[tuple[str, str]], keys: ToolKeys,
    launch_url: str, lang: str = "en",
) -> tuple[str, str]:  # fmt: skip
    """The page that posts the signed response back to the platform, and its CSP."""
    claims = deep_linking.response_claims(
        platform, str(session["deployment_id"]), session.get("data"), choices, launch_url, int(time.time())
    )
    token = keys.sign(claims)
    target = html.escape(str(session["return_url"]), quote=True)
    words = RESPONSE_WORDS[lang]
    titles = "".join(f"<li>{html.escape(title)}</li>" for _, title in choices)
    body = (
        f'<h1>{words["title"]}</h1><form method="post" action="{target}"><input type="hidden" name="JWT" '
        f'value="{token}"><p>{words["chosen"].format(n=len(choices))}</p><ul>{titles}</ul>'
        f'<p><button type="submit">{words["add"]}</button></p></form>'
    )
    back = origin(str(session["return_url"]))
    csp = (
        f"default-src 'none'; style-src 'sha256-{STYLE_HASH}'; base-uri 'none'; form-action {back}; "
        f"frame-ancestors {frame_ancestors(platform)}"
    )
    return document(words["title"], body, lang), csp
