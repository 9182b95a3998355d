"""Whole-record rewrites of progress records: re-evaluated block sets (a rule change, conditioned on the
revision it was computed from; a finer grid of record, a union), folded sessions (the size bound,
conditioned on the sessions folded), and credit the record's clock takes back. A rewrite whose
condition fails is left undone; the next read or callback does the work again."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from kollus_bridge.progress.rule import RecordState, SessionUpdate

from .attributes import serialize
from .record_items import FIRST_SEEN_PREFIX, GRID_PREFIX, SESSION_PREFIX, folded_value, state_from_item, summary_value
from .records import Records
from .table import ConditionFailed, number_value, record_key


class RecordRewrites(Records):
    def fold_sessions(
        self, client_user_id: str, media_content_key: str, before: RecordState, after: RecordState, folded: list[str]
    ) -> RecordState | None:
        """Fold sessions out of the record (`progress.bounds.fold`), unless one of them or the folded
        summary changed since `before` was read (None then; the next callback folds). Writes to other
        sessions meanwhile do not stand in its way."""
        names = {f"#k{at}": SESSION_PREFIX + key for at, key in enumerate(folded)}
        names.update({f"#t{at}": FIRST_SEEN_PREFIX + key for at, key in enumerate(folded)})
        values: dict[str, Any] = {":folded": folded_value(after.folded), ":one": {"N": "1"}}
        conditions = []
        for at, key in enumerate(folded):
            values[f":v{at}"] = {"N": str(before.sessions[key].version)}
            conditions.append(f"#k{at}[0] = :v{at}")
        if before.folded.sessions:
            values[":before"] = folded_value(before.folded)
            conditions.append("folded = :before")
        else:
            conditions.append("attribute_not_exists(folded)")
        try:
            response = self.call(
                "update_item",
                Key=record_key(client_user_id, media_content_key),
                UpdateExpression=f"SET folded = :folded REMOVE {', '.join(names)} ADD rev :one",
                ConditionExpression=" AND ".join(conditions),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ConditionFailed:
            return None
        return state_from_item(response["Attributes"])

    def move_to_grid(
        self,
        client_user_id: str,
        media_content_key: str,
        grid: int,
        blocks: frozenset[int],
        others: list[int],
        *,
        lowered: tuple[int, Decimal, Decimal] | None = None,
    ) -> RecordState | None:
        """Credit re-evaluated blocks on the grid of record and drop the sets of other grids. A union, so
        it commutes with callbacks crediting the grid of record meanwhile (no condition on the revision:
        a busy record is still moved). A block a stale instance credits on a dropped grid meanwhile
        comes back with its session's next callback."""
        names = {f"#o{at}": GRID_PREFIX + str(other) for at, other in enumerate(others)}
        values: dict[str, Any] = {":one": {"N": "1"}}
        expression = "ADD rev :one"
        if blocks:
            names["#g"] = GRID_PREFIX + str(grid)
            values[":blocks"] = {"NS": [str(block) for block in sorted(blocks)]}
            expression += ", #g :blocks"
        if lowered is not None:
            values[":lowered"] = serialize([lowered[0], lowered[1], lowered[2]])
            expression = "SET lowered = :lowered " + expression
        if others:
            expression += " REMOVE " + ", ".join(f"#o{at}" for at in range(len(others)))
        request: dict[str, Any] = {
            "Key": record_key(client_user_id, media_content_key),
            "UpdateExpression": expression,
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": values,
            "ReturnValues": "ALL_NEW",
        }
        if names:
            request["ExpressionAttributeNames"] = names
        try:
            response = self.call("update_item", **request)
        except ConditionFailed:
            return None
        return state_from_item(response["Attributes"])

    def replace_watched(
        self,
        client_user_id: str,
        media_content_key: str,
        watched: Mapping[int, frozenset[int]],
        ratio: float,
        rev: int,
        *,
        lowered: tuple[int, Decimal, Decimal] | None = None,
    ) -> RecordState | None:
        """Replace the watched sets (re-evaluated under `ratio`) unless the record changed since `rev`;
        `lowered` records that the re-evaluation lowered the record's figures."""
        current = self.get_record(client_user_id, media_content_key)
        if current is None:
            return None
        names: dict[str, str] = {}
        values: dict[str, Any] = {":ratio": number_value(ratio), ":rev": {"N": str(rev)}, ":one": {"N": "1"}}
        sets, removals = ["watch_ratio = :ratio"], []
        if lowered is not None:
            values[":lowered"] = serialize([lowered[0], lowered[1], lowered[2]])
            sets.append("lowered = :lowered")
        for position, grid in enumerate(sorted(set(current.watched) | set(watched))):
            names[f"#g{position}"] = GRID_PREFIX + str(grid)
            blocks = watched.get(grid)
            if blocks:
                values[f":g{position}"] = {"NS": [str(block) for block in sorted(blocks)]}
                sets.append(f"#g{position} = :g{position}")
            else:
                removals.append(f"#g{position}")
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removals) if removals else "") + " ADD rev :one"
        request: dict[str, Any] = {
            "Key": record_key(client_user_id, media_content_key),
            "UpdateExpression": expression,
            "ConditionExpression": "rev = :rev",
            "ExpressionAttributeValues": values,
            "ReturnValues": "ALL_NEW",
        }
        if names:
            request["ExpressionAttributeNames"] = names
        try:
            response = self.call("update_item", **request)
        except ConditionFailed:
            return None  # changed meanwhile: the next read or callback re-evaluates again
        return state_from_item(response["Attributes"])

    def withdraw_credit(self, update: SessionUpdate, blocks: frozenset[int], rev: int) -> RecordState | None:
        """Take back blocks a write just credited past the record's playback clock, and say so on its
        session, unless the record changed since `rev` (None then)."""
        summary = update.summary
        try:
            response = self.call(
                "update_item",
                Key=record_key(update.client_user_id, update.media_content_key),
                UpdateExpression="SET #s = :summary DELETE #w :blocks ADD rev :one",
                ConditionExpression="rev = :rev",
                ExpressionAttributeNames={
                    "#s": SESSION_PREFIX + update.session_key,
                    "#w": GRID_PREFIX + str(update.grid),
                },
                ExpressionAttributeValues={
                    ":summary": summary_value(summary),
                    ":blocks": {"NS": [str(block) for block in sorted(blocks)]},
                    ":rev": {"N": str(rev)},
                    ":one": {"N": "1"},
                },
                ReturnValues="ALL_NEW",
            )
        except ConditionFailed:
            return None
        return state_from_item(response["Attributes"])
