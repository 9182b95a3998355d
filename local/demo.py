"""`make demo`: play a class of simulated learners into a running local stack, then print view links
to the analytics pages, so a newcomer sees a full dashboard.

Each learner is enrolled in a course holding the lecture, gets a playback URL, asks the play callback
as the player does, and plays one to three sessions of a random viewing script (speeds, seeks back
and ahead, pauses, stops) on one of a few devices, every callback carrying the URL's nonce.

    make run            # in one terminal
    make demo           # in another: LEARNERS=30 SEED=7 make demo
"""

from __future__ import annotations

import os
import random
import sys
import time
from dataclasses import dataclass
from typing import Any

import urllib3

from .player import Bridge
from .simulator import Action, Content, Pause, Play, Seek, Session, play_session, random_script

LECTURE = Content("demo-lecture", 1200.0, 20)
COURSE = "demo-course"
PART_WAY: list[Action] = [Play(0, 300), Seek(600), Play(600, 780, 1.5), Pause(20)]
DEVICES = (("khp", "PC"), ("kfp", "PC"), ("5F0E" * 10, "mobile"), ("A1B2" * 10, "tablet"))


@dataclass(frozen=True)
class Demo:
    learners: int
    callbacks: int
    links: dict[str, str]


def populate(bridge: Bridge, learners: int = 20, seed: int = 20261122) -> Demo:
    """Enrol and play `learners` simulated learners into the stack; return their view links."""
    rng = random.Random(seed)  # noqa: S311 (a reproducible class, not a secret)
    course = {"title": "Demo course", "media_content_keys": [LECTURE.media_content_key]}
    bridge.api("PUT", f"/v1/courses/{COURSE}", course)
    names = [f"demo-learner-{number:02d}" for number in range(learners)]
    enrolments = [{"client_user_id": name} for name in names]
    bridge.api("PUT", f"/v1/courses/{COURSE}/enrollments", {"enrollments": enrolments})
    callbacks, now = 0, int(time.time())
    for name in names[: max(1, learners - 3)]:  # a few enrolled learners never start
        uservalues = bridge.playback_uservalues(name, LECTURE.media_content_key)
        for number in range(1 if name == names[0] else rng.randint(1, 3)):
            player_id, device = rng.choice(DEVICES)
            session = Session(name, LECTURE, now - rng.randint(0, 600) + number, player_id, uservalues)
            if bridge.ask(1, session)["result"] != 1:
                continue
            # The first learner is part-way through: their page has something left to show.
            script = PART_WAY if name == names[0] else random_script(rng, LECTURE)
            for report in play_session(session, script):
                answer = bridge.report(report, device=device)
                callbacks += answer.get("result") in {"accepted", "duplicate", "stale"}
    link = {"media_content_key": LECTURE.media_content_key, "course": COURSE, "expires_in": 86_400}
    learner = {"kind": "learner_content", "client_user_id": names[0], **link}
    links = {
        "instructor": bridge.api("POST", "/v1/view-links", {"kind": "content", **link})["url"],
        "learner": bridge.api("POST", "/v1/view-links", learner)["url"],
        "lectures": bridge.api(
            "POST", "/v1/view-links", {"kind": "learner", "client_user_id": names[0], "expires_in": 86_400}
        )["url"],
    }
    return Demo(learners, callbacks, links)


def wait_for_insights(bridge: Bridge, timeout: float = 60.0) -> dict[str, Any]:
    """Ask for the lecture's insights in the course until the stream's computation has answered."""
    url = f"{bridge.url}/v1/analytics/contents/{LECTURE.media_content_key}?course={COURSE}"
    headers = {"Authorization": f"Bearer {bridge.api_token}"}
    deadline = time.monotonic() + timeout
    while True:
        answer = bridge.http.request("GET", url, headers=headers)
        if answer.status == 200:
            found: dict[str, Any] = answer.json()
            return found
        if time.monotonic() > deadline:
            raise RuntimeError(f"no insights after {timeout:g} s: {answer.status}")
        time.sleep(0.5)


def main() -> int:
    bridge = Bridge(f"http://127.0.0.1:{os.environ.get('PORT', '3000')}")
    try:
        demo = populate(bridge, int(os.environ.get("LEARNERS", "20")), int(os.environ.get("SEED", "20261122")))
        insights = wait_for_insights(bridge)
    except (RuntimeError, urllib3.exceptions.HTTPError) as error:
        print(f"demo: {error} (is `make run` running?)", file=sys.stderr)
        return 1
    print(f"played {demo.learners} learners ({demo.callbacks} callbacks) into {LECTURE.media_content_key}")
    print(f"insights: {insights['learners_counted']} learners counted, funnel {insights['funnel']}")
    for name, url in demo.links.items():
        print(f"{name} page: {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
