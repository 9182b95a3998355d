"""A simulated Kollus player against a running stack: it does what the real player does with our URLs.

1. The LMS asks the bridge for a playback URL (`POST /v1/playback-urls`); the URL carries the
   uservalues, the session nonce among them.
2. The player asks the play callback before it plays (kind 1), then for the final approval (kind 3),
   and reads the HS256 JWT answer (checked with the Kollus security key, as Kollus does). A refusal
   ends here, with the message a learner would see.
3. It plays a script (by default the whole content once) and posts the LMS callbacks
   (`local/simulator.py` builds them) to the callback URL, with the uservalues in its query string, as
   a console template that names them sends them.

    .venv/bin/python -m local.player learner-1 lecture-1 [--device phone] [--speed 2]
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import urllib3

from .simulator import Content, Play, Report, Session, play_session
from .stack import LOCAL_DEFAULTS

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass
class PlayerRun:
    """What happened: the play callback's answers, and the bridge's answer to each progress callback."""

    approvals: list[dict[str, Any]] = field(default_factory=list)
    refused: str | None = None
    progress: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Bridge:
    url: str
    api_token: str = LOCAL_DEFAULTS["API_TOKEN"]
    callback_token: str = LOCAL_DEFAULTS["KOLLUS_CALLBACK_TOKEN"]
    play_token: str = LOCAL_DEFAULTS["KOLLUS_PLAY_CALLBACK_TOKEN"]
    drm_token: str = LOCAL_DEFAULTS["KOLLUS_DRM_CALLBACK_TOKEN"]
    security_key: str = LOCAL_DEFAULTS["KOLLUS_SECURITY_KEY"]
    http: urllib3.PoolManager = field(default_factory=lambda: urllib3.PoolManager(timeout=30.0, retries=False))

    def callback_url(self, route: str = "") -> str:
        """A callback door's URL (`""` the LMS callback, `/play`, `/drm`), each with its own token."""
        token = {"": self.callback_token, "/play": self.play_token, "/drm": self.drm_token}[route]
        return f"{self.url}/callbacks/kollus/{token}{route}"

    def api(self, method: str, path: str, body: dict[str, Any]) -> Any:
        """One LMS API call with a JSON body; its JSON answer, or RuntimeError naming the refusal."""
        headers = {"Authorization": f"Bearer {self.api_token}", "Content-Type": "application/json"}
        answer = self.http.request(method, self.url + path, body=json.dumps(body).encode(), headers=headers)
        if answer.status >= 300:
            raise RuntimeError(f"{method} {path}: {answer.status} {answer.data.decode(errors='replace')}")
        return answer.json()

    def playback_uservalues(self, learner: str, content: str) -> dict[str, str]:
        """The uservalues of a new playback URL (the LMS's step)."""
        issued = self.api("POST", "/v1/playback-urls", {"client_user_id": learner, "media_content_key": content})
        query = parse_qs(urlsplit(issued["url"]).query)
        return {name: values[0] for name, values in query.items() if name.startswith("uservalue")}

    def ask(self, kind: int, session: Session) -> dict[str, Any]:
        """The play callback's answer (its JWT's `data`), checked as the player checks it."""
        fields = {
            "kind": str(kind),
            "client_user_id": session.client_user_id,
            "media_content_key": session.content.media_content_key,
            "player_id": session.player_id,
            "device_name": "PC",
            "uservalues": json.dumps(session.uservalues),
        }
        answer = self.http.request("POST", self.callback_url("/play"), body=urlencode(fields).encode(), headers=FORM)
        if answer.status != 200:
            raise RuntimeError(f"the play callback answered {answer.status}: {answer.data.decode(errors='replace')}")
        data: dict[str, Any] = jwt.decode(answer.data, self.security_key, algorithms=["HS256"])["data"]
        return data

    def report(self, report: Report, device: str | None = None) -> dict[str, Any]:
        """Post one LMS callback (as from `device`, e.g. `mobile`, when given)."""
        url = self.callback_url() + "?" + urlencode(report.session.uservalues)
        document = report.json_data()
        if device:
            document["user_info"] = {**document["user_info"], "device": device}  # type: ignore[dict-item]
        body = urlencode({"json_data": json.dumps(document, separators=(",", ":"))}).encode()
        answer = self.http.request("POST", url, body=body, headers=FORM)
        result: dict[str, Any] = answer.json()
        return result


def open_url(bridge: Bridge, url: str) -> tuple[str, str, dict[str, str]]:
    """What the player reads from a playback URL (an LTI launch's, say): the learner and content from
    its JWT (checked with the security key, as Kollus does), and the uservalues it carries."""
    query = parse_qs(urlsplit(url).query)
    claims = jwt.decode(query["jwt"][0], bridge.security_key, algorithms=["HS256"])
    uservalues = {name: values[0] for name, values in query.items() if name.startswith("uservalue")}
    return str(claims["cuid"]), str(claims["mc"][0]["mckey"]), uservalues


def launch(bridge: Bridge, start_url: str) -> str:
    """Follow an LTI launch as the learner's browser does, from the LMS's link to the playback URL
    the bridge answers with: the LMS's login initiation, the bridge's redirect to the LMS's
    authorization endpoint, the LMS's launch form, posted to the bridge."""
    url = start_url
    for _ in range(5):
        answer = bridge.http.request("GET", url, redirect=False)
        if answer.status in {301, 302, 303}:
            url = answer.headers["location"]
            continue
        if answer.status != 200:
            raise RuntimeError(f"GET {url}: {answer.status} {answer.data.decode(errors='replace')[:300]}")
        page = answer.data.decode()
        action = re.search(r'action="([^"]+)"', page)
        fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page))
        if action is None or "id_token" not in fields:
            raise RuntimeError(f"GET {url}: no launch form in the answer")
        posted = bridge.http.request(
            "POST", html.unescape(action.group(1)), body=urlencode(fields).encode(), headers=FORM, redirect=False
        )
        if posted.status != 303:
            raise RuntimeError(f"the launch answered {posted.status}: {posted.data.decode(errors='replace')[:300]}")
        return str(posted.headers["location"])
    raise RuntimeError("the launch did not reach the bridge")


def run_player(
    bridge: Bridge,
    learner: str,
    content: Content,
    device: str = "khp",
    speed: float = 1.0,
    *,
    uservalues: dict[str, str] | None = None,
) -> PlayerRun:
    """Ask before playing; play the whole content once at `speed` when approved, reporting as the player
    does. `uservalues`: those of the playback URL it was opened with (else the LMS asks for one)."""
    run = PlayerRun()
    if uservalues is None:
        uservalues = bridge.playback_uservalues(learner, content.media_content_key)
    session = Session(learner, content, int(time.time()), device, uservalues)
    for kind in (1, 3):
        data = bridge.ask(kind, session)
        run.approvals.append(data)
        if data["result"] != 1:
            run.refused = str(data.get("message", ""))
            return run
    for report in play_session(session, [Play(0, content.duration, speed)]):
        run.progress.append(bridge.report(report))
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.player", description=__doc__.split("\n")[0])
    parser.add_argument("learner", nargs="?", help="the learner (not with --launch)")
    parser.add_argument("content", nargs="?", help="the media content key (not with --launch)")
    parser.add_argument("--launch", help="an LTI launch link of the LMS: play the URL the launch answers with")
    parser.add_argument("--device", default="khp", help="the player id (default khp)")
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=240.0, help="content seconds (default 240)")
    parser.add_argument("--blocks", type=int, default=4, help="block count (default 4)")
    parser.add_argument("--url", default=f"http://127.0.0.1:{os.environ.get('PORT', '3000')}")
    arguments = parser.parse_args(argv)
    bridge = Bridge(arguments.url)
    try:
        uservalues = None
        learner, key = arguments.learner, arguments.content
        if arguments.launch:
            learner, key, uservalues = open_url(bridge, launch(bridge, arguments.launch))
            print(f"launched: learner {learner}, content {key}")
        if not learner or not key:
            parser.error("give a learner and a content, or --launch")
        content = Content(key, arguments.duration, arguments.blocks)
        run = run_player(bridge, learner, content, arguments.device, arguments.speed, uservalues=uservalues)
    except (RuntimeError, urllib3.exceptions.HTTPError) as error:
        print(f"player: {error}", file=sys.stderr)
        return 1
    for kind, data in zip((1, 3), run.approvals, strict=False):
        print(f"play callback kind {kind}: {json.dumps(data, ensure_ascii=False)}")
    if run.refused is not None:
        print(f"refused: {run.refused}")
        return 2
    for answer in run.progress:
        print(f"progress callback: {json.dumps(answer, ensure_ascii=False)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
