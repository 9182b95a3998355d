"""The learner table of a computation, beside its insights, under `pk=AN#<content>`:
`sk=L#<scope>#<job>#<item>`, each item a deflated JSON list of rows (`ROWS_PER_ITEM` at most, well
under DynamoDB's 400 KB). A computation (one job: the ask's time) writes its parts (a shard its
own, the planner the enrolled learners who have not started) before the insights that name the job,
so a page reading the insights' job finds every row counted in them. Parts expire with the insights
(TTL)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .insights import _key, _pack, items_under, unpack
from .table import Table

#: Rows to an item: a row packs to well under 200 bytes, its tier strip one character a block.
ROWS_PER_ITEM = 1000
#: Items one part may take (a part of 1,000,000 learners at most), so parts never share an item.
ITEMS_PER_PART = 1000


class InsightRows(Table):
    def put_table_rows(  # noqa: PLR0917 (where: content, scope, job, part; what; how long)
        self, media_content_key: str, scope: str, job: int, part: int, rows: Sequence[Mapping[str, Any]],
        keep_days: int = 30,
    ) -> None:  # fmt: skip
        """Keep rows as part `part` of the job's table (a shard's index, or the planner's own part), in
        items of `ROWS_PER_ITEM`."""
        expires = {"N": str(job // 1000 + keep_days * 86_400)}
        self.batch_put(
            [
                {
                    **_key(media_content_key, "L", scope, job, part * ITEMS_PER_PART + index),
                    "rows": _pack({"rows": list(rows[at : at + ROWS_PER_ITEM])}),
                    "expires_at": expires,
                }
                for index, at in enumerate(range(0, len(rows), ROWS_PER_ITEM))
            ]
        )

    def table_rows(self, media_content_key: str, scope: str, job: int) -> list[dict[str, Any]]:
        """Every row of a job's table, part by part."""
        items = items_under(self, media_content_key, "L", scope, job)
        return [row for item in items for row in unpack(item["rows"])["rows"]]
