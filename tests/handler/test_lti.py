"""The LTI 1.3 tool on moto, launched by a real platform implementation (lti1p3platform, run by
`local.lti_platform`): logins, launches and every way a launch is refused; platform registration;
the tool's key set and its rotation in Secrets Manager; grades passed back by the sweep, with one
access token across invocations, to the launch's line item or to one the tool looks up or makes."""

from __future__ import annotations

import base64
import html
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3
import jwt
import pytest
import urllib3
from kollus_bridge.api.picker import PICK_PAGE
from kollus_bridge.content.catalog import Entry, Status
from kollus_bridge.delivery.ledger import Target
from kollus_bridge.lti.keys import ToolKeys
from kollus_bridge.runtime import lti as runtime
from kollus_bridge.settings import settings_from
from kollus_bridge.store.secrets import secrets_client
from kollus_bridge.store.session import aws_session
from moto import mock_aws

from local.dynamodb_local import LOCAL_CREDENTIALS, create_tables
from local.http_api import LambdaContext
from local.lms_receiver import LmsReceiver
from local.lti_platform import CLIENT_ID, LtiPlatform, message_hint
from local.stack import LOCAL_DEFAULTS
from tests.helpers import JsonDocument, body_of, invoke, load_event, serving
from tests.payloads import API_TOKEN, FORM, Snapshot, callback_event, http_event

TOOL = "https://api.example.com"
ROUTES = {
    ("GET", "/.well-known/jwks.json"): "GET /.well-known/jwks.json",
    ("GET", "/lti/login"): "GET /lti/login",
    ("POST", "/lti/login"): "POST /lti/login",
    ("POST", "/lti/launch"): "POST /lti/launch",
    ("POST", "/lti/deep-link"): "POST /lti/deep-link",
    ("GET", "/lti/deep-link"): "GET /lti/deep-link",
    ("GET", "/v1/lti/platforms"): "GET /v1/lti/platforms",
    ("POST", "/v1/lti/keys"): "POST /v1/lti/keys",
    ("GET", "/v1/sync"): "GET /v1/sync",
    ("POST", "/v1/sync/redeliver"): "POST /v1/sync/redeliver",
}


@dataclass
class Tool:
    functions: dict[str, ModuleType]
    platform: LtiPlatform
    client: Any
    http: urllib3.PoolManager

    @property
    def api(self) -> ModuleType:
        return self.functions["ApiFunction"]

    def call(
        self, method: str, path: str, query: str = "", body: bytes | None = None, json_body: Any = None
    ) -> dict[str, Any]:
        parameters = None
        route = ROUTES.get((method, path))
        if route is None and path.startswith("/v1/lti/platforms/"):
            route = f"{method} /v1/lti/platforms/{{platform_id}}"
            parameters = {"platform_id": path.rsplit("/", 1)[1]}
        assert route is not None, path
        content_type = FORM if body is not None else ("application/json" if json_body is not None else None)
        data = body if body is not None else (None if json_body is None else json.dumps(json_body).encode())
        event = http_event(
            method, path, route, body=data, content_type=content_type, query=query,
            headers={"authorization": f"Bearer {API_TOKEN}"}, path_parameters=parameters,
        )  # fmt: skip
        return invoke(self.api, event)

    def register(self, platform_id: str = "moodle", **changes: Any) -> dict[str, Any]:
        return self.call(
            "PUT", f"/v1/lti/platforms/{platform_id}", json_body={**self.platform.registration_body(), **changes}
        )

    def login(self, **params: str) -> str:
        """The tool's answer to a login: where it sends the browser (asserted a redirect)."""
        response = self.call("GET", "/lti/login", query=urlencode(params))
        assert response["statusCode"] == 302, response
        return str(response["headers"]["location"])

    def authorize(self, location: str) -> dict[str, str]:
        """What the platform posts back to the tool (its launch form's fields)."""
        answer = self.http.request("GET", location, redirect=False)
        assert answer.status == 200, answer.data
        page = answer.data.decode()
        fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page))
        assert {"id_token", "state"} <= set(fields)
        return fields

    def launch_form(
        self, content: str = "lecture-1", user: str = "student-1", line_item: str = "given", as_: str = ""
    ) -> dict[str, str]:
        start_url = self.platform.start_url(user, content, line_item=line_item, as_=as_)
        start = self.http.request("GET", start_url, redirect=False)
        login = parse_qs(urlsplit(start.headers["location"]).query)
        return self.authorize(self.login(**{name: values[0] for name, values in login.items()}))

    def deep_link_form(self, locale: str = "") -> dict[str, str]:
        start_url = self.platform.start_url("teacher-1", deep_link=True, locale=locale)
        start = self.http.request("GET", start_url, redirect=False)
        login = parse_qs(urlsplit(start.headers["location"]).query)
        return self.authorize(self.login(**{name: values[0] for name, values in login.items()}))

    def launch(self, form: dict[str, str]) -> dict[str, Any]:
        return self.call("POST", "/lti/launch", body=urlencode(form).encode())

    def complete(self, learner: str, content: str) -> None:
        """The learner's player reports every block watched."""
        snapshot = Snapshot(client_user_id=learner, media_content_key=content, block_times=dict.fromkeys(range(10), 60))
        answer = invoke(self.functions["CallbackFunction"], callback_event(snapshot.form_body()))
        assert body_of(answer)["completed"] is True, answer

    def plays_through(self, content: str, user: str, line_item: str = "given") -> None:
        """The learner launches the link and watches all of it; two sweeps run (the first delivers the
        webhook and makes the grade due, the second passes the grade back)."""
        assert self.launch(self.launch_form(content, user, line_item))["statusCode"] == 303
        self.complete(f"moodle:{user}", content)
        self.sweep()
        self.sweep()

    def failed_grades(self) -> list[dict[str, Any]]:
        """The ledger's failed rows of the gradebook target."""
        rows: list[dict[str, Any]] = body_of(self.call("GET", "/v1/sync", query="state=failed&target=ags"))["items"]
        return rows

    def redeliver_grade(self, learner: str, content: str) -> None:
        again = {"client_user_id": learner, "media_content_key": content, "target": "ags"}
        assert self.call("POST", "/v1/sync/redeliver", json_body=again)["statusCode"] == 202
        self.sweep()

    def sweep(self) -> dict[str, Any]:
        """One scheduled run of the sweep (an invocation of SyncFunction)."""
        report: dict[str, Any] = self.functions["SyncFunction"].lambda_handler(
            load_event("sync/scheduled.json"), LambdaContext("sync", 300)
        )
        return report


@pytest.fixture
def tool(
    function_environment: Callable[[dict[str, str]], None], load_functions: Callable[[], dict[str, ModuleType]]
) -> Iterator[Tool]:
    loaded: list[Tool] = []

    def published_keys() -> Any:  # the API function's own answer, which the platform checks our assertions with
        event = http_event("GET", "/.well-known/jwks.json", "GET /.well-known/jwks.json", content_type=None)
        return body_of(invoke(loaded[0].api, event))

    key_set = JsonDocument(published_keys)
    lms = LmsReceiver(("127.0.0.1", 0), [LOCAL_DEFAULTS["LMS_WEBHOOK_SECRET"]])
    platform = LtiPlatform(("127.0.0.1", 0), key_set.url)
    with serving(key_set), serving(lms), serving(platform), mock_aws():
        function_environment({})
        client = boto3.client("dynamodb", region_name="us-east-1")
        table = create_tables(client)["ProgressTable"]
        function_environment({"TABLE_NAME": table, "LMS_WEBHOOK_URL": lms.url, "SYNC_CONCURRENCY": "1"})
        loaded.append(Tool(load_functions(), platform, client, urllib3.PoolManager(retries=False)))
        assert loaded[0].register()["statusCode"] == 200
        yield loaded[0]


def test_a_launch_plays_the_linked_content_for_the_platforms_learner(tool: Tool) -> None:
    response = tool.launch(tool.launch_form("lecture-1", "student-1"))
    assert response["statusCode"] == 303
    url = urlsplit(response["headers"]["location"])
    query = parse_qs(url.query)
    claims = jwt.decode(query["jwt"][0], LOCAL_DEFAULTS["KOLLUS_SECURITY_KEY"], algorithms=["HS256"])
    assert claims["cuid"] == "moodle:student-1" and claims["mc"] == [{"mckey": "lecture-1"}]
    assert query["uservalue99"][0].startswith("v3.")  # the session nonce binds the progress that follows
    store = tool.api.whole_store()
    course = store.get_course("lti:moodle:course-1")
    assert course is not None and course.media_content_keys == ("lecture-1",)
    assert [e.course_id for e in store.enrolments_of("moodle:student-1")] == ["lti:moodle:course-1"]
    delivery = store.get_delivery("moodle:student-1", "lecture-1", Target.AGS)
    assert delivery is not None and delivery.link is not None
    assert delivery.link.lineitem == tool.platform.lineitem("lecture-1") and delivery.link.sub == "student-1"


def test_a_launch_form_works_once(tool: Tool) -> None:
    form = tool.launch_form()
    assert tool.launch(form)["statusCode"] == 303
    again = tool.launch(form)
    assert again["statusCode"] == 403 and body_of(again)["error"]["field"] == "state"


def test_a_tampered_or_foreign_id_token_is_refused(tool: Tool) -> None:
    form = tool.launch_form()
    header, payload, signature = form["id_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    refused = tool.launch({**form, "id_token": f"{header}.{forged}.{signature}"})
    assert refused["statusCode"] == 403 and body_of(refused)["error"]["field"] == "id_token"
    assert "signature" in body_of(refused)["error"]["message"].lower()


def test_a_launch_must_carry_the_nonce_of_its_own_login(tool: Tool) -> None:
    first, second = tool.launch_form(), tool.launch_form()
    swapped = tool.launch({"id_token": first["id_token"], "state": second["state"]})
    assert swapped["statusCode"] == 403 and "nonce" in body_of(swapped)["error"]["message"]


def kept(tool: Tool) -> list[dict[str, Any]]:
    """The refused payloads kept in the rejected store."""
    return [
        item
        for item in tool.client.scan(TableName=tool.api.whole_store().table_name)["Items"]
        if item["pk"]["S"].startswith("R#")
    ]


def test_a_refused_launch_a_platform_signed_is_kept(tool: Tool) -> None:
    stranger = tool.launch({"id_token": "x.y.z", "state": "a-state-nobody-issued"})
    assert stranger["statusCode"] == 403 and kept(tool) == []  # no login of ours: nothing is kept
    form = tool.launch_form()
    header, payload, signature = form["id_token"].split(".")
    refused = tool.launch({**form, "id_token": f"{header}.{payload}.{signature[::-1]}"})
    assert refused["statusCode"] == 403 and body_of(refused)["error"]["field"] == "id_token"
    assert kept(tool) == []  # our state, but an id_token no platform signed: a stranger could do that
    first, second = tool.launch_form(), tool.launch_form()
    swapped = tool.launch({"id_token": first["id_token"], "state": second["state"]})  # signed, wrong nonce
    assert swapped["statusCode"] == 403
    unlinked = tool.launch(tool.launch_form(content=""))  # a link with no media_content_key
    assert unlinked["statusCode"] == 400
    assert sorted(entry["reason_code"]["S"] for entry in kept(tool)) == ["forbidden", "invalid_request"]


def test_a_login_writes_nothing_and_its_state_is_signed(tool: Tool) -> None:
    before = tool.client.scan(TableName=tool.api.whole_store().table_name)["Count"]
    for hint in range(20):  # strangers starting logins, as many as they like
        location = tool.login(iss=tool.platform.url, login_hint=f"x{hint}", target_link_uri=TOOL + "/lti/launch")
        assert "state=" in location
    assert tool.client.scan(TableName=tool.api.whole_store().table_name)["Count"] == before
    form = tool.launch_form()
    forged_state = form["state"][:-4] + ("AAAA" if not form["state"].endswith("AAAA") else "BBBB")
    refused = tool.launch({**form, "state": forged_state})
    assert refused["statusCode"] == 403 and body_of(refused)["error"]["field"] == "state"
    assert tool.launch(form)["statusCode"] == 303  # the real one still works, once


def test_unregistered_deployments_and_issuers_are_refused(tool: Tool) -> None:
    assert tool.register(deployment_ids=["other"])["statusCode"] == 200
    refused = tool.call("GET", "/lti/login", query=urlencode({
        "iss": tool.platform.url, "login_hint": "student-1", "target_link_uri": TOOL + "/lti/launch",
        "lti_deployment_id": "1",
    }))  # fmt: skip
    assert refused["statusCode"] == 403 and body_of(refused)["error"]["field"] == "lti_deployment_id"
    location = tool.login(iss=tool.platform.url, login_hint="student-1", target_link_uri=TOOL + "/lti/launch",
                          lti_message_hint=message_hint("lecture-1"))  # fmt: skip
    launched = tool.launch(tool.authorize(location))
    assert launched["statusCode"] == 403 and "deployment" in body_of(launched)["error"]["message"]
    unknown = tool.call("GET", "/lti/login", query=urlencode({
        "iss": "https://elsewhere.example", "login_hint": "x", "target_link_uri": TOOL + "/lti/launch",
    }))  # fmt: skip
    assert unknown["statusCode"] == 404


def test_a_login_names_where_to_go_back_with_a_fresh_state_and_nonce(tool: Tool) -> None:
    first = parse_qs(urlsplit(tool.login(iss=tool.platform.url, login_hint="a", target_link_uri=TOOL)).query)
    second = parse_qs(urlsplit(tool.login(iss=tool.platform.url, login_hint="a", target_link_uri=TOOL)).query)
    assert first["redirect_uri"] == [TOOL + "/lti/launch"] and first["client_id"] == [CLIENT_ID]
    assert first["response_mode"] == ["form_post"] and first["scope"] == ["openid"]
    assert first["state"] != second["state"] and first["nonce"] != second["nonce"]
    missing = tool.call("GET", "/lti/login", query="iss=x")
    assert missing["statusCode"] == 400 and body_of(missing)["error"]["code"] == "invalid_request"


def test_platform_registrations_are_kept_listed_and_removed(tool: Tool) -> None:
    waiting = tool.launch_form()
    listed = body_of(tool.call("GET", "/v1/lti/platforms"))["items"]
    assert [p["platform_id"] for p in listed] == ["moodle"] and listed[0]["issuer"] == tool.platform.url
    bad = tool.register("canvas", token_url="not a url")
    assert bad["statusCode"] == 400
    assert tool.call("DELETE", "/v1/lti/platforms/moodle")["statusCode"] == 200
    assert tool.call("GET", "/v1/lti/platforms/moodle")["statusCode"] == 404
    gone = tool.launch(waiting)
    assert gone["statusCode"] == 403 and "no longer registered" in body_of(gone)["error"]["message"]


def scores(tool: Tool) -> dict[str, tuple[float, str]]:
    return {key: (s["scoreGiven"], s["activityProgress"]) for key, s in tool.platform.gradebook.latest().items()}


def test_completions_pass_back_to_the_launchs_line_item_with_one_access_token_across_invocations(
    tool: Tool,
) -> None:
    line = tool.platform.lineitem("lecture-1")
    tool.plays_through("lecture-1", "student-1")
    assert scores(tool) == {f"student-1@{line}": (100.0, "Completed")}
    tool.plays_through("lecture-1", "student-2")
    assert scores(tool) == {f"student-1@{line}": (100.0, "Completed"), f"student-2@{line}": (100.0, "Completed")}
    assert tool.platform.tokens_issued == 1  # four invocations, one token
    assert tool.platform.gradebook.made == 0  # the launch named its line item: none is made


def test_a_link_launched_without_a_line_item_gets_one_made_once(tool: Tool) -> None:
    for learner in ("student-1", "student-2"):  # both complete before a sweep runs
        assert tool.launch(tool.launch_form("lecture-2", learner, line_item="none"))["statusCode"] == 303
        tool.complete(f"moodle:{learner}", "lecture-2")
    delivery = tool.api.whole_store().get_delivery("moodle:student-1", "lecture-2", Target.AGS)
    assert delivery is not None and delivery.link is not None
    link = delivery.link
    assert (link.lineitem, link.lineitems) == (None, tool.platform.url + "/lineitems")
    assert (link.resource_link_id, link.resource_link_title, link.create_lineitem) == (
        "link-lecture-2", "Watch lecture-2", True,
    )  # fmt: skip
    tool.sweep()
    tool.sweep()
    (made,) = tool.platform.gradebook.find_lineitems("link-lecture-2", "lecture-2")
    assert made == {
        "id": tool.platform.url + "/lineitems/made-1", "scoreMaximum": 100, "label": "Watch lecture-2",
        "resourceId": "lecture-2", "resourceLinkId": "link-lecture-2",
    }  # fmt: skip
    assert tool.platform.gradebook.made == 1
    assert scores(tool) == {
        f"student-1@{made['id']}": (100.0, "Completed"), f"student-2@{made['id']}": (100.0, "Completed"),
    }  # fmt: skip
    # A later learner's grade goes to the same line item, found in the table (no lookup, nothing made).
    tool.plays_through("lecture-2", "student-3", line_item="none")
    assert scores(tool)[f"student-3@{made['id']}"] == (100.0, "Completed")
    assert tool.platform.gradebook.made == 1


def test_a_kept_line_item_the_lms_deleted_is_looked_up_again_on_redelivery(tool: Tool) -> None:
    tool.plays_through("lecture-4", "student-1", line_item="none")
    first = tool.platform.url + "/lineitems/made-1"
    assert scores(tool) == {f"student-1@{first}": (100.0, "Completed")}
    del tool.platform.gradebook.lineitems[first]  # an instructor deletes the column
    tool.plays_through("lecture-4", "student-2", line_item="none")
    (row,) = tool.failed_grades()
    assert (row["client_user_id"], row["last_status"]) == ("moodle:student-2", 404)
    tool.redeliver_grade("moodle:student-2", "lecture-4")
    second = tool.platform.url + "/lineitems/made-2"
    assert scores(tool)[f"student-2@{second}"] == (100.0, "Completed")


def test_a_link_whose_platform_lets_the_tool_only_look_line_items_up(tool: Tool) -> None:
    """A read-only grant: a line item the platform holds for the link is used, none is ever made."""
    tool.plays_through("lecture-3", "student-1", line_item="readonly")
    (row,) = tool.failed_grades()
    assert (row["client_user_id"], row["last_status"]) == ("moodle:student-1", 404)
    assert "make none" in row["last_error"]
    assert tool.platform.gradebook.made == 0 and scores(tool) == {}
    held = tool.platform.url + "/lineitems/held-3"
    tool.platform.gradebook.keep_lineitem(
        {
            "id": held,
            "scoreMaximum": 100,
            "label": "Week 3",
            "resourceId": "lecture-3",
            "resourceLinkId": "link-lecture-3",
        }
    )
    tool.redeliver_grade("moodle:student-1", "lecture-3")
    assert scores(tool) == {f"student-1@{held}": (100.0, "Completed")}
    assert tool.platform.gradebook.made == 0


def test_the_key_set_publishes_public_keys_only(tool: Tool) -> None:
    published = body_of(tool.call("GET", "/.well-known/jwks.json"))["keys"]
    assert len(published) == 1 and published[0]["alg"] == "RS256" and published[0]["kid"]
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(published[0])
    local = tool.call("POST", "/v1/lti/keys")
    assert local["statusCode"] == 409  # the local keys come from LTI_TOOL_KEYS


def test_in_aws_the_first_key_is_made_once_and_rotation_keeps_the_previous_one_published(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in LOCAL_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    secrets_client.cache_clear()
    aws_session.cache_clear()
    with mock_aws():
        secrets = boto3.client("secretsmanager", region_name="us-east-1")
        arn = secrets.create_secret(Name="tool-keys", SecretString='{"keys":[]}')["ARN"]
        settings = settings_from({"TABLE_NAME": "tool-keys-test", "KOLLUS_CALLBACK_TOKEN": "c", "API_TOKEN": "a",
                                  "LTI_TOOL_KEYS_ARN": arn, "SECRET_CACHE_SECONDS": "0"})  # fmt: skip
        # Two functions start at once: both read the secret before either writes its first key.
        both_read = threading.Barrier(2)
        real_read = runtime.read_secret  # type: ignore[attr-defined]

        def read_together(secret_id: str) -> str:
            text = real_read(secret_id)
            if not ToolKeys.parse(text).keys:
                both_read.wait(timeout=10)
            return text

        monkeypatch.setattr(runtime, "read_secret", read_together)
        found: list[ToolKeys] = []

        def function() -> None:
            runtime._tool_keys.clear()
            found.append(runtime.tool_keys(settings))

        threads = [threading.Thread(target=function) for _ in range(2)]
        monkeypatch.setattr(runtime, "_tool_keys_lock", _PerThreadLock())
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        monkeypatch.setattr(runtime, "read_secret", real_read)
        kids = {keys.keys[0]["kid"] for keys in found}
        assert len(found) == 2 and len(kids) == 1, "two functions made two first keys"
        stored = ToolKeys.parse(secrets.get_secret_value(SecretId=arn)["SecretString"])
        assert [key["kid"] for key in stored.keys] == list(kids)
        first = stored.keys[0]["kid"]
        rotated = runtime.rotate_tool_keys(settings)
        second = rotated.keys[0]["kid"]
        assert [key["kid"] for key in rotated.public()["keys"]] == [second, first]
        assert jwt.get_unverified_header(rotated.sign({"iss": "x"}))["kid"] == second
        third = runtime.rotate_tool_keys(settings)
        assert [key["kid"] for key in third.public()["keys"]] == [third.keys[0]["kid"], second]
        runtime._tool_keys.clear()
        assert runtime.tool_keys(settings).keys == third.keys
    secrets_client.cache_clear()
    aws_session.cache_clear()


class _PerThreadLock:
    """A lock each thread holds alone: the two threads stand for two functions' processes."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def learner_of(response: dict[str, Any]) -> str:
    query = parse_qs(urlsplit(response["headers"]["location"]).query)
    claims = jwt.decode(query["jwt"][0], LOCAL_DEFAULTS["KOLLUS_SECURITY_KEY"], algorithms=["HS256"])
    return str(claims["cuid"])


def test_a_custom_learner_id_counts_only_where_the_registration_trusts_it(tool: Tool) -> None:
    # Any registered platform can put any custom client_user_id into its launches: untrusted, it is ignored.
    response = tool.launch(tool.launch_form("lecture-1", "student-1", as_="learner-of-another-lms"))
    assert response["statusCode"] == 303 and learner_of(response) == "moodle:student-1"
    assert tool.register(trust_client_user_id=True)["statusCode"] == 200
    response = tool.launch(tool.launch_form("lecture-1", "student-1", as_="user-1042"))
    assert response["statusCode"] == 303 and learner_of(response) == "user-1042"
    listed = body_of(tool.call("GET", "/v1/lti/platforms/moodle"))
    assert (listed["trust_client_user_id"], listed["allow_unlisted_contents"]) == (True, True)


def test_a_launch_of_a_content_not_in_the_catalog_is_refused_unless_allowed(tool: Tool) -> None:
    assert tool.register(allow_unlisted_contents=False)["statusCode"] == 200
    response = tool.launch(tool.launch_form("not-a-catalog-key", "student-1"))
    assert response["statusCode"] == 404, response
    assert body_of(response)["error"]["field"] == "media_content_key"
    assert tool.api.whole_store().enrolments_of("moodle:student-1") == []  # enrolled in nothing
    assert tool.register(allow_unlisted_contents=True)["statusCode"] == 200
    assert tool.launch(tool.launch_form("not-a-catalog-key", "student-1"))["statusCode"] == 303


def test_the_picker_lists_playable_videos_in_the_launchs_language_searches_and_pages(tool: Tool) -> None:
    store, now = tool.api.whole_store(), int(time.time() * 1000)
    for number in range(30):
        title = f"Week {number:02d}: {'Recursion' if number % 3 == 0 else 'Graphs'} <part>"
        entry = Entry(f"uf-{number:02d}", Status.READY, title, 600.0 + number, f"https://img.kollus.example/{number}.jpg",
                      {"lectures": f"mck-{number:02d}"}, created_at=now)  # fmt: skip
        assert store.save_content(entry, None, now)
    assert store.save_content(Entry("uf-zz", Status.TRANSCODING, "Still transcoding"), None, now)
    launched = tool.launch(tool.deep_link_form(locale="ko-KR"))
    page, policy = launched["body"], launched["headers"]["content-security-policy"]
    assert launched["statusCode"] == 200 and '<html lang="ko">' in page and "Kollus 동영상 선택" in page
    assert page.count('name="media_content_key"') == PICK_PAGE and "Still transcoding" not in page
    assert "Week 00: Recursion &lt;part&gt;" in page and "길이 10:00" in page  # escaped; 600 s
    assert '<img src="https://img.kollus.example/0.jpg"' in page and "img-src https://img.kollus.example;" in policy
    assert "script-src" not in policy and "form-action 'self'" in policy
    session = re.search(r'name="session" value="([^"]+)"', page)
    following = re.search(r'href="deep-link\?([^"]+)">다음 페이지', page)
    assert session is not None and following is not None
    rest = tool.call("GET", "/lti/deep-link", query=html.unescape(following.group(1)))["body"]
    assert (
        rest.count('name="media_content_key"') == 30 - PICK_PAGE and "첫 페이지" in rest and "다음 페이지" not in rest
    )
    found = tool.call("GET", "/lti/deep-link", query=urlencode({"session": session.group(1), "q": "recursion",
                                                                  "lang": "en"}))["body"]  # fmt: skip
    assert '<html lang="en">' in found and "Videos matching \u201crecursion\u201d" in found
    assert found.count('name="media_content_key"') == 10  # every third of 30, read on past short pages
    assert 'value="recursion"' in found and "All videos" in found
    forged = tool.call("GET", "/lti/deep-link", query="session=forged")
    assert (forged["statusCode"], body_of(forged)["error"]["field"]) == (403, "session")
    event = http_event("GET", "/lti/deep-link", "GET /lti/deep-link", content_type=None, query="session=forged",
                       headers={"accept": "text/html"})  # fmt: skip
    browser = invoke(tool.api, event)
    assert browser["statusCode"] == 403 and "<!DOCTYPE html>" in browser["body"]
    chosen = tool.call(
        "POST",
        "/lti/deep-link",
        body=urlencode(
            {"session": session.group(1), "lang": "ko", "media_content_key": ["mck-00", "mck-03"]}, doseq=True
        ).encode(),
    )
    assert chosen["statusCode"] == 200 and "동영상 2개를 골랐습니다." in chosen["body"]
    assert "<li>Week 03: Recursion &lt;part&gt;</li>" in chosen["body"]
