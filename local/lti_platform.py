"""An LTI 1.3 platform (the LMS side) for the local stack and the tests, built on `lti1p3platform`
(PyPI), a platform implementation nobody here wrote: it builds the OIDC login and the signed launch
our tool receives, validates our client assertion against our published key set when it issues an
access token, validates our deep-linking response, and authenticates the scores we post.

What is ours is only the HTTP around it and a gradebook: line items (one per launched content, or
made by the tool), scores kept per learner and line item, a score to an unknown line item refused
with 404, and a score whose timestamp is not later than the last one kept refused with 409, as Moodle
does. Each service asks for its own scope, as Moodle does: scores `score`, looking up line items
`lineitem` or `lineitem.readonly`, making them `lineitem`.

- `GET /start?user=<sub>&content=<key>` starts a resource-link launch (a learner opening the activity),
  `GET /start?user=<sub>&deep_link=1` a deep-linking request (an instructor adding activities);
  `&line_item=none` launches with no line item of its own, only the context's line items and leave to
  make one (`line_item=readonly`: to look them up only), as an ungraded link does;
- `GET /authorize`: the OIDC authorization endpoint: answers the launch form (auto-posted in a browser);
- `POST /token`, `GET /jwks`, `GET|POST /lineitems`, `POST /lineitems/<id>/scores`,
  `POST /deep-link-return`, `GET /gradebook`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lti1p3platform.exceptions import LineItemNotFoundException
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request
from lti1p3platform.score import UpdateScoreStatus
from lti1p3platform.service_connector import AssignmentsGradesService

CLIENT_ID = "kollus-bridge-local"
DEPLOYMENT_ID = "1"
CONTEXT_ID = "course-1"
AGS_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/"


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


@dataclass
class Gradebook:
    """Line items, and scores per (learner, line item) in the order accepted."""

    lineitems: dict[str, dict[str, Any]] = field(default_factory=dict)
    scores: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    refused: int = 0
    made: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def keep_lineitem(self, lineitem: Mapping[str, Any]) -> None:
        with self.lock:
            self.lineitems.setdefault(str(lineitem["id"]), dict(lineitem))

    def make_lineitem(self, base: str, wanted: Mapping[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.made += 1
            lineitem = {**wanted, "id": f"{base}/made-{self.made}"}
            self.lineitems[lineitem["id"]] = lineitem
            return lineitem

    def find_lineitems(self, resource_link_id: str | None, resource_id: str | None) -> list[dict[str, Any]]:
        with self.lock:
            return [
                dict(item)
                for item in self.lineitems.values()
                if resource_link_id in {None, item.get("resourceLinkId")}
                and resource_id in {None, item.get("resourceId")}
            ]

    def accept(self, lineitem: str, score: Mapping[str, Any]) -> UpdateScoreStatus:
        key = (str(score["userId"]), lineitem)
        with self.lock:
            if lineitem not in self.lineitems:
                raise LineItemNotFoundException()
            kept = self.scores.setdefault(key, [])
            if kept and _seconds(score["timestamp"]) <= _seconds(kept[-1]["timestamp"]):
                self.refused += 1
                return UpdateScoreStatus.OLD_TIMESTAMP
            kept.append(dict(score))
            return UpdateScoreStatus.SUCCESS if len(kept) > 1 else UpdateScoreStatus.CREATED

    def latest(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            return {f"{user}@{item}": scores[-1] for (user, item), scores in self.scores.items()}


def _seconds(timestamp: str) -> int:
    """Whole seconds of an ISO-8601 time (Moodle compares scores' timestamps in seconds)."""
    return int(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp())


class _Grades(AssignmentsGradesService):
    """The gradebook behind lti1p3platform's AGS service, which checks each request's access token
    for `scopes` (the ones the operation needs)."""

    def __init__(self, request: Request, config: _Config, lineitems: str, book: Gradebook, scopes: list[str]) -> None:
        super().__init__(request, config, lineitems)
        self.book = book
        self.scopes = [AGS_SCOPE + scope for scope in scopes]

    @property
    def allowed_scopes(self) -> list[str]:
        return self.scopes

    def update_score(self, line_item_id: str, score: Any) -> UpdateScoreStatus:
        return self.book.accept(line_item_id, score)

    def find_lineitems(  # noqa: PLR0917 (lti1p3platform's signature)
        self,
        page: int = 1,
        limit: int | None = None,
        line_item_id: str | None = None,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
    ) -> Any:
        return {"content": self.book.find_lineitems(resource_link_id, resource_id), "has_next": False}

    def find_lineitem(self, line_item_id: str) -> Any:
        raise NotImplementedError

    def create_lineitem(self, creation_data: Any) -> Any:
        return self.book.make_lineitem(self.ags.lineitems_url or "", creation_data)

    def update_lineitem(self, update_data: Any) -> Any:
        raise NotImplementedError

    def delete_lineitem(self, line_item_id: str) -> None:
        raise NotImplementedError

    def get_results(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError


class LtiPlatform(ThreadingHTTPServer):
    """The platform on 127.0.0.1; `tool_url` is the bridge's base URL."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], tool_url: str, quiet: bool = True) -> None:
        super().__init__(address, _Handler)
        self.quiet = quiet
        self.tool_url = tool_url.rstrip("/")
        self.private_key, self.public_key = _key_pair()
        self.gradebook = Gradebook()
        self.deep_links: list[list[dict[str, Any]]] = []
        self.tokens_issued = 0

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

    def start_url(
        self, user: str, content: str | None = None, deep_link: bool = False, line_item: str = "given", as_: str = ""
    ) -> str:
        """Where a user starts a launch; `as_` puts a custom `client_user_id` into it."""
        query = {"user": user, **({"content": content} if content else {}), **({"as": as_} if as_ else {})}
        if deep_link:
            query["deep_link"] = "1"
        if line_item != "given":
            query["line_item"] = line_item
        return f"{self.url}/start?{urlencode(query)}"

    def lineitem(self, content: str) -> str:
        return f"{self.url}/lineitems/{content}"


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
        elif parts.path == "/lineitems":
            service = self._grades("GET", query, None, ["lineitem", "lineitem.readonly"])
            answer = service.handle_resp(service.handle_get_lineitems)
            listed = answer.result["content"] if answer.result else {"message": answer.message}
            self._answer(answer.code, listed, answer.media_type)
        else:
            self._answer(404, {"error": "not found"})

    def _start(self, query: Mapping[str, str]) -> None:
        wanted = message_hint(query.get("content", ""), query.get("line_item", "given"), query.get("as", ""))
        hint = "deep-link" if query.get("deep_link") else wanted
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
        launch.set_user_data(user, ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"], full_name=user)
        launch.set_launch_context_claim(CONTEXT_ID, context_title="Algorithms 101")
        if hint == "deep-link":
            launch.set_dl(self.server.url + "/deep-link-return", title="Kollus videos", extra_data={"state": "kept"})
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

    def _grades(self, method: str, query: Mapping[str, str], body: Any, scopes: list[str]) -> _Grades:
        """The AGS service for this request, asking for `scopes` (their names after the AGS prefix)."""
        headers = {"Authorization": self.headers.get("authorization", "")}
        request = _Request(method, query, {}, headers, body)
        return _Grades(request, self.server.config(), self.server.url + "/lineitems", self.server.gradebook, scopes)

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        body = self._body()
        form = {name: values[0] for name, values in parse_qs(body.decode()).items()}
        config = self.server.config()
        if parts.path == "/token":
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
