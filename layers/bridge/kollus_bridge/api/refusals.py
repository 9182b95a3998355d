"""What the API says about a request it cannot serve, in words a newcomer can act on: the one value
that is wrong and what is expected of it (from the same models that generate the OpenAPI document),
where a JSON body stops being JSON, which content type to send, and which methods a path takes.

Pure: the resolver (`api.http`) hands over what it found and answers with the error made here.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kollus_bridge.errors import InvalidRequest, MethodNotAllowed, NotFound, UnsupportedMediaType

#: The locations Powertools puts in front of a field's name.
_LOCATIONS = ("query", "path", "body", "header", "cookie")
#: Which error of several to report: a body that is not JSON explains every other; an unknown field
#: explains the "missing" one it was meant to be.
_FIRST = ("json_invalid", "extra_forbidden", "union_tag_invalid", "union_tag_not_found")
#: Media types a JSON body may be sent as.
JSON_TYPES = ("application/json",)


def field_of(location: Sequence[Any], document: Any = None) -> str | None:
    """`("body", "rules", 0, "ratio")` → `rules.0.ratio`; None for the body (or query) as a whole.
    Given the body's `document`, a part that is not in it (the tag pydantic adds inside a tagged
    union) is left out: the name is the field's path in what the client sent."""
    parts = list(location[1:] if location and location[0] in _LOCATIONS else location)  # ("query", "limit")
    if document is not None and tuple(location[:1]) == ("body",):
        kept, node = [], document
        for index, part in enumerate(parts):
            present = isinstance(node, dict) and part in node
            if present or (isinstance(node, list) and isinstance(part, int) and part < len(node)):
                node = node[part]
            elif index < len(parts) - 1 and isinstance(node, dict):
                continue  # a union's tag, not a key the client sent
            else:
                node = None
            kept.append(part)
        parts = kept
    return ".".join(str(part) for part in parts) or None


def _position(body: str, offset: int) -> str:
    before = body[:offset]
    line = before.count("\n") + 1
    column = offset - (before.rfind("\n") + 1) + 1
    return f"line {line}, column {column}"


def _expected(detail: Mapping[str, Any]) -> str:
    """What pydantic says the value should be, as the rest of a sentence about the field."""
    kind = str(detail.get("type", ""))
    context = detail.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind == "string_pattern_mismatch":
        return f"does not have the expected form (the pattern {context.get('pattern')})"
    message = str(detail.get("msg", "is invalid"))
    message = message.removeprefix("Value error, ")
    if message.startswith("Input should"):  # what is expected: "should be less than or equal to 500"
        return "should" + message.removeprefix("Input should").split(", unable to")[0]
    return f"is invalid: {message[:1].lower()}{message[1:]}"


def invalid_request(errors: Iterable[Mapping[str, Any]], body: str | None) -> InvalidRequest:
    """The one error to report of pydantic's list, in words, naming its field."""
    details = [{**detail, "loc": tuple(detail.get("loc", ()))} for detail in errors]
    if not details:
        return InvalidRequest("the request is not valid")
    # The standard library's reading of the body says where it stops being JSON and why, whichever
    # parser the request validation used (the runtime's Python 3.13 names a trailing comma as such).
    broken: json.JSONDecodeError | None = None
    try:
        document = json.loads(body) if body else None
    except json.JSONDecodeError as error:
        document, broken = None, error
    except ValueError:
        document = None
    detail = next((found for kind in _FIRST for found in details if found.get("type") == kind), details[0])
    kind = str(detail.get("type", ""))
    location = list(detail.get("loc", ()))
    context = detail.get("ctx") or {}
    if kind == "json_invalid":
        offset = broken.pos if broken else next((part for part in location if isinstance(part, int)), None)
        where = f" ({_position(body or '', offset)})" if offset is not None else ""
        reason = broken.msg if broken else str(context.get("error", "not JSON"))
        return InvalidRequest(f"the body is not valid JSON: {reason}{where}", field="body")
    if kind == "extra_forbidden":
        unknown = field_of(location, document) or "?"
        known = [
            name for other in details if other.get("type") == "missing" and (name := field_of(other["loc"], document))
        ]
        close = difflib.get_close_matches(unknown.rsplit(".", 1)[-1], [name.rsplit(".", 1)[-1] for name in known], 1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return InvalidRequest(f"unknown field {unknown!r}{hint}", field=unknown)
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tag = str(context.get("discriminator", "kind")).strip("'")
        prefix = field_of(location, document)
        tagged = f"{prefix}.{tag}" if prefix else tag
        expected = context.get("expected_tags", "")
        if kind == "union_tag_not_found":
            return InvalidRequest(f"{tagged} is required (one of {expected})", field=tagged)
        return InvalidRequest(f"{tagged} should be one of {expected}, not {context.get('tag')!r}", field=tagged)
    field = field_of(location, document)
    if kind == "value_error":  # the model's own words (a rule across fields, as ends_at after starts_at)
        return InvalidRequest(str(detail.get("msg", "")).removeprefix("Value error, "), field=field or "body")
    if field is None:
        if kind == "missing":
            return InvalidRequest("the request needs a JSON body (an object)", field="body")
        if kind in ("model_attributes_type", "dict_type", "model_type"):
            return InvalidRequest("the body should be a JSON object", field="body")
        return InvalidRequest(f"the body {_expected(detail)}", field="body")
    return InvalidRequest(f"{field} {_expected(detail)}", field=field)


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def wrong_media_type(content_type: str | None, expected: str = "application/json") -> UnsupportedMediaType:
    sent = media_type(content_type)
    kind = "JSON" if expected == "application/json" else "a form"
    return UnsupportedMediaType(
        f"send the body as {kind} with Content-Type: {expected} (this request's is {sent or 'missing'})",
        field="content-type",
    )


def _pattern(path: str) -> re.Pattern[str]:
    """An OpenAPI path (`/v1/courses/{course_id}`) as a regular expression over request paths."""
    parts = re.split(r"(\{[^}]+\})", path)
    return re.compile("^" + "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts) + "$")


class Routes:
    """Which methods each documented path takes (from the OpenAPI document), to tell a method the path
    does not take (405, with `Allow`) from a path there is not (404)."""

    def __init__(self, paths: Mapping[str, Mapping[str, Any]]) -> None:
        methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
        self._paths = [
            (_pattern(path), sorted(name.upper() for name in set(item) & methods)) for path, item in paths.items()
        ]

    def allowed(self, path: str) -> list[str]:
        found: set[str] = set()
        for pattern, methods in self._paths:
            if pattern.match(path):
                found.update(methods)
        return sorted(found)

    def refusal(self, method: str, path: str) -> NotFound | MethodNotAllowed:
        allowed = self.allowed(path)
        if allowed and method not in allowed:  # (a method it takes, on a value no route reads: 404)
            return MethodNotAllowed(f"{path} does not take {method}; it takes {', '.join(allowed)}", allowed)
        return NotFound(f"there is no route {method} {path}; the routes are listed in /v1/openapi.json")
