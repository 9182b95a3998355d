"""How much one record may hold, pure: no sequence of callbacks can push a record's item past
DynamoDB's 400 KB.

- **Sessions**: past `MAX_SESSIONS`, the oldest are folded into one summary (`Folded`: their count,
  play times, flags, and the grids they were credited on); the newest `KEEP_SESSIONS` stay whole.
- **Grids**: blocks are credited on the content's grid of record only; sets on any other grid (kept
  from before the rule, or from before the content's grid became finer) are re-evaluated onto it.
- **Uservalues**: at most `MAX_USERVALUE_BYTES` in all, per callback (refused beyond, 422).

A record item thus stays under `MAX_SESSIONS` summaries (about 150 bytes each), one block set of at
most `MAX_BLOCK_COUNT` numbers, the uservalues and the ledger: under 160 KB.
"""

from __future__ import annotations

from dataclasses import replace

from .rule import Folded, RecordState

#: Session summaries a record keeps whole before the oldest are folded.
MAX_SESSIONS = 64
#: Session summaries a fold keeps whole (the newest).
KEEP_SESSIONS = 32
#: The uservalues of one callback, in UTF-8 bytes of names and values.
MAX_USERVALUE_BYTES = 4096


def needs_fold(state: RecordState) -> bool:
    return len(state.sessions) > MAX_SESSIONS


def fold(state: RecordState, keep: int = KEEP_SESSIONS) -> tuple[RecordState, list[str]]:
    """The record with all but its `keep` newest sessions (by arrival) folded, and the folded keys."""
    ranked = sorted(state.sessions.items(), key=lambda item: (item[1].received_at, item[0]))
    gone = ranked[: max(0, len(ranked) - keep)]
    if not gone:
        return state, []
    folded = state.folded
    own = set(folded.own_grids)
    for _, session in gone:
        if session.grid is not None and session.block_count == session.grid and (session.credited or 0) > 0:
            own.add(session.grid)
        elif session.grid is None:
            own.add(session.block_count)
    merged = Folded(
        sessions=folded.sessions + len(gone),
        play_time=folded.play_time + sum(session.play_time for _, session in gone),
        real_play_time=folded.real_play_time + sum(session.real_play_time for _, session in gone),
        suspicious=folded.suspicious + sum(session.suspicious for _, session in gone),
        limited=folded.limited + sum(session.limit is not None for _, session in gone),
        own_grids=frozenset(own),
    )
    kept = dict(ranked[len(gone) :])
    return replace(state, sessions=kept, folded=merged), [key for key, _ in gone]


def uservalue_bytes(uservalues: dict[str, str]) -> int:
    return sum(len(name.encode()) + len(value.encode("utf-8", "surrogatepass")) for name, value in uservalues.items())
