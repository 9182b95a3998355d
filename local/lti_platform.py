"""An LTI 1.3 platform (the LMS side) for the local stack and the tests, built on `lti1p3platform`
(PyPI), a platform implementation nobody here wrote: it builds the OIDC login and the signed launch
our tool receives, validates our client assertion against our published key set when it issues an
access token, validates our deep-linking response, and authenticates the scores we post.

What is ours is only the HTTP around it and a gradebook: scores are kept per learner and line item,
and a score whose timestamp is not later than the last one kept is refused with 409, as Moodle does.

- `GET /start?user=<sub>&content=<key>` starts a resource-link launch (a learner opening the activity),
  `GET /start?user=<sub>&deep_link=1` a deep-linking request (an instructor adding activities);
- `GET /authorize`: the OIDC authorization endpoint: answers the launch form (auto-posted in a browser);
- `POST /token`, `GET /jwks`, `POST /lineitems/<id>/scores`, `POST /deep-link-return`, `GET /gradebook`.
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
    """Scores per (learner, line item), in the order accepted."""

    scores: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def accept(self, lineitem: str, score: Mapping[str, Any]) -> UpdateScoreStatus:
        key = (str(score["userId"]), lineitem)
        with self.lock:
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
    def __init__(self, request: Request, config: _Config, lineitems: str, book: Gradebook) -> None:
        super().__init__(request, config, lineitems)
        self.book = book

    def update_score(self, line_item_id: str, score: Any) -> UpdateScoreStatus:
        return self.book.accept(line_item_id, score)

    def find_lineitems(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def find_lineitem(self, line_item_id: str) -> Any:
        raise NotImplementedError

    def create_lineitem(self, creation_data: Any) -> Any:
        raise NotImplementedError

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
        }

    def start_url(self, user: str, content: str | None = None, deep_link: bool = False) -> str:
        query = {"user": user, **({"content": content} if content else {})}
        if deep_link:
            query["deep_link"] = "1"
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
        else:
            self._answer(404, {"error": "not found"})

    def _start(self, query: Mapping[str, str]) -> None:
        hint = "deep-link" if query.get("deep_link") else "content:" + query.get("content", "")
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
            content = hint.removeprefix("content:")
            launch.set_resource_link_claim("link-" + content, title=content)
            launch.set_custom_parameters_claim({"media_content_key": content})
            lineitems = self.server.url + "/lineitems"
            launch.set_ags(lineitems, self.server.lineitem(content), allow_creating_lineitems=False)
        data = launch.lti_launch()
        form = "".join(f'<input type="hidden" name="{name}" value="{data[name]}">' for name in ("id_token", "state"))
        page = (
            f'<!doctype html><form id="launch" method="post" action="{data["launch_url"]}">{form}'
            '<button type="submit">Launch</button></form><script>document.getElementById("launch").submit()</script>'
        )
        self._answer(200, page, "text/html; charset=utf-8")

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
            headers = {"Authorization": self.headers.get("authorization", "")}
            request = _Request("POST", {}, {}, headers, json.loads(body or b"{}"))
            service = _Grades(request, config, self.server.url + "/lineitems", self.server.gradebook)
            service.ags.lineitem_url = self.server.lineitem(line_item)
            answer = service.handle_resp(service.handle_update_score, line_item_id=self.server.lineitem(line_item))
            self._answer(answer.code, {"message": answer.message})
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
