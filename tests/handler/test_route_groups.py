"""The API function makes its route groups (contents, playback, sync, courses, LTI, analytics, views) on
the first request under their paths (kollus_bridge.api.route_groups): every path of the OpenAPI
document is served by exactly the group that declares it (or by none: the core, progress, and the
callbacks other functions serve), and a request loads only its own group."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from types import ModuleType

from local.openapi import DOCUMENT
from tests.helpers import body_of, invoke
from tests.payloads import API_TOKEN, http_event


def _concrete(path: str) -> str:
    """A path of the document (`{name}`) or of a router (`<name>`) with its parameters filled in."""
    return re.sub(r"\{[^}]+\}|<[^>]+>", "x", path)


def test_every_path_is_served_by_the_group_that_declares_it(
    function_environment: Callable[[dict[str, str]], None], load_functions: Callable[[], dict[str, ModuleType]]
) -> None:
    function_environment({})
    groups = load_functions()["ApiFunction"].lazy_routes.groups
    declared = {group.name: {_concrete(rule[0]) for rule in group.make()._routes} for group in groups}
    documented = {_concrete(path) for path in json.loads(DOCUMENT.read_text(encoding="utf-8"))["paths"]}
    assert set().union(*declared.values()) <= documented
    for path in documented:
        serving = [group.name for group in groups if group.serves(path)]
        assert serving == [name for name, paths in declared.items() if path in paths], path
    core = {path for path in documented if not any(group.serves(path) for group in groups)}
    callbacks = {path for path in documented if path.startswith("/callbacks/")}  # other functions serve them
    assert core == {"/v1/progress", "/v1/progress/flags"} | callbacks


def test_a_request_loads_its_own_group_and_the_answer_is_the_same_as_with_every_group(
    function_environment: Callable[[dict[str, str]], None], load_functions: Callable[[], dict[str, ModuleType]]
) -> None:
    function_environment({})
    api = load_functions()["ApiFunction"]
    assert api.lazy_routes.loaded == set()
    refused = invoke(api, http_event("GET", "/v1/analytics/learners/x", "$default", content_type=None))
    assert refused["statusCode"] == 401 and api.lazy_routes.loaded == {"analytics"}  # found, then refused
    bearer = {"authorization": f"Bearer {API_TOKEN}"}

    def get(path: str, query: str = "") -> dict[str, object]:
        return invoke(api, http_event("GET", path, "$default", content_type=None, query=query, headers=bearer))

    bad_limit = get("/v1/learners/x/enrollments", "limit=0")  # refused before storage
    assert bad_limit["statusCode"] == 400 and body_of(bad_limit)["error"]["field"] == "limit"
    unknown = get("/v1/enrolments")
    assert api.lazy_routes.loaded == {"analytics", "courses"} and unknown["statusCode"] == 404
    api.lazy_routes.load_all()
    assert api.lazy_routes.loaded == {"analytics", "courses", "lti", "views", "contents", "playback", "sync"}
    for answer, path, query in ((bad_limit, "/v1/learners/x/enrollments", "limit=0"), (unknown, "/v1/enrolments", "")):
        again = get(path, query)
        assert (again["statusCode"], body_of(again)) == (answer["statusCode"], body_of(answer))
