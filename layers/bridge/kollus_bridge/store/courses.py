"""Courses and enrolments, laid out for the play callback's two small reads:

- `pk=COURSES`, `sk=<course>`: a course (title, its media content keys), listed by one query;
- `pk=CC#<content>`, `sk=<course>`: the courses holding a content (one query per check);
- `pk=L#<learner>`, `sk=E#<course>`: a learner's enrolments, in the learner's own partition beside
  their progress records (one query per check);
- `pk=CE#<course>`, `sk=<learner>`: the same enrolment seen from the course, for its listing.

An enrolment is written to both sides in one transaction; a batch is idempotent (the same batch again
writes the same items).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote

from kollus_bridge.access.entitlement import Enrolment
from kollus_bridge.access.ports import Course
from kollus_bridge.errors import InvalidRequest

from .pages import decode_token, encode_token
from .table import Table, key_part, learner_partition

COURSES = {"S": "COURSES"}
ENROLMENT_PREFIX = "E#"
KEY_TYPES = {"pk": "S", "sk": "S"}
#: Items one TransactWriteItems may hold.
TRANSACTION_LIMIT = 100


def course_key(course_id: str) -> dict[str, Any]:
    return {"pk": COURSES, "sk": {"S": key_part(course_id)}}


def _holding_key(media_content_key: str, course_id: str) -> dict[str, Any]:
    return {"pk": {"S": "CC#" + key_part(media_content_key)}, "sk": {"S": key_part(course_id)}}


def _learner_side(client_user_id: str, course_id: str) -> dict[str, Any]:
    return {"pk": learner_partition(client_user_id), "sk": {"S": ENROLMENT_PREFIX + key_part(course_id)}}


def _course_side(course_id: str, client_user_id: str) -> dict[str, Any]:
    return {"pk": {"S": "CE#" + key_part(course_id)}, "sk": {"S": key_part(client_user_id)}}


def _window(enrolment: Enrolment) -> dict[str, Any]:
    item: dict[str, Any] = {
        "course_id": {"S": enrolment.course_id},
        "client_user_id": {"S": enrolment.client_user_id},
    }
    if enrolment.starts_at is not None:
        item["starts_at"] = {"N": str(enrolment.starts_at)}
    if enrolment.ends_at is not None:
        item["ends_at"] = {"N": str(enrolment.ends_at)}
    if enrolment.source is not None:
        item["source"] = {"S": enrolment.source}
    if enrolment.granted_at is not None:
        item["granted_at"] = {"N": str(enrolment.granted_at)}
    return item


def enrolment_from_item(item: Mapping[str, Any]) -> Enrolment:
    starts, ends, granted = item.get("starts_at"), item.get("ends_at"), item.get("granted_at")
    return Enrolment(
        item["course_id"]["S"],
        item["client_user_id"]["S"],
        None if starts is None else int(starts["N"]),
        None if ends is None else int(ends["N"]),
        source=item["source"]["S"] if "source" in item else None,
        granted_at=None if granted is None else int(granted["N"]),
    )


def course_from_item(item: Mapping[str, Any]) -> Course:
    contents = tuple(value["S"] for value in item.get("media_content_keys", {}).get("L", []))
    limit = int(item["max_devices"]["N"]) if "max_devices" in item else None
    return Course(unquote(item["sk"]["S"]), item["title"]["S"], contents, int(item["updated_at"]["N"]), limit)


class Courses(Table):
    def get_course(self, course_id: str) -> Course | None:
        item = self.call("get_item", Key=course_key(course_id), ConsistentRead=True).get("Item")
        return None if item is None else course_from_item(item)

    def put_course(self, course: Course) -> None:
        """Write a course and which contents it holds (the holding items follow its content list)."""
        previous = self.get_course(course.course_id)
        old = set(previous.media_content_keys) if previous else set()
        new = set(course.media_content_keys)
        item = {
            **course_key(course.course_id),
            "title": {"S": course.title},
            "media_content_keys": {"L": [{"S": key} for key in course.media_content_keys]},
            "updated_at": {"N": str(course.updated_at)},
        }
        if course.max_devices is not None:
            item["max_devices"] = {"N": str(course.max_devices)}
        writes: list[dict[str, Any]] = [{"Put": {"TableName": self.table_name, "Item": item}}]
        writes += [
            {"Put": {"TableName": self.table_name, "Item": _holding_key(key, course.course_id)}}
            for key in sorted(new - old)
        ]
        writes += [
            {"Delete": {"TableName": self.table_name, "Key": _holding_key(key, course.course_id)}}
            for key in sorted(old - new)
        ]
        self._transact(writes)

    def delete_course(self, course_id: str) -> Course | None:
        """Delete a course and its holding items (its enrolments stay, and entitle to nothing); the
        course deleted, or None when there was none."""
        previous = self.get_course(course_id)
        if previous is None:
            return None
        writes: list[dict[str, Any]] = [{"Delete": {"TableName": self.table_name, "Key": course_key(course_id)}}]
        writes += [
            {"Delete": {"TableName": self.table_name, "Key": _holding_key(key, course_id)}}
            for key in previous.media_content_keys
        ]
        self._transact(writes)
        return previous

    def _transact(self, writes: list[dict[str, Any]]) -> None:
        for at in range(0, len(writes), TRANSACTION_LIMIT):
            self.call("transact_write_items", TransactItems=writes[at : at + TRANSACTION_LIMIT])

    def list_courses(self, limit: int, next_token: str | None) -> tuple[list[Course], str | None]:
        request = {"KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": COURSES}, "Limit": limit}
        items, last = self.query_page(request, decode_token(next_token, KEY_TYPES, {"pk": COURSES}))
        return [course_from_item(item) for item in items], encode_token(last)

    def put_enrolments(self, enrolments: Iterable[Enrolment]) -> None:
        """Both sides of each enrolment, 50 enrolments to a transaction."""
        writes: list[dict[str, Any]] = []
        for enrolment in enrolments:
            window = _window(enrolment)
            for key in (
                _learner_side(enrolment.client_user_id, enrolment.course_id),
                _course_side(enrolment.course_id, enrolment.client_user_id),
            ):
                writes.append({"Put": {"TableName": self.table_name, "Item": {**key, **window}}})
        self._transact(writes)

    def delete_enrolment(self, course_id: str, client_user_id: str) -> None:
        self._transact(
            [
                {"Delete": {"TableName": self.table_name, "Key": _learner_side(client_user_id, course_id)}},
                {"Delete": {"TableName": self.table_name, "Key": _course_side(course_id, client_user_id)}},
            ]
        )

    def enrolments_of(self, client_user_id: str) -> list[Enrolment]:
        """Every enrolment of a learner (one query of the learner's partition)."""
        found: list[Enrolment] = []
        start: Mapping[str, Any] | None = None
        while True:
            request = {
                "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
                "ExpressionAttributeValues": {
                    ":pk": learner_partition(client_user_id),
                    ":prefix": {"S": ENROLMENT_PREFIX},
                },
            }
            items, start = self.query_page(request, start)
            found += [enrolment_from_item(item) for item in items]
            if start is None:
                return found

    def course_enrolments(self, course_id: str) -> list[Enrolment]:
        """Every enrolment of a course, ended ones included."""
        found: list[Enrolment] = []
        token: str | None = None
        while True:
            page, token = self.enrolments_page(course_id=course_id, client_user_id=None, limit=1000, next_token=token)
            found += page
            if token is None:
                return found

    def courses_holding(self, media_content_key: str) -> set[str]:
        request = {
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": "CC#" + key_part(media_content_key)}},
            "ProjectionExpression": "sk",
        }
        found: set[str] = set()
        start: Mapping[str, Any] | None = None
        while True:
            items, start = self.query_page(dict(request), start)
            found |= {unquote(item["sk"]["S"]) for item in items}
            if start is None:
                return found

    def enrolments_page(
        self, *, course_id: str | None, client_user_id: str | None, limit: int, next_token: str | None
    ) -> tuple[list[Enrolment], str | None]:
        """A course's enrolments, or a learner's, one page at a time."""
        if course_id is not None:
            partition = {"S": "CE#" + key_part(course_id)}
            condition = "pk = :pk"
            values: dict[str, Any] = {":pk": partition}
        elif client_user_id is not None:
            partition = learner_partition(client_user_id)
            condition = "pk = :pk AND begins_with(sk, :prefix)"
            values = {":pk": partition, ":prefix": {"S": ENROLMENT_PREFIX}}
        else:
            raise InvalidRequest("give a course or a learner", field="client_user_id")
        start = decode_token(next_token, KEY_TYPES, {"pk": partition})
        if client_user_id is not None and start is not None and not start["sk"]["S"].startswith(ENROLMENT_PREFIX):
            raise InvalidRequest("next_token is not a token this API issued", field="next_token")
        request = {"KeyConditionExpression": condition, "ExpressionAttributeValues": values, "Limit": limit}
        items, last = self.query_page(request, start)
        return [enrolment_from_item(item) for item in items], encode_token(last)
