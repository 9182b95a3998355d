"""What the API says about a request it refuses (`api.refusals`): pure, from pydantic's errors and the
OpenAPI document's paths."""

from __future__ import annotations

from kollus_bridge.api.refusals import Routes, field_of, invalid_request, media_type
from kollus_bridge.errors import MethodNotAllowed, NotFound

from local.http_api import bind
from local.template import DEFAULT_ROUTE, ROOT, Route


def test_a_field_is_named_as_the_client_sent_it() -> None:
    assert field_of(("body", "rules", 0, "ratio")) == "rules.0.ratio"
    assert field_of(("query", "limit")) == "limit"
    assert field_of(("body",)) is None
    # a tagged union's tag is in pydantic's location, not in what was sent
    assert field_of(("body", "content", "zzz"), {"kind": "content", "zzz": 1}) == "zzz"
    assert field_of(("body", "title"), {"titel": "x"}) == "title"  # missing: its name all the same


def test_of_several_errors_the_one_that_explains_the_others_is_reported() -> None:
    missing = {"type": "missing", "loc": ("body", "title"), "msg": "Field required"}
    extra = {"type": "extra_forbidden", "loc": ("body", "titel"), "msg": "Extra inputs are not permitted"}
    error = invalid_request([missing, extra], '{"titel": "x"}')
    assert (error.message, error.field) == ("unknown field 'titel'; did you mean 'title'?", "titel")
    far = {"type": "extra_forbidden", "loc": ("body", "zzz"), "msg": "Extra inputs are not permitted"}
    assert invalid_request([missing, far], '{"zzz": 1}').message == "unknown field 'zzz'"
    broken = {"type": "json_invalid", "loc": ("body", 12), "msg": "JSON decode error", "ctx": {"error": "EOF"}}
    error = invalid_request([missing, broken], '{\n  "title":')
    assert (error.message, error.field) == ("the body is not valid JSON: Expecting value (line 2, column 11)", "body")
    assert invalid_request([broken], None).message == "the body is not valid JSON: EOF (line 1, column 13)"  # pydantic
    bound = {
        "type": "greater_than_equal",
        "loc": ("query", "limit"),
        "msg": "Input should be greater than or equal to 1",
    }
    assert invalid_request([bound], None).message == "limit should be greater than or equal to 1"
    pattern = {"type": "string_pattern_mismatch", "loc": ("path", "platform_id"), "msg": "String should match",
               "ctx": {"pattern": "^[a-z]+$"}}  # fmt: skip
    assert (
        invalid_request([pattern], None).message == "platform_id does not have the expected form (the pattern ^[a-z]+$)"
    )
    assert invalid_request([], None).message == "the request is not valid"


def test_a_method_the_path_does_not_take_is_told_from_a_path_there_is_not() -> None:
    routes = Routes({"/v1/courses/{course_id}": {"get": {}, "put": {}, "delete": {}}, "/v1/courses": {"get": {}}})
    refused = routes.refusal("POST", "/v1/courses/algo")
    assert isinstance(refused, MethodNotAllowed) and refused.allowed == ("DELETE", "GET", "PUT")
    assert refused.message == "/v1/courses/algo does not take POST; it takes DELETE, GET, PUT"
    assert isinstance(routes.refusal("GET", "/v1/courses/algo/x"), NotFound)
    assert isinstance(routes.refusal("GET", "/v1/courses/\U00018cd6"), NotFound)  # taken, but not that value
    assert routes.allowed("/v1/courses/") == []  # an empty parameter is no path
    assert media_type("Application/JSON; charset=utf-8") == "application/json"


def test_the_local_http_api_tries_the_default_route_after_every_other() -> None:
    default = Route("ANY", DEFAULT_ROUTE, "ApiFunction", ROOT, "app.lambda_handler")
    progress = Route("GET", "/v1/progress", "ApiFunction", ROOT, "app.lambda_handler")
    bound = bind([default, progress], {"ApiFunction": lambda event, context: {}})
    assert [each.route.route_key for each in bound] == ["GET /v1/progress", "$default"]
    assert bound[1].pattern.match("/anything/at/all")
