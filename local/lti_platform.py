"""An LTI 1.3 platform (the LMS side) for the local stack and the tests, built on `lti1p3platform`
(PyPI), a platform implementation nobody here wrote: it builds the OIDC login and the signed launch
our tool receives, validates our client assertion against our published key set when it issues an
access token, validates our deep-linking response, and authenticates the scores we post and the
roster requests we make.

What is ours is only the HTTP around it, a gradebook (`local.lti_gradebook`) and the course's roster
(`local.lti_roster`). A user who starts a launch joins the course as a learner, unless dropped from it.

- `GET /start?user=<sub>&content=<key>` starts a resource-link launch (a learner opening the activity),
  `GET /start?user=<sub>&deep_link=1` a deep-linking request (an instructor adding activities);
  `&line_item=none` launches with no line item of its own, only the context's line items and leave to
  make one (`line_item=readonly`: to look them up only), as an ungraded link does;
- `GET /authorize`: the OIDC authorization endpoint: answers the launch form (auto-posted in a browser);
- `GET /roster?context=course-1&add=<user>&drop=<user>` adds (`&as=<client_user_id>` mapped in) and
  drops members, and answers the roster; `GET /memberships/<context>` is the membership service;
- `POST /token`, `GET /jwks`, `GET|POST /lineitems`, `POST /lineitems/<id>/scores`,
  `POST /deep-link-return`, `GET /gradebook`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request

from .lti_gradebook import Gradebook, Grades
from .lti_roster import PAGE_SIZE, Memberships, Roster

NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"

CLIENT_ID = "kollus-bridge-local"
DEPLOYMENT_ID = "1"
CONTEXT_ID = "course-1"
CONTEXT_TITLE = "Algorithms 101"


def message_hint(content: str, line_item: str = "given", client_user_id: str = "") -> str:
    """The `lti_message_hint` of a resource-link launch: the content, whether the launch names its
    line item (`given`), only the context's line items with leave to make one (`none`), or to look
    them up only (`readonly`), and a custom `client_user_id` the link's administrator mapped in."""
    return json.dumps({"content": content, "line_item": line_item, "client_user_id": client_user_id})


def _key_pair() -> tuple[str, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


#: The launch presentation claim (LTI 1.3 section 5.4.4), which carries the user's locale.
PRESENTATION = "https://purl.imsglobal.org/spec/lti/claim/launch_presentation"


class _Request(Request):
    def __init__(
        self, method: str, get: Mapping[str, Any], form: Mapping[str, Any], headers: Mapping[str, str], body: Any = None
    ) -> None:
        self.request = {
            "method": method,
            "form_data": dict(form),
            "get_data": dict(get),
            "headers": dict(headers),
            "content_type": headers.get("Content-Type"),
            "path": "",
            "json": body,
        }


class _Config(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: Any) -> None:
        self._registration = kwargs["registration"]

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        return self._registration


class _Login(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> str:
        return url


class _Launch(LTIAdvantageMessageLaunchAbstract):
    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return launch_data


class LtiPlatform(ThreadingHTTPServer):
    """The platform on 127.0.0.1; `tool_url` is the bridge's base URL."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], tool_url: str, quiet: bool = True) -> None:
        super().__init__(address, _Handler)
        self.quiet = quiet
        self.tool_url = tool_url.rstrip("/")
        self.private_key, self.public_key = _key_pair()
        self.gradebook = Gradebook()
        self.rosters = {CONTEXT_ID: Roster(CONTEXT_ID, CONTEXT_TITLE)}
        self.deep_links: list[list[dict[str, Any]]] = []
        self.tokens_issued = 0
        #: Whether the tool may have a token for the membership service (an LMS where the tool's
        #: registration leaves Names and Role Provisioning off refuses the scope).
        self.nrps_granted = True
        #: A status the membership service answers instead of the roster (a platform failing).
        self.roster_fault: int | None = None
        #: The membership service's requests (paths with their queries), in order.
        self.membership_urls: list[str] = []

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def registration(self) -> Registration:
        return (
            Registration()
            .set_iss(self.url)
            .set_client_id(CLIENT_ID)
            .set_deployment_id(DEPLOYMENT_ID)
            .set_oidc_login_url(self.tool_url + "/lti/login")
            .set_launch_url(self.tool_url + "/lti/launch")
            .set_deeplink_launch_url(self.tool_url + "/lti/launch")
            .set_tool_key_set_url(self.tool_url + "/.well-known/jwks.json")
            .set_platform_public_key(self.public_key)
            .set_platform_private_key(self.private_key)
        )

    def config(self) -> _Config:
        return _Config(registration=self.registration())

    def registration_body(self) -> dict[str, Any]:
        """What `PUT /v1/lti/platforms/{id}` takes for this platform."""
        return {
            "issuer": self.url,
            "client_id": CLIENT_ID,
            "auth_login_url": self.url + "/authorize",
            "token_url": self.url + "/token",
            "jwks_url": self.url + "/jwks",
            "deployment_ids": [DEPLOYMENT_ID],
            # Its lectures are the simulated ones of `make demo`, not uploads in the stand-in's catalog.
            "allow_unlisted_contents": True,
        }

    def start_url(  # noqa: PLR0917 (who, what, how, and in which language)
        self, user: str, content: str | None = None, deep_link: bool = False, line_item: str = "given", as_: str = "",
        locale: str = "",
    ) -> str:  # fmt: skip
        """Where a user starts a launch; `as_` puts a custom `client_user_id` into it, `locale` the
        launch presentation's locale into a deep-linking request."""
        query = {"user": user, **({"content": content} if content else {}), **({"as": as_} if as_ else {})}
        if deep_link:
            query["deep_link"] = "1"
        if locale:
            query["locale"] = locale
        if line_item != "given":
            query["line_item"] = line_item
        return f"{self.url}/start?{urlencode(query)}"

    def lineitem(self, content: str) -> str:
        return f"{self.url}/lineitems/{content}"

    def memberships_url(self, context: str = CONTEXT_ID) -> str:
        return f"{self.url}/memberships/{context}"

    @property
    def membership_requests(self) -> int:
        return len(self.membership_urls)

    def roster_url(self, context: str = CONTEXT_ID, add: str = "", drop: str = "", as_: str = "") -> str:
        """Where a member is added (`as_`: with the learner id a launch of theirs carries) or dropped,
        and the roster shown."""
        return f"{self.url}/roster?{urlencode({'context': context, 'add': add, 'drop': drop, 'as': as_})}"


class _Handler(BaseHTTPRequestHandler):
    server: LtiPlatform

    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.quiet:
            super().log_message(format, *args)

    def _answer(
        self, status: int, body: Any, content_type: str = "application/json", headers: Mapping[str, str] | None = None
    ) -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("content-length") or 0))

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {name: values[0] for name, values in parse_qs(parts.query).items()}
        if parts.path == "/jwks":
            self._answer(200, {"keys": self.server.registration().get_jwks()})
        elif parts.path == "/start":
            self._start(query)
        elif parts.path == "/authorize":
            self._authorize(query)
        elif parts.path == "/gradebook":
            self._answer(200, self.server.gradebook.latest())
        elif parts.path == "/roster":
            self._roster(query)
        elif parts.path.startswith("/memberships/"):
            self._memberships(parts.path.removeprefix("/memberships/"), query)
        elif parts.path == "/lineitems":
            service = self._grades("GET", query, None, ["lineitem", "lineitem.readonly"])
            answer = service.handle_resp(service.handle_get_lineitems)
            listed = answer.result["content"] if answer.result else {"message": answer.message}
            self._answer(answer.code, listed, answer.media_type)
        else:
            self._answer(404, {"error": "not found"})

    def _roster(self, query: Mapping[str, str]) -> None:
        roster = self.server.rosters.get(query.get("context", CONTEXT_ID))
        if roster is None:
            self._answer(404, {"error": "no such context"})
            return
        if query.get("add"):
            roster.add(query["add"], client_user_id=query.get("as", ""))
        if query.get("drop"):
            roster.drop(query["drop"])
        self._answer(200, {"context": roster.context_id, "members": roster.listing(None, with_messages=False)})

    def _memberships(self, context: str, query: Mapping[str, str]) -> None:
        """The membership service: lti1p3platform checks the token and pages; the next page's URL goes
        into the `Link` header, and the last page links the differences since now."""
        self.server.membership_urls.append(self.path)
        roster = self.server.rosters.get(context)
        if roster is None or self.server.roster_fault is not None:
            self._answer(self.server.roster_fault or 404, {"error": "the membership service is unavailable"})
            return
        since = roster.sequence
        size = min(int(query.get("limit") or 0) or PAGE_SIZE, PAGE_SIZE)
        asked = {**query, "page": int(query.get("page") or 1), "limit": size}
        request = _Request("GET", asked, {}, {"Authorization": self.headers.get("authorization", "")})
        service = Memberships(request, self.server.config(), self.server.memberships_url(context), roster)
        try:
            answer = service.handle_resp(service.handle_get_members)
        except Exception as error:  # lti1p3platform refuses a token it cannot verify with its own exception
            self._answer(401, {"error": f"invalid access token: {error}"})
            return
        if answer.code != 200 or not answer.result:
            self._answer(answer.code, {"error": answer.message})
            return
        container = dict(answer.result)
        following = container.pop("next", None)
        link = f'<{following}>; rel="next"' if following else ""
        if not following:
            differences = f"{self.server.memberships_url(context)}?{urlencode({'since': since})}"
            link = f'<{differences}>; rel="differences"'
        self._answer(200, container, answer.media_type or "application/json", {"link": link})

    def _start(self, query: Mapping[str, str]) -> None:
        user = query.get("user", "student-1")
        roster = self.server.rosters[CONTEXT_ID]
        if user in roster.dropped:
            self._answer(403, {"error": f"{user} is no longer a member of {CONTEXT_ID}"})
            return
        if not roster.holds(user):
            roster.add(user, client_user_id=query.get("as", ""))
        elif query.get("as"):
            roster.map(user, query["as"])
        wanted = message_hint(query.get("content", ""), query.get("line_item", "given"), query.get("as", ""))
        hint = f"deep-link:{query.get('locale', '')}" if query.get("deep_link") else wanted
        login = _Login(_Request("GET", query, {}, {}), self.server.config())
        login.set_lti_message_hint(hint=hint)
        if query.get("deep_link"):
            login.set_deeplinking_launch_url()
        self._answer(302, "", "text/plain", {"location": login.initiate_login(query.get("user", "student-1"))})

    def _authorize(self, query: Mapping[str, str]) -> None:
        config = self.server.config()
        launch = _Launch(_Request("GET", query, {}, {}), config)
        user = query.get("login_hint", "student-1")
        hint = query.get("lti_message_hint", "")
        roster = self.server.rosters[CONTEXT_ID]
        launch.set_user_data(user, roster.roles(user), full_name=user)
        launch.set_launch_context_claim(CONTEXT_ID, context_title=CONTEXT_TITLE)
        launch.set_nrps(self.server.memberships_url(CONTEXT_ID))
        if hint.startswith("deep-link:"):
            launch.set_dl(self.server.url + "/deep-link-return", title="Kollus videos", extra_data={"state": "kept"})
            if locale := hint.removeprefix("deep-link:"):  # as Moodle and Canvas say the user's language
                launch.set_extra_claims({PRESENTATION: {"document_target": "iframe", "locale": locale}})
        else:
            wanted = json.loads(hint)
            content, line_item = str(wanted["content"]), str(wanted["line_item"])
            link = "link-" + content
            launch.set_resource_link_claim(link, title=f"Watch {content}")
            mapped = {"client_user_id": wanted["client_user_id"]} if wanted.get("client_user_id") else {}
            launch.set_custom_parameters_claim({"media_content_key": content, **mapped})
            lineitems = self.server.url + "/lineitems"
            if line_item == "given":
                given = self.server.lineitem(content)
                self.server.gradebook.keep_lineitem(
                    {"id": given, "scoreMaximum": 100, "label": content, "resourceId": content, "resourceLinkId": link}
                )
                launch.set_ags(lineitems, given, allow_creating_lineitems=False)
            else:
                launch.set_ags(lineitems, None, allow_creating_lineitems=line_item == "none")
        data = launch.lti_launch()
        form = "".join(f'<input type="hidden" name="{name}" value="{data[name]}">' for name in ("id_token", "state"))
        page = (
            f'<!doctype html><form id="launch" method="post" action="{data["launch_url"]}">{form}'
            '<button type="submit">Launch</button></form><script>document.getElementById("launch").submit()</script>'
        )
        self._answer(200, page, "text/html; charset=utf-8")

    def _grades(self, method: str, query: Mapping[str, str], body: Any, scopes: list[str]) -> Grades:
        """The AGS service for this request, asking for `scopes` (their names after the AGS prefix)."""
        headers = {"Authorization": self.headers.get("authorization", "")}
        request = _Request(method, query, {}, headers, body)
        return Grades(request, self.server.config(), self.server.url + "/lineitems", self.server.gradebook, scopes)

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        body = self._body()
        form = {name: values[0] for name, values in parse_qs(body.decode()).items()}
        config = self.server.config()
        if parts.path == "/token":
            if not self.server.nrps_granted and NRPS_SCOPE in form.get("scope", "").split():
                self._answer(400, {"error": "invalid_scope", "error_description": "NRPS is not enabled for this tool"})
                return
            try:
                token = config.get_access_token(form)
            except Exception as error:  # the library refuses with its own exceptions
                self._answer(400, {"error": "invalid_client", "error_description": str(error)})
                return
            self.server.tokens_issued += 1
            self._answer(200, token)
        elif parts.path.startswith("/lineitems/") and parts.path.endswith("/scores"):
            line_item = parts.path.removeprefix("/lineitems/").removesuffix("/scores")
            service = self._grades("POST", {}, json.loads(body or b"{}"), ["score"])
            service.ags.lineitem_url = self.server.lineitem(line_item)
            answer = service.handle_resp(service.handle_update_score, line_item_id=self.server.lineitem(line_item))
            self._answer(answer.code, {"message": answer.message})
        elif parts.path == "/lineitems":
            service = self._grades("POST", {}, json.loads(body or b"{}"), ["lineitem"])
            answer = service.handle_resp(service.handle_create_lineitem)
            self._answer(answer.code, answer.result or {"message": answer.message}, answer.media_type)
        elif parts.path == "/deep-link-return":
            try:
                items = config.validate_deeplinking_resp({"JWT": form.get("JWT", "")})
            except Exception as error:
                self._answer(400, {"error": str(error)})
                return
            self.server.deep_links.append(items)
            self._answer(200, {"content_items": items})
        else:
            self._answer(404, {"error": "not found"})


def wait_for_scores(platform: LtiPlatform, count: int, timeout: float = 30.0) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        latest = platform.gradebook.latest()
        if len(latest) >= count:
            return latest
        time.sleep(0.1)
    return platform.gradebook.latest()
