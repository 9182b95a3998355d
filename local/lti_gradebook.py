"""The local platform's gradebook, behind lti1p3platform's Assignment and Grade Services: line items
(one per launched content, or made by the tool), scores kept per learner and line item, a score to an
unknown line item refused with 404, and a score whose timestamp is not later than the last one kept
refused with 409, as Moodle does. Each service asks for its own scope, as Moodle does: scores `score`,
looking up line items `lineitem` or `lineitem.readonly`, making them `lineitem`."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lti1p3platform.exceptions import LineItemNotFoundException
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.request import Request
from lti1p3platform.score import UpdateScoreStatus
from lti1p3platform.service_connector import AssignmentsGradesService

AGS_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/"


@dataclass
class Gradebook:
    """Line items, and scores per (learner, line item) in the order accepted."""

    lineitems: dict[str, dict[str, Any]] = field(default_factory=dict)
    scores: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    refused: int = 0
    made: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def keep_lineitem(self, lineitem: Mapping[str, Any]) -> None:
        with self.lock:
            self.lineitems.setdefault(str(lineitem["id"]), dict(lineitem))

    def make_lineitem(self, base: str, wanted: Mapping[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.made += 1
            lineitem = {**wanted, "id": f"{base}/made-{self.made}"}
            self.lineitems[lineitem["id"]] = lineitem
            return lineitem

    def find_lineitems(self, resource_link_id: str | None, resource_id: str | None) -> list[dict[str, Any]]:
        with self.lock:
            return [
                dict(item)
                for item in self.lineitems.values()
                if resource_link_id in {None, item.get("resourceLinkId")}
                and resource_id in {None, item.get("resourceId")}
            ]

    def accept(self, lineitem: str, score: Mapping[str, Any]) -> UpdateScoreStatus:
        key = (str(score["userId"]), lineitem)
        with self.lock:
            if lineitem not in self.lineitems:
                raise LineItemNotFoundException()
            kept = self.scores.setdefault(key, [])
            if kept and _seconds(score["timestamp"]) <= _seconds(kept[-1]["timestamp"]):
                self.refused += 1
                return UpdateScoreStatus.OLD_TIMESTAMP
            kept.append(dict(score))
            return UpdateScoreStatus.SUCCESS if len(kept) > 1 else UpdateScoreStatus.CREATED

    def latest(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            return {f"{user}@{item}": scores[-1] for (user, item), scores in self.scores.items()}


def _seconds(timestamp: str) -> int:
    """Whole seconds of an ISO-8601 time (Moodle compares scores' timestamps in seconds)."""
    return int(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp())


class Grades(AssignmentsGradesService):
    """The gradebook behind lti1p3platform's AGS service, which checks each request's access token
    for `scopes` (the ones the operation needs)."""

    def __init__(
        self, request: Request, config: LTI1P3PlatformConfAbstract, lineitems: str, book: Gradebook, scopes: list[str]
    ) -> None:
        super().__init__(request, config, lineitems)
        self.book = book
        self.scopes = [AGS_SCOPE + scope for scope in scopes]

    @property
    def allowed_scopes(self) -> list[str]:
        return self.scopes

    def update_score(self, line_item_id: str, score: Any) -> UpdateScoreStatus:
        return self.book.accept(line_item_id, score)

    def find_lineitems(  # noqa: PLR0917 (lti1p3platform's signature)
        self,
        page: int = 1,
        limit: int | None = None,
        line_item_id: str | None = None,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
    ) -> Any:
        return {"content": self.book.find_lineitems(resource_link_id, resource_id), "has_next": False}

    def find_lineitem(self, line_item_id: str) -> Any:
        raise NotImplementedError

    def create_lineitem(self, creation_data: Any) -> Any:
        return self.book.make_lineitem(self.ags.lineitems_url or "", creation_data)

    def update_lineitem(self, update_data: Any) -> Any:
        raise NotImplementedError

    def delete_lineitem(self, line_item_id: str) -> None:
        raise NotImplementedError

    def get_results(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError
