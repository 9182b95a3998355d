"""The rosters of LTI courses (`pk=ROSTERS`, `sk=<course>`: every roster in one partition, which the
schedule reads whole) and the parts of a read left for the next invocation (`pk=RR#<course>`,
`sk=<run>#<part>`: the learners and staff one invocation found; gone by TTL `expires_at`).

`roster_wanted` asks for a sync: the template's stream filter hands a roster to the roster function
whenever a write leaves it set; the sync's last write removes it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from typing import Any

from kollus_bridge.lti.roster import Reading, Roster, Run

from .table import ConditionFailed, Table, key_part, optional_int, plain

PARTITION = {"S": "ROSTERS"}
RUN_PREFIX = "RR#"
#: How long a part of a read is kept, in seconds.
PART_SECONDS = 2 * 86400
_RUN_FIELDS = "run_id, run_started, run_next, run_differences, run_parts"


def roster_key(course_id: str) -> dict[str, Any]:
    return {"pk": PARTITION, "sk": {"S": key_part(course_id)}}


def roster_from_item(item: Mapping[str, Any]) -> Roster:
    run = None
    if "run_id" in item:
        run = Run(
            plain(item, "run_id"),
            int(plain(item, "run_started")),
            plain(item, "run_next"),
            bool(plain(item, "run_differences")),
            int(plain(item, "run_parts") or 0),
        )
    return Roster(
        course_id=plain(item, "course_id"),
        platform_id=plain(item, "platform_id"),
        context_id=plain(item, "context_id"),
        memberships_url=plain(item, "memberships_url"),
        resource_link_id=plain(item, "resource_link_id"),
        differences_url=plain(item, "differences_url"),
        synced_at=optional_int(plain(item, "synced_at")),
        full_at=optional_int(plain(item, "full_at")),
        tried_at=optional_int(plain(item, "tried_at")),
        error=plain(item, "roster_error"),
        learners=optional_int(plain(item, "learners")),
        wanted=optional_int(plain(item, "roster_wanted")),
        run=run,
    )


class Rosters(Table):
    def get_roster(self, course_id: str) -> Roster | None:
        item = self.call("get_item", Key=roster_key(course_id), ConsistentRead=True).get("Item")
        return None if item is None else roster_from_item(item)

    def rosters_of(self, course_ids: Iterable[str]) -> dict[str, Roster]:
        keys = [roster_key(course_id) for course_id in dict.fromkeys(course_ids)]
        rosters = [roster_from_item(item) for item in self.batch_get(keys).values()]
        return {roster.course_id: roster for roster in rosters}

    def all_rosters(self) -> list[Roster]:
        request = {"KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": PARTITION}}
        found: list[Roster] = []
        start: Mapping[str, Any] | None = None
        while True:
            items, start = self.query_page(dict(request), start)
            found += [roster_from_item(item) for item in items]
            if start is None:
                return found

    def note_launch(self, roster: Roster, now: int) -> bool:
        """Keep where a launch says its context's roster is: a new roster is asked for at once (True),
        as is a known one whose membership service a launch names for the first time or anew."""
        known = self.get_roster(roster.course_id)
        if known is None:
            item = {**roster_key(roster.course_id), "course_id": {"S": roster.course_id},
                    "platform_id": {"S": roster.platform_id}, "context_id": {"S": roster.context_id},
                    "roster_wanted": {"N": str(now)}}  # fmt: skip
            for name in ("memberships_url", "resource_link_id"):
                if getattr(roster, name) is not None:
                    item[name] = {"S": getattr(roster, name)}
            with contextlib.suppress(ConditionFailed):  # another launch made it first
                self.call("put_item", Item=item, ConditionExpression="attribute_not_exists(pk)")
                return True
            return False
        changes = {
            name: getattr(roster, name)
            for name in ("memberships_url", "resource_link_id")
            if getattr(roster, name) is not None and getattr(roster, name) != getattr(known, name)
        }
        if not changes:
            return False
        if "memberships_url" in changes:
            changes |= {"roster_wanted": now}
        names = {f"#{name}": name for name in changes}
        values = {f":{name}": {"N": str(value)} if isinstance(value, int) else {"S": value}
                  for name, value in changes.items()}  # fmt: skip
        with contextlib.suppress(ConditionFailed):
            self.call(
                "update_item",
                Key=roster_key(roster.course_id),
                UpdateExpression="SET " + ", ".join(f"#{name} = :{name}" for name in changes),
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        return "memberships_url" in changes

    def want_roster(self, course_id: str, now: int, unless_asked_since: int | None = None, full: bool = False) -> bool:
        """Ask for a sync of a roster, `full` to read it whole (False: no such roster, or, with
        `unless_asked_since`, asked for since then)."""
        condition = "attribute_exists(pk)"
        values: dict[str, Any] = {":now": {"N": str(now)}}
        if unless_asked_since is not None:
            condition += " AND (attribute_not_exists(roster_wanted) OR roster_wanted < :since)"
            values[":since"] = {"N": str(unless_asked_since)}
        try:
            self.call(
                "update_item",
                Key=roster_key(course_id),
                UpdateExpression="SET roster_wanted = :now" + (" REMOVE differences_url" if full else ""),
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        except ConditionFailed:
            return False
        return True

    def save_run(self, course_id: str, run: Run, reading: Reading | None, now: int) -> None:
        """Leave a read for the next invocation: the part this one found, where to go on, and the ask."""
        parts = run.parts
        if reading is not None and (reading.learners or reading.staff):
            part: dict[str, Any] = {
                "pk": {"S": RUN_PREFIX + key_part(course_id)},
                "sk": {"S": f"{run.run_id}#{parts:06d}"},
                "expires_at": {"N": str(now // 1000 + PART_SECONDS)},
            }
            for name in ("learners", "staff"):
                if getattr(reading, name):
                    part[name] = {"SS": sorted(getattr(reading, name))}
            self.call("put_item", Item=part)
            parts += 1
        self._update(
            course_id,
            "SET run_id = :run, run_started = :started, run_next = :next, run_differences = :differences, "
            "run_parts = :parts, roster_wanted = :now",
            {":run": {"S": run.run_id}, ":started": {"N": str(run.started_at)}, ":next": {"S": run.next_url},
             ":differences": {"BOOL": run.differences}, ":parts": {"N": str(parts)}, ":now": {"N": str(now)}},
        )  # fmt: skip

    def run_reading(self, course_id: str, run: Run) -> Reading:
        """What the invocations before found of a read (learners first: a member listed as both is one)."""
        partition = {"S": RUN_PREFIX + key_part(course_id)}
        request = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :run)",
            "ExpressionAttributeValues": {":pk": partition, ":run": {"S": run.run_id + "#"}},
            "ConsistentRead": True,
        }
        reading = Reading(set(), set())
        start: Mapping[str, Any] | None = None
        while True:
            items, start = self.query_page(dict(request), start)
            for item in items:
                reading.learners |= set(plain(item, "learners") or ())
                reading.staff |= set(plain(item, "staff") or ())
            if start is None:
                reading.staff -= reading.learners
                return reading

    def finish_roster(
        self, course_id: str, now: int, full: bool, differences_url: str | None, learners: int | None
    ) -> None:
        sets = ["synced_at = :now", "tried_at = :now"]
        values: dict[str, Any] = {":now": {"N": str(now)}}
        removed = ["roster_error", "roster_wanted", _RUN_FIELDS]
        if full:
            sets.append("full_at = :now")
        if learners is not None:
            sets.append("learners = :learners")
            values[":learners"] = {"N": str(learners)}
        if differences_url is not None:
            sets.append("differences_url = :differences")
            values[":differences"] = {"S": differences_url}
        elif full:
            removed.append("differences_url")
        self._update(course_id, f"SET {', '.join(sets)} REMOVE {', '.join(removed)}", values)

    def fail_roster(self, course_id: str, now: int, error: str) -> None:
        self._update(
            course_id,
            f"SET tried_at = :now, roster_error = :error REMOVE roster_wanted, {_RUN_FIELDS}",
            {":now": {"N": str(now)}, ":error": {"S": error[:1000]}},
        )

    def delete_roster(self, course_id: str) -> None:
        self.call("delete_item", Key=roster_key(course_id))

    def _update(self, course_id: str, expression: str, values: dict[str, Any]) -> None:
        """An update of a roster that is still there (a course deleted meanwhile stays deleted)."""
        with contextlib.suppress(ConditionFailed):
            self.call(
                "update_item",
                Key=roster_key(course_id),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues=values,
            )
