"""`make demo`: play a class of simulated learners into a running local stack, then print view links
to the analytics pages, so a newcomer sees a full dashboard.

Each learner is enrolled in a course of three lectures, gets a playback URL, asks the play callback as
the player does, and plays each lecture they get to (fewer reach the later ones; some come back for
the end on another device) on one of a few devices, every callback carrying the URL's nonce: most follow the class's
pattern (a hard part replayed, a known part skipped), the rest a random viewing script (speeds, seeks
back and ahead, pauses, stops).

    make run            # in one terminal
    make demo           # in another: LEARNERS=100 SEED=7 make demo
"""

from __future__ import annotations

import os
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import urllib3

from .player import Bridge
from .simulator import Action, Content, Pause, Play, Seek, Session, play_session, random_script

#: The course's three lectures; the pages' links open the first. Each learner reaches fewer of the later
#: ones, so the course loses some of them from lecture to lecture.
LECTURES = (
    Content("demo-lecture", 1200.0, 20),
    Content("demo-lecture-2", 900.0, 15),
    Content("demo-lecture-3", 600.0, 10),
)
LECTURE = LECTURES[0]
COURSE = "demo-course"
PART_WAY: list[Action] = [Play(0, 300), Seek(600), Play(600, 780, 1.5), Pause(20)]
DEVICES = (("khp", "PC"), ("kfp", "PC"), ("5F0E" * 10, "mobile"), ("A1B2" * 10, "tablet"))
#: Of the learners who start, the share who go on to each lecture.
GO_ON = (1.0, 0.8, 0.6)
#: The players report every 60 s (the long end of Kollus's 30-60 s), which keeps the demo quick.
PERIOD = 60.0
#: Players at once.
PLAYERS = 8
#: Videos put into the catalog (through the stand-in Kollus), so the LTI picker has something to offer:
#: a title and a length in seconds each.
CATALOG = (("1주차: 알고리즘이란", 600), ("2주차: 재귀와 분할 정복", 900), ("3주차: 그래프 탐색", 720),
           ("Week 4: Dynamic programming", 840))  # fmt: skip


@dataclass(frozen=True)
class Demo:
    learners: int
    callbacks: int
    links: dict[str, str]


def patterned(rng: random.Random, content: Content) -> list[Action]:
    """A viewing most of a class shares: the part at a fifth of the lecture replayed (it is hard), the part
    at three fifths skipped (it is known), the rest watched at the learner's own speed."""
    hard, known, speed = content.duration / 5, 3 * content.duration / 5, rng.choice([1.0, 1.0, 1.25, 1.5])
    part = content.duration / content.block_count
    return [Play(0, hard + part, speed), Seek(hard), Play(hard, known, speed), Seek(known + 2 * part),
            Play(known + 2 * part, content.duration * rng.uniform(0.8, 1.0), speed)]  # fmt: skip


@dataclass(frozen=True)
class Planned:
    """One session a learner will play."""

    learner: str
    content: Content
    #: Seconds before its playback URL is asked for that the session says it started (the URL's
    #: validity allows `SESSION_START_SLACK_SECONDS` of that, however long the class takes to play).
    started_ago: int
    player_id: str
    device: str
    script: list[Action]


def _plays(rng: random.Random, names: list[str]) -> list[Planned]:
    """Who plays what, decided up front (the same class for a seed, whatever order the players run in)."""
    plays = []
    for name in names:
        for index, content in enumerate(LECTURES):
            if rng.random() > GO_ON[index]:
                break
            player_id, device = rng.choice(DEVICES)
            script = random_script(rng, content) if rng.random() < 0.3 else patterned(rng, content)
            if name == names[0] and content is LECTURE:
                script = PART_WAY  # the first learner is part-way through: their page has something left
            started_ago = rng.randint(30, 300)
            plays.append(Planned(name, content, started_ago, player_id, device, script))
            if name != names[0] and rng.random() < 0.2:  # some come back on another device for the end
                player_id, device = rng.choice(DEVICES)
                ending: list[Action] = [Play(content.duration * 0.9, content.duration)]
                plays.append(Planned(name, content, started_ago - 20, player_id, device, ending))
    return plays


def populate(bridge: Bridge, learners: int = 60, seed: int = 20261122) -> Demo:
    """Enrol `learners` simulated learners in a course of three lectures and play them into the stack,
    `PLAYERS` at a time; a few enrolled learners never start. Return the pages' view links."""
    rng = random.Random(seed)  # noqa: S311 (a reproducible class, not a secret)
    course = {"title": "Demo course", "media_content_keys": [content.media_content_key for content in LECTURES]}
    bridge.api("PUT", f"/v1/courses/{COURSE}", course)
    names = [f"demo-learner-{number:02d}" for number in range(learners)]
    enrolments = [{"client_user_id": name} for name in names]
    bridge.api("PUT", f"/v1/courses/{COURSE}/enrollments", {"enrollments": enrolments})
    plays = _plays(rng, names[: max(1, learners - 3)])

    def play(planned: Planned) -> int:
        uservalues = bridge.playback_uservalues(planned.learner, planned.content.media_content_key)
        start_at = int(time.time()) - planned.started_ago
        session = Session(planned.learner, planned.content, start_at, planned.player_id, uservalues)
        if bridge.ask(1, session)["result"] != 1:
            return 0
        reports = play_session(session, planned.script, period=PERIOD)
        answers = [bridge.report(report, device=planned.device) for report in reports]
        return sum(answer.get("result") in {"accepted", "duplicate", "stale"} for answer in answers)

    with ThreadPoolExecutor(PLAYERS) as players:
        callbacks = sum(players.map(play, plays))
    link = {"media_content_key": LECTURE.media_content_key, "course": COURSE, "expires_in": 86_400}
    learner = {"kind": "learner_content", "client_user_id": names[0], **link}
    links = {
        "course": bridge.api("POST", "/v1/view-links", {"kind": "course", "course": COURSE, "expires_in": 86_400})[
            "url"
        ],
        "instructor": bridge.api("POST", "/v1/view-links", {"kind": "content", **link})["url"],
        "learner": bridge.api("POST", "/v1/view-links", learner)["url"],
        "lectures": bridge.api(
            "POST", "/v1/view-links", {"kind": "learner", "client_user_id": names[0], "expires_in": 86_400}
        )["url"],
    }
    return Demo(learners, callbacks, links)


def stock_catalog(bridge: Bridge, timeout: float = 90.0) -> list[dict[str, Any]]:
    """Upload `CATALOG`'s videos as an LMS does (an upload URL from the bridge, the file straight to
    Kollus) unless the catalog holds them already; the playable ones once every one is ready and has
    the poster the VOD API gives."""
    headers = {"Authorization": f"Bearer {bridge.api_token}"}

    def ready() -> list[dict[str, Any]]:
        answer = bridge.http.request("GET", f"{bridge.url}/v1/contents?status=ready&limit=100", headers=headers)
        items: list[dict[str, Any]] = answer.json()["items"]
        return items

    have = {item["title"] for item in ready()}
    for number, (title, seconds) in enumerate(CATALOG, start=1):
        if title in have:
            continue
        upload = bridge.api("POST", "/v1/uploads", {"title": title, "uploaded_by": "demo-teacher"})
        sent = bridge.http.request("POST", upload["upload_url"], fields={"upload-file": (f"week-{number}.mp4",
                                   b"v" * seconds * 1000)})  # fmt: skip  # the stand-in: a second per kilobyte
        if sent.status != 200:
            raise RuntimeError(f"upload of {title!r}: {sent.status}")
    deadline = time.monotonic() + timeout
    while True:
        listed = [item for item in ready() if item["title"] in dict(CATALOG) and item.get("poster_url")]
        if len(listed) == len(CATALOG):
            return listed
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(listed)} of {len(CATALOG)} catalog videos ready after {timeout:g} s")
        time.sleep(0.5)


def picker_url(platform: str) -> str:
    """Where an instructor starts the local LMS's deep linking (the picker), in Korean."""
    return f"{platform}/start?user=teacher-1&deep_link=1&locale=ko-KR"


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
        demo = populate(bridge, int(os.environ.get("LEARNERS", "60")), int(os.environ.get("SEED", "20261122")))
        insights = wait_for_insights(bridge)
        catalog = stock_catalog(bridge)
    except (RuntimeError, urllib3.exceptions.HTTPError) as error:
        print(f"demo: {error} (is `make run` running?)", file=sys.stderr)
        return 1
    lectures = ", ".join(content.media_content_key for content in LECTURES)
    print(f"played {demo.learners} learners ({demo.callbacks} callbacks) into {COURSE}: {lectures}")
    print(f"insights: {insights['learners_counted']} learners counted, funnel {insights['funnel']}")
    for name, url in demo.links.items():
        print(f"{name} page: {url}")
    platform = "http://127.0.0.1:" + os.environ.get("LTI_PLATFORM_PORT", "3300")
    print(f"catalog: {len(catalog)} videos ready; the LTI picker, as an instructor: {picker_url(platform)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
