"""What learning analytics reads: each learner's record for a content and each of their sessions as
its newest callback reported it. Pure; the store builds these from records and session snapshots."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from kollus_bridge.kollus.callback import Callback, start_at_ms

#: A dedicated player's install id (40 hex digits); `khp` and `kfp` name Kollus's web players.
_INSTALL_ID = re.compile(r"^[0-9A-Fa-f]{40}$")


@dataclass(frozen=True)
class SessionActivity:
    """One playback session (learner, content, `start_at`, `player_id`) as its newest callback said."""

    start_at: int
    player_id: str
    block_count: int
    duration: float | None = None
    #: Content seconds played per 0-based block, repeats included; a played block has at least 1.
    block_seconds: Mapping[int, float] = field(default_factory=dict)
    play_time: float = 0.0
    run_time: float = 0.0
    last_play_at: float | None = None
    device: str | None = None
    host_name: str | None = None
    suspicious: bool = False

    @property
    def key(self) -> tuple[int, str]:
        return self.start_at, self.player_id

    @property
    def started_ms(self) -> int:
        """`start_at` in epoch milliseconds (the device's clock)."""
        return start_at_ms(self.start_at)

    @property
    def player_kind(self) -> str:
        """`khp`/`kfp` as sent, `app` for a dedicated player's install id, else `other`."""
        if self.player_id in {"khp", "kfp"}:
            return self.player_id
        return "app" if _INSTALL_ID.match(self.player_id) else "other"


@dataclass(frozen=True)
class LearnerActivity:
    """A learner's record for one content and their sessions of it."""

    client_user_id: str
    #: Watched blocks per grid (block count), as the record holds them (merged across sessions).
    watched: Mapping[int, frozenset[int]]
    sessions: Sequence[SessionActivity] = ()
    completed_at: int | None = None  # epoch ms, the server's clock
    created_at: int | None = None
    updated_at: int | None = None
    uservalues: Mapping[str, str] = field(default_factory=dict)


def session_activity(callback: Callback, suspicious: bool = False) -> SessionActivity:
    """A session from its newest parsed callback."""
    seconds = {
        index: float(report.seconds if report.seconds is not None else (1.0 if report.played else 0.0))
        for index, report in callback.blocks.items()
        if report.played or report.seconds
    }
    return SessionActivity(
        start_at=callback.start_at,
        player_id=callback.player_id,
        block_count=callback.block_count,
        duration=callback.duration,
        block_seconds={index: value for index, value in seconds.items() if value > 0},
        play_time=callback.play_time or 0.0,
        run_time=callback.run_time or 0.0,
        last_play_at=callback.last_play_at,
        device=callback.device,
        host_name=callback.host_name,
        suspicious=suspicious,
    )


def distinct(learners: Iterable[LearnerActivity]) -> list[LearnerActivity]:
    """Each learner once (the last given wins), each of their sessions once, in a fixed order: the
    figures then depend on neither the order nor repeats of what the store returned."""
    by_learner: dict[str, LearnerActivity] = {}
    for learner in learners:
        sessions = {session.key: session for session in learner.sessions}
        ordered = tuple(sessions[key] for key in sorted(sessions))
        by_learner[learner.client_user_id] = LearnerActivity(
            learner.client_user_id, learner.watched, ordered, learner.completed_at, learner.created_at,
            learner.updated_at, learner.uservalues,
        )  # fmt: skip
    return [by_learner[key] for key in sorted(by_learner)]
