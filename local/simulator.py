"""A Kollus player simulator: plays viewing scripts and reports them the way the player does.

A `Script` is a list of actions (play a range at a speed, seek, pause, stop). `play_session` turns it
into the callbacks a player would send: one every `period` wall seconds while open and one on each
pause, each carrying the session's cumulative counters (`play_time` with repeats and speed,
`real_playtime` without repeats, `runtime` with pauses, `showtime`, per-block times with sub-second
play rounded up to 1 s, `serial`, `last_play_at`). `deliver` adds delivery faults: duplicates,
reordering, late offline bursts. `expected_watched` computes, independently of the service's merge
code, which blocks a record must end up with.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode


@dataclass(frozen=True)
class Play:
    start: float  # content seconds
    end: float
    speed: float = 1.0


@dataclass(frozen=True)
class Seek:
    to: float


@dataclass(frozen=True)
class Pause:
    seconds: float


@dataclass(frozen=True)
class Stop:
    pass


Action = Play | Seek | Pause | Stop


@dataclass(frozen=True)
class Content:
    media_content_key: str
    duration: float
    block_count: int


@dataclass(frozen=True)
class Session:
    client_user_id: str
    content: Content
    start_at: int
    player_id: str = "khp"
    uservalues: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    """One callback: the session's cumulative state at a moment."""

    session: Session
    serial: int
    block_seconds: dict[int, float]
    play_time: float
    real_play_time: float
    run_time: float
    show_time: float
    last_play_at: float
    paused: bool

    def json_data(self) -> dict[str, object]:
        content = self.session.content
        blocks: dict[str, object] = {}
        for index, seconds in sorted(self.block_seconds.items()):
            blocks[f"b{index}"] = 1
            blocks[f"t{index}"] = seconds
            blocks[f"p{index}"] = int(100 * seconds * content.block_count / content.duration)
        return {
            "user_info": {"client_user_id": self.session.client_user_id, "player_id": self.session.player_id},
            "content_info": {
                "media_content_key": content.media_content_key,
                "duration": content.duration,
                "start_at": self.session.start_at,
                "serial": self.serial,
                "playtime": self.play_time,
                "real_playtime": self.real_play_time,
                "playtime_percent": int(100 * self.play_time / content.duration),
                "last_play_at": self.last_play_at,
                "runtime": self.run_time,
                "showtime": self.show_time,
            },
            "block_info": {"block_count": content.block_count, "blocks": blocks},
            "uservalues": dict(self.session.uservalues),
        }

    def form_body(self) -> bytes:
        """What a `json_data={JSON_DATA}` template sends."""
        return urlencode({"json_data": json.dumps(self.json_data(), separators=(",", ":"))}).encode()

    def flat_body(self) -> bytes:
        """What a template of flat variables sends (1-based blocks, no serial)."""
        content = self.session.content
        variables = {
            "client_user_id": self.session.client_user_id,
            "media_content_key": content.media_content_key,
            "start_at": str(self.session.start_at),
            "player_id": self.session.player_id,
            "block_cnt": str(content.block_count),
            "duration": str(content.duration),
            "play_time": str(self.play_time),
            "real_playtime": str(self.real_play_time),
            "last_play_at": str(self.last_play_at),
            "run_time": str(self.run_time),
            "show_time": str(self.show_time),
            "play_status": "pause" if self.paused else "play",
        }
        for index in range(content.block_count):
            seconds = self.block_seconds.get(index, 0)
            variables[f"block_play_{index + 1}"] = "1" if seconds else "0"
            variables[f"block_time_{index + 1}"] = str(seconds)
        variables.update(self.session.uservalues)
        return urlencode(variables).encode()


def _reported(seconds: float) -> float:
    """Block times are whole seconds; any play under a second counts as one."""
    return float(math.ceil(seconds - 1e-9)) if seconds > 0 else 0.0


def play_session(session: Session, script: Sequence[Action], period: float = 30.0) -> list[Report]:
    """The callbacks a player sends for one session."""
    content = session.content
    block_length = content.duration / content.block_count
    block_seconds: dict[int, float] = {}
    seen: list[tuple[float, float]] = []
    state = {"play_time": 0.0, "run_time": 0.0, "show_time": 0.0, "position": 0.0, "since_report": 0.0}
    reports: list[Report] = []

    def report(paused: bool) -> None:
        real = sum(end - start for start, end in _merged(seen))
        reports.append(
            Report(
                session=session,
                serial=len(reports),
                block_seconds={index: _reported(value) for index, value in block_seconds.items()},
                play_time=round(state["play_time"], 3),
                real_play_time=round(real, 3),
                run_time=round(state["run_time"], 3),
                show_time=round(state["show_time"], 3),
                last_play_at=round(state["position"], 3),
                paused=paused,
            )
        )
        state["since_report"] = 0.0

    def advance_wall(seconds: float, playing: bool) -> None:
        state["run_time"] += seconds
        if playing:
            state["show_time"] += seconds
        state["since_report"] += seconds

    for action in script:
        if isinstance(action, Play):
            position = max(0.0, min(action.start, content.duration))
            end = max(position, min(action.end, content.duration))
            while position < end:
                # Play up to the next block edge, the next report or the end, whichever comes first.
                block = min(int(position // block_length), content.block_count - 1)
                block_end = min((block + 1) * block_length, end)
                wall_left = (period - state["since_report"]) * action.speed
                step = max(min(block_end - position, wall_left), 1e-9)
                block_seconds[block] = block_seconds.get(block, 0.0) + step
                seen.append((position, position + step))
                state["play_time"] += step
                position += step
                state["position"] = position
                advance_wall(step / action.speed, playing=True)
                if state["since_report"] >= period - 1e-9:
                    report(paused=False)
        elif isinstance(action, Seek):
            state["position"] = max(0.0, min(action.to, content.duration))
        elif isinstance(action, Pause):
            report(paused=True)
            remaining = action.seconds
            while remaining > 0:
                step = min(remaining, period - state["since_report"])
                advance_wall(step, playing=False)
                remaining -= step
                if state["since_report"] >= period - 1e-9:
                    report(paused=True)
        elif isinstance(action, Stop):
            break
    report(paused=True)  # the player reports when it stops or closes
    return reports


def _merged(ranges: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + 1e-9:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def random_script(rng: random.Random, content: Content) -> list[Action]:
    """Realistic viewing: forward play at 0.5x-2x, seeks back and forth, pauses, repeats, an early stop."""
    script: list[Action] = []
    position = 0.0
    for _ in range(rng.randint(1, 6)):
        length = rng.uniform(0.05, 0.5) * content.duration
        speed = rng.choice([1.0, 1.0, 1.25, 1.5, 2.0, 0.5])
        script.append(Play(position, position + length, speed))
        position = min(content.duration, position + length)
        choice = rng.random()
        if choice < 0.25:
            position = max(0.0, position - rng.uniform(0, 0.3) * content.duration)  # rewind: repeats
            script.append(Seek(position))
        elif choice < 0.4:
            position = min(content.duration, position + rng.uniform(0, 0.3) * content.duration)  # skip ahead
            script.append(Seek(position))
        if rng.random() < 0.4:
            script.append(Pause(rng.uniform(5, 120)))
    if rng.random() < 0.1:
        script.append(Stop())
    return script


def deliver(
    reports: Sequence[Report],
    rng: random.Random,
    duplicates: float = 0.05,
    shuffle: bool = True,
    offline_burst: float = 0.0,
) -> list[Report]:
    """The order the server sees: some callbacks twice, a shuffled order, and a share held back
    (offline playback) and sent in a burst at the end."""
    delivered = list(reports) + [report for report in reports if rng.random() < duplicates]
    if shuffle:
        rng.shuffle(delivered)
    held = [report for report in delivered if rng.random() < offline_burst]
    return [report for report in delivered if report not in held] + held


def expected_watched(reports: Sequence[Report], min_block_watch_ratio: float) -> dict[int, set[int]]:
    """Watched blocks per grid, straight from the definition: a block counts when any session's
    newest report gives it at least `min_block_watch_ratio` of a block's length."""
    newest: dict[tuple[int, str], Report] = {}
    for report in reports:
        key = (report.session.start_at, report.session.player_id)
        if key not in newest or report.serial > newest[key].serial:
            newest[key] = report
    watched: dict[int, set[int]] = {}
    for report in newest.values():
        content = report.session.content
        length = content.duration / content.block_count
        grid = watched.setdefault(content.block_count, set())
        grid.update(
            index
            for index, seconds in report.block_seconds.items()
            if seconds and seconds >= min_block_watch_ratio * length
        )
    return {grid: blocks for grid, blocks in watched.items() if blocks}
