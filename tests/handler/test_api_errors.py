"""The answers a newcomer's mistakes get from the API, walked over every route of the OpenAPI document:
a method the path does not take (405 with `Allow`), a path there is not (404), a JSON body that does not
parse (where it stops), a body sent as a form or as text (which content type to send), an unknown field
or query parameter (named), a value out of range (what is expected); all in the one error shape."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import boto3
import pytest
from kollus_bridge.api.models import ErrorBody
from moto import mock_aws

from local.dynamodb_local import create_tables
from local.openapi import DOCUMENT
from tests.helpers import invoke
from tests.payloads import API_TOKEN, FORM, http_event

SPEC = json.loads(DOCUMENT.read_text(encoding="utf-8"))
#: How the standard library reads a trailing comma: Python 3.13, the runtime's, names it at the comma;
#: 3.11 (which `make test` also runs) at the brace after it.
TRAILING_COMMA, AFTER_COMMA = (
    ("Illegal trailing comma before end of object", 0) if sys.version_info >= (3, 13)
    else ("Expecting property name enclosed in double quotes", 1)
)  # fmt: skip
OPERATIONS = [
    (method.upper(), path, operation) for path, item in SPEC["paths"].items() for method, operation in item.items()
]
JSON_BODIES = [
    entry for entry in OPERATIONS if "application/json" in entry[2].get("requestBody", {}).get("content", {})
]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def error(self) -> dict[str, Any]:
        """The one error shape, checked."""
        assert self.headers.get("Content-Type") == "application/json", self.headers
        return ErrorBody.model_validate(self.body).error.model_dump()


@pytest.fixture
def api(
    function_environment: Callable[[dict[str, str]], None], load_functions: Callable[[], dict[str, ModuleType]]
) -> Iterator[Callable[..., Answer]]:
    with mock_aws():
        function_environment({})
        table = create_tables(boto3.client("dynamodb", region_name="us-east-1"))["ProgressTable"]
        function_environment({"TABLE_NAME": table})
        module = load_functions()["ApiFunction"]

        def call(method: str, path: str, body: str | None = None, content_type: str | None = None, query: str = "",
                 **headers: str) -> Answer:  # fmt: skip
            event = http_event(
                method, path, "$default", body=None if body is None else body.encode(), content_type=content_type,
                query=query, headers={"authorization": f"Bearer {API_TOKEN}", **headers}, base64_body=False,
            )  # fmt: skip
            response = invoke(module, event)
            text = response.get("body") or ""
            kind = (response.get("headers") or {}).get("Content-Type", "")
            return Answer(
                response["statusCode"], response.get("headers") or {}, json.loads(text) if "json" in kind else text
            )

        yield call


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def example_body(operation: dict[str, Any]) -> dict[str, Any]:
    """The first example of the operation's JSON body (from its model), or an empty object."""
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    schema = (schema.get("oneOf") or schema.get("anyOf") or [schema])[0]  # a tagged union: its first kind
    if "$ref" in schema:
        schema = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    examples = schema.get("examples") or [{}]
    return dict(examples[0])


def test_the_mistakes_newcomers_made_get_these_exact_answers(api: Callable[..., Answer]) -> None:
    as_form = api("POST", "/v1/uploads", '{"title": "Week 1"}', FORM)
    assert (as_form.status, as_form.error) == (415, {
        "code": "unsupported_media_type", "field": "content-type",
        "message": "send the body as JSON with Content-Type: application/json (this request's is "
                   "application/x-www-form-urlencoded)",
    })  # fmt: skip
    comma = api("POST", "/v1/uploads", '{"title": "Week 1",\n "channel_key": "c",}', "application/json")
    assert (comma.status, comma.error) == (400, {
        "code": "invalid_request", "field": "body",
        "message": f"the body is not valid JSON: {TRAILING_COMMA} (line 2, column {20 + AFTER_COMMA})",
    })  # fmt: skip
    misspelt = api("POST", "/v1/uploads", '{"titel": "Week 1"}', "application/json")
    assert (misspelt.status, misspelt.error) == (400, {
        "code": "invalid_request", "field": "titel", "message": "unknown field 'titel'; did you mean 'title'?"
    })  # fmt: skip
    text = api("POST", "/v1/uploads", '{"title": "Week 1"}', "text/plain")
    assert (text.status, text.error["code"], text.error["field"]) == (415, "unsupported_media_type", "content-type")
    assert text.error["message"].endswith("(this request's is text/plain)")
    unknown = api("GET", "/v1/progres")
    assert (unknown.status, unknown.error) == (404, {
        "code": "not_found", "field": None,
        "message": "there is no route GET /v1/progres; the routes are listed in /v1/openapi.json",
    })  # fmt: skip
    stranger = api("GET", "/v1/progres", authorization="")  # a path there is not: 404 to anyone, like the document
    assert (stranger.status, stranger.error["code"]) == (404, "not_found")
    assert api("GET", "/v1/progress", query="media_content_key=k", authorization="").status == 401
    too_many = api("GET", "/v1/progress", query="media_content_key=k&limit=5000")
    assert (too_many.status, too_many.error) == (400, {
        "code": "invalid_request", "field": "limit", "message": "limit should be less than or equal to 500"
    })  # fmt: skip
    not_a_number = api("GET", "/v1/progress", query="media_content_key=k&limit=ten")
    assert not_a_number.error["message"] == "limit should be a valid integer"
    kind = api("POST", "/v1/view-links", '{"kind": "lecture", "media_content_key": "k"}', "application/json")
    assert (kind.status, kind.error) == (400, {
        "code": "invalid_request", "field": "kind",
        "message": "kind should be one of 'content', 'learner', 'learner_content', 'course', not 'lecture'",
    })  # fmt: skip
    misspelt_query = api("GET", "/v1/progress", query="media_content_key=k&limt=5")
    assert misspelt_query.error == {
        "code": "invalid_request", "field": "limt",
        "message": "unknown query parameter 'limt' (this route takes: client_user_id, limit, media_content_key, "
                   "next_token)",
    }  # fmt: skip
    delete = api("DELETE", "/v1/progress")
    assert (delete.status, delete.headers["Allow"], delete.error["code"]) == (405, "GET", "method_not_allowed")
    assert delete.error["message"] == "/v1/progress does not take DELETE; it takes GET"
    empty = api("PUT", "/v1/contents/k/rules", "", "application/json")
    assert empty.error == {
        "code": "invalid_request",
        "field": "body",
        "message": "the request needs a JSON body (an object)",
    }
    listed = api("PUT", "/v1/contents/k/rules", "[1, 2]", "application/json")
    assert listed.error == {"code": "invalid_request", "field": "body", "message": "the body should be a JSON object"}


def test_a_page_link_never_answers_json_to_a_browser(api: Callable[..., Answer]) -> None:
    made = api(
        "POST", "/v1/view-links", '{"kind": "content", "media_content_key": "k", "lang": "en"}', "application/json"
    )
    assert made.status == 201
    path = "/v1/views/" + made.body["url"].rsplit("/", 1)[-1]
    other = api("GET", path, query="lang=ja", accept="text/html")
    assert other.status == 200 and other.body.startswith('<!DOCTYPE html><html lang="en">')  # the link's language
    korean = api("GET", path, query="lang=ko", accept="text/html")
    assert korean.body.startswith('<!DOCTYPE html><html lang="ko">')
    expired = api("GET", "/v1/views/v1.not-a-link.sig", query="lang=en", accept="text/html")
    assert expired.status == 403 and expired.headers["Content-Type"].startswith("text/html")
    assert "This link has expired" in expired.body and "{" not in expired.body.split("<body>")[1]
    machine = api("GET", "/v1/views/v1.not-a-link.sig", accept="application/json")
    assert (machine.status, machine.error["code"], machine.error["field"]) == (403, "forbidden", "token")


@pytest.mark.parametrize("path", sorted(SPEC["paths"]))
def test_every_path_asked_with_a_method_it_does_not_take_answers_405_naming_those_it_takes(
    api: Callable[..., Answer], path: str
) -> None:
    taken = sorted(method.upper() for method in SPEC["paths"][path])
    wrong = next(method for method in ("PATCH", "PUT", "DELETE", "POST", "GET") if method not in taken)
    answer = api(wrong, concrete(path))
    assert (answer.status, answer.headers.get("Allow"), answer.error["code"]) == (
        405,
        ", ".join(taken),
        "method_not_allowed",
    )
    assert answer.error["message"] == f"{concrete(path)} does not take {wrong}; it takes {', '.join(taken)}"


@pytest.mark.parametrize("path", ["/", "/v1", "/v2/progress", "/v1/progress/x/y", "/callbacks/kollus", "/v1/%F0%9F"])
def test_a_path_there_is_not_answers_404_in_the_one_shape(api: Callable[..., Answer], path: str) -> None:
    for method in ("GET", "POST"):
        answer = api(method, path)
        assert (answer.status, answer.error["code"], answer.headers.get("Allow")) == (404, "not_found", None)


@pytest.mark.parametrize(("method", "path"), [(method, path) for method, path, _ in JSON_BODIES])
def test_every_json_body_route_says_what_is_wrong_with_its_body(
    api: Callable[..., Answer], method: str, path: str
) -> None:
    operation = next(entry[2] for entry in JSON_BODIES if entry[:2] == (method, path))
    broken = api(method, concrete(path), '{"a": 1,}', "application/json")
    assert (broken.status, broken.error["field"]) == (400, "body")
    assert (
        broken.error["message"].startswith("the body is not valid JSON: ")
        and f"(line 1, column {8 + AFTER_COMMA})" in broken.error["message"]
    )
    for content_type in ("text/plain", FORM, "multipart/form-data; boundary=x"):
        wrong = api(method, concrete(path), json.dumps(example_body(operation)), content_type)
        assert (wrong.status, wrong.error["code"], wrong.error["field"]) == (
            415,
            "unsupported_media_type",
            "content-type",
        )
        assert "application/json" in wrong.error["message"]
    extra = api(method, concrete(path), json.dumps({**example_body(operation), "zzz_unknown": 1}), "application/json")
    assert (extra.status, extra.error["field"]) == (400, "zzz_unknown")
    assert extra.error["message"].startswith("unknown field 'zzz_unknown'")


@pytest.mark.parametrize(
    ("method", "path"),
    [(method, path) for method, path, operation in OPERATIONS
     if any(parameter["in"] == "query" for parameter in operation.get("parameters", []))],
)  # fmt: skip
def test_every_query_route_names_an_unknown_parameter_and_says_what_a_value_should_be(
    api: Callable[..., Answer], method: str, path: str
) -> None:
    operation = next(entry[2] for entry in OPERATIONS if entry[:2] == (method, path))
    queries = [parameter for parameter in operation["parameters"] if parameter["in"] == "query"]
    unknown = api(method, concrete(path), query="zzz=1")
    assert (unknown.status, unknown.error["field"]) == (400, "zzz")
    assert unknown.error["message"].startswith("unknown query parameter 'zzz' (this route takes: ")
    required = "".join(f"&{parameter['name']}=x" for parameter in queries if parameter.get("required"))
    for parameter in queries:
        bound = parameter.get("schema", {}).get("maximum")
        if bound is not None:
            above = api(method, concrete(path), query=f"{parameter['name']}={int(bound) + 1}{required}")
            assert (above.status, above.error) == (400, {
                "code": "invalid_request", "field": parameter["name"],
                "message": f"{parameter['name']} should be less than or equal to {int(bound)}",
            })  # fmt: skip
