"""Counting a content's learners, in one invocation or, for a large content, in shards.

A computation first plans from the records alone (content-index pages and batch reads, about half a
read unit per learner): who is in scope, the grid (the one most learners have, or the one asked
for), its duration (the catalog's, else the longest any session on it reported), and who is left
out. Counting then reads each learner's session snapshots (one query each). Up to
`ANALYTICS_SHARD_LEARNERS` learners are counted at once; above that the learners are split into
shards, each written as a mark the table's stream hands to its own invocation. Each shard stores
its tally; the one that completes the set (a string set of done shards, so a retried shard counts
once) merges the tallies, which are sums and value lists, into the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kollus_bridge.progress.ingest import rules_for
from kollus_bridge.progress.ports import Record
from kollus_bridge.settings import Settings
from kollus_bridge.times import iso_time

from .compute import Scope, activities, all_records, enrolled
from .learner_table import stored_row, waiting_row
from .metrics import Grid, Tally, figures, tally
from .over_time import daily
from .ports import AnalyticsStore

#: The learner table's part of enrolled learners who have not started (a shard's part is its index).
WAITING_PART = 999_999


@dataclass(frozen=True)
class Plan:
    grid: Grid | None
    learners: tuple[str, ...]  # in scope and on the grid, sorted
    excluded: dict[str, int]
    course: dict[str, int] | None = None  # with a course: enrolled and not_started
    records: tuple[Record, ...] = ()  # the records of `learners`, as read (not kept between invocations)
    waiting: tuple[str, ...] = ()  # with a course: enrolled learners with no session (not kept either)

    def to_json(self) -> dict[str, Any]:
        grid = None if self.grid is None else {"blocks": self.grid.blocks, "duration": self.grid.duration}
        return {"grid": grid, "excluded": self.excluded, "course": self.course}

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Plan:
        grid = document.get("grid")
        return cls(
            Grid(grid["blocks"], grid["duration"]) if grid else None, (), document["excluded"], document["course"]
        )


@dataclass(frozen=True)
class Shard:
    """One part of a large content's learners, as its mark names it."""

    media_content_key: str
    scope: str
    job: int  # when the computation was asked for (epoch ms): one job per ask
    index: int
    learners: tuple[str, ...]


def plan(store: AnalyticsStore, settings: Settings, media_content_key: str, scope: Scope) -> Plan:
    """Who counts and on which grid, from the records alone."""
    members = enrolled(store, scope.course) if scope.course else None
    grids: dict[int, set[str]] = {}
    durations: dict[int, float] = {}
    in_scope: set[str] = set()
    started: set[str] = set()
    records: dict[str, Record] = {}
    for page in all_records(store, media_content_key):
        for record in page:
            learner, state = record.client_user_id, record.state
            if members is not None and learner not in members:
                continue
            if scope.uservalue is not None and state.uservalues.get(scope.uservalue[0]) != scope.uservalue[1]:
                continue
            in_scope.add(learner)
            records[learner] = record
            for session in state.sessions.values():
                started.add(learner)
                grids.setdefault(session.block_count, set()).add(learner)
                if session.duration:
                    durations[session.block_count] = max(durations.get(session.block_count, 0.0), session.duration)
    course = None if members is None else {"enrolled": len(members), "not_started": len(members - started)}
    waiting = () if members is None else tuple(sorted(members - started))
    blocks = scope.grid or max(grids, key=lambda size: (len(grids[size]), size), default=None)
    card = store.content_cards([media_content_key]).get(media_content_key)
    duration = (card.duration if card else None) or (durations.get(blocks) if blocks else None)
    if blocks is None or not duration:
        return Plan(None, (), {"no_sessions": len(in_scope)} if in_scope else {}, course, waiting=waiting)
    on_grid = grids.get(blocks, set())
    excluded = {"no_sessions": len(in_scope - started), "other_grid": len(started - on_grid)}
    learners = tuple(sorted(on_grid))
    kept = tuple(records[learner] for learner in learners)
    return Plan(Grid(blocks, float(duration)), learners, excluded, course, kept, waiting)


def count(  # noqa: PLR0917 (where to read, which learners, on which grid, when)
    store: AnalyticsStore, settings: Settings, media_content_key: str, records: Sequence[Record], grid: Grid, now: int
) -> tuple[Tally, list[dict[str, Any]]]:
    """The tally of some learners on the grid (their sessions read in parallel), and their rows of the
    learner table."""
    learners = activities(records, media_content_key, store, settings)
    ratio = rules_for(media_content_key, settings, store).min_block_watch_ratio
    stalled = settings.stalled_after_days
    rows = [stored_row(learner, grid, ratio, now, stalled) for learner in learners]
    return tally(learners, grid, settings.display_timezone), rows


def finish(  # noqa: PLR0917 (what was computed, for which scope and plan, when, in which zone)
    media_content_key: str, scope: Scope, planned: Plan, counted: Tally | None, now: int, zone: str = "UTC"
) -> dict[str, Any]:
    """The result document: the figures with who was left out, the course's counts, the last days'
    activity, and `as_of`."""
    if planned.grid is None or counted is None:
        body: dict[str, Any] = {"grid": None, "learners_counted": 0, "excluded": planned.excluded}
    else:
        counted.excluded = dict(planned.excluded)  # the plan saw every learner; the tally only those on the grid
        body = figures(counted, planned.grid)
        body["activity"] = daily(counted.active_days, counted.completed_days, now, zone)
    if planned.course is not None:
        body |= planned.course
    return {"media_content_key": media_content_key, "scope": scope.as_json(), "as_of": iso_time(now), **body}


def compute(
    store: AnalyticsStore, settings: Settings, media_content_key: str, scope: Scope, now: int
) -> dict[str, Any]:
    """A content's insights in a scope, counted in this invocation."""
    planned = plan(store, settings, media_content_key, scope)
    counted = None
    if planned.grid is not None:
        counted, _ = count(store, settings, media_content_key, planned.records, planned.grid, now)
    return finish(media_content_key, scope, planned, counted, now, settings.display_timezone)


def fulfil(
    store: AnalyticsStore, settings: Settings, wanted: dict[tuple[str, str], int], now: int
) -> list[tuple[str, str]]:
    """For each wanted (content, scope): count it here when it is small, else start its shards."""
    done = []
    size = settings.analytics_shard_learners
    for (media_content_key, key), requested_at in sorted(wanted.items()):
        scope = Scope.from_key(key)
        planned = plan(store, settings, media_content_key, scope)
        keep = settings.analytics_keep_days
        # The table's rows go first: the insights that name this job find every row of it.
        store.put_table_rows(media_content_key, key, requested_at, WAITING_PART, [*map(waiting_row, planned.waiting)],
                             keep)  # fmt: skip
        if planned.grid is None or len(planned.learners) <= size:
            counted, rows = None, list[dict[str, Any]]()
            if planned.grid is not None:
                counted, rows = count(store, settings, media_content_key, planned.records, planned.grid, now)
            store.put_table_rows(media_content_key, key, requested_at, 0, rows, keep)
            result = finish(media_content_key, scope, planned, counted, now, settings.display_timezone)
            store.put_insights(media_content_key, key, result, now, keep, job=requested_at)
            store.drop_wanted(media_content_key, key, requested_at)
            done.append((media_content_key, key))
            continue
        parts = [planned.learners[at : at + size] for at in range(0, len(planned.learners), size)]
        store.start_shards(media_content_key, key, requested_at, planned.to_json(), parts)
    return done


def fulfil_shards(store: AnalyticsStore, settings: Settings, shards: Sequence[Shard], now: int) -> list[Shard]:
    """Count each shard; the one that completes its job merges the job's tallies into the result."""
    finished = []
    for shard in shards:
        job = store.shard_job(shard.media_content_key, shard.scope, shard.job)
        if job is None:
            continue  # done already, or expired
        planned = Plan.from_json(job)
        if planned.grid is None:
            continue
        records = store.records_of(shard.media_content_key, list(shard.learners))
        counted, rows = count(store, settings, shard.media_content_key, records, planned.grid, now)
        keep = settings.analytics_keep_days
        store.put_table_rows(shard.media_content_key, shard.scope, shard.job, shard.index, rows, keep)
        complete = store.finish_shard(shard.media_content_key, shard.scope, shard.job, shard.index, counted.to_json())
        if complete is None:
            continue
        merged = Tally(planned.grid.blocks)
        for part in complete:
            merged = merged.merge(Tally.from_json(part))
        scope = Scope.from_key(shard.scope)
        result = finish(shard.media_content_key, scope, planned, merged, now, settings.display_timezone)
        store.put_insights(shard.media_content_key, shard.scope, result, now, keep, job=shard.job)
        store.drop_wanted(shard.media_content_key, shard.scope, shard.job)
        finished.append(shard)
    return finished
