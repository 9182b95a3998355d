"""The standards' pure parts: AGS scores and their timestamps, xAPI statements and their ids, the
tool's keys, what a launch says, the deep-linking response, and what each target is owed."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import replace

import jwt
import pytest
from kollus_bridge.delivery.channels import XapiChannel
from kollus_bridge.delivery.grades import AgsChannel
from kollus_bridge.delivery.ledger import Link, StoredDelivery, SyncLedger, Target
from kollus_bridge.errors import InvalidRequest
from kollus_bridge.lti import deep_linking, grades
from kollus_bridge.lti.keys import ToolKeys, new_key
from kollus_bridge.lti.launch import AGS_CLAIM, CLAIM, LINEITEM_READ_SCOPE, LINEITEM_SCOPE, SCORE_SCOPE, Launch
from kollus_bridge.lti.platforms import Platform
from kollus_bridge.xapi import statements

from tests.unit.test_sync_plan import SETTINGS, UPDATES, record

PLATFORM = Platform("moodle", "https://lms.example", "client-1", "https://lms.example/auth", "https://lms.example/token",
                    "https://lms.example/jwks", ("3",))  # fmt: skip
LINK = Link("moodle", "sub-9", "https://lms.example/lineitems/7?type=video", "ctx", "reg")
XAPI = {
    "XAPI_LRS_URL": "https://lrs.example/xAPI/",
    "XAPI_LRS_AUTH": "u:p",
    "XAPI_ACTOR_HOMEPAGE": "https://lms.example",
}


def delivery(blocks: int, target: Target, ledger: SyncLedger | None = None, link: Link | None = LINK) -> StoredDelivery:
    source = record(blocks)
    return StoredDelivery("u-1", "m-1", target, source.rev, ledger or SyncLedger(), link, source)


def test_scores_go_to_the_line_items_path_before_its_query() -> None:
    assert grades.scores_url("https://lms.example/lineitems/7?type=video") == (
        "https://lms.example/lineitems/7/scores?type=video"
    )
    assert grades.scores_url("https://lms.example/lineitems/7/") == "https://lms.example/lineitems/7/scores"


def test_a_score_timestamp_is_at_least_a_whole_second_after_the_last_accepted() -> None:
    assert grades.score_stamp(5_000, None) == 5_000
    assert grades.score_stamp(5_000, 4_900) == 5_000  # later than 4.9 s, but Moodle compares seconds: 5 > 4
    assert grades.score_stamp(5_000, 5_000) == 6_000
    assert grades.score_stamp(5_000, 7_250) == 8_000
    assert grades.score_stamp(9_000, 7_250) == 9_000


def test_a_link_without_a_line_item_looks_its_own_up_by_resource_link_and_content() -> None:
    assert grades.lineitems_query("https://lms.example/ctx/9/lineitems?type=video", "rl 1", "m/1") == (
        "https://lms.example/ctx/9/lineitems?type=video&resource_link_id=rl+1&resource_id=m%2F1"
    )
    listed = [
        {"id": "https://lms.example/li/1", "resourceLinkId": "rl-2", "resourceId": "m-1"},  # another link
        {"id": "https://lms.example/li/2", "resourceLinkId": "rl-1", "resourceId": "m-2"},  # another content
        {"id": "not-a-url", "resourceLinkId": "rl-1", "resourceId": "m-1"},
        "junk",
        {"id": "https://lms.example/li/3", "resourceLinkId": "rl-1", "resourceId": "m-1"},
    ]
    assert grades.matching(listed, "rl-1", "m-1") == "https://lms.example/li/3"
    assert grades.matching(listed[:2], "rl-1", "m-1") is None
    assert grades.matching({"id": "https://lms.example/li/3"}, "rl-1", "m-1") is None  # not a container
    assert grades.line_item("Week 3", "rl-1", "m-1") == {
        "scoreMaximum": 100, "label": "Week 3", "resourceId": "m-1", "resourceLinkId": "rl-1",
    }  # fmt: skip
    assert grades.line_item_scopes(True) == (SCORE_SCOPE, LINEITEM_SCOPE)
    assert grades.line_item_scopes(False) == (SCORE_SCOPE, LINEITEM_READ_SCOPE)


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ({"lineitem": "https://lms.example/li/7", "scope": [SCORE_SCOPE]}, ("https://lms.example/li/7", None, False)),
        ({"lineitem": "https://lms.example/li/7", "scope": []}, (None, None, False)),  # no leave to score
        (
            {"lineitems": "https://lms.example/li", "scope": [SCORE_SCOPE, LINEITEM_SCOPE]},
            (None, "https://lms.example/li", True),
        ),
        (
            {"lineitems": "https://lms.example/li", "scope": [SCORE_SCOPE, LINEITEM_READ_SCOPE]},
            (None, "https://lms.example/li", False),
        ),
        ({"lineitems": "https://lms.example/li", "scope": [LINEITEM_SCOPE]}, (None, None, True)),  # cannot score
        ({"lineitems": "https://lms.example/li", "scope": [SCORE_SCOPE]}, (None, None, False)),  # cannot look up
        ({"lineitems": "https://lms.example/li", "scope": "not a list"}, (None, None, False)),
    ],
)
def test_what_a_launch_lets_the_tool_score(endpoint: dict[str, object], expected: tuple[object, ...]) -> None:
    claims = {AGS_CLAIM: endpoint, CLAIM + "resource_link": {"id": "rl-1", "title": "Week 3"}}
    launch = Launch(PLATFORM, "LtiResourceLinkRequest", "sub-9", "3", claims)
    assert (launch.lineitem, launch.lineitems, launch.may_create_lineitem) == expected
    assert (launch.resource_link_id, launch.resource_link_title) == ("rl-1", "Week 3")
    unlinked = Launch(PLATFORM, "LtiResourceLinkRequest", "sub-9", "3", {AGS_CLAIM: endpoint})
    assert unlinked.lineitems is None  # without a resource link there is nothing to look up


def test_the_ags_target_scores_completion_then_each_grown_progress() -> None:
    channel = AgsChannel(grades.AccessTokens(lambda: ToolKeys(())), lambda _: PLATFORM)
    completed = channel.plan(delivery(10, Target.AGS), SETTINGS, {})
    assert completed is not None and completed.kind == "progress.completed"
    assert json.loads(completed.body) == {
        "userId": "sub-9", "scoreGiven": 100.0, "scoreMaximum": 100, "activityProgress": "Completed",
        "gradingProgress": "FullyGraded", "timestamp": "2026-11-22T00:00:00.000Z",
    }  # fmt: skip
    retried = channel.plan(delivery(10, Target.AGS), SETTINGS, {})
    assert retried == completed  # a retry is the same score
    sent = SyncLedger(completion_sent=True, progress_sent="100.00", stamp=completed.stamp)
    assert channel.plan(delivery(10, Target.AGS, sent), UPDATES, {}) is None
    again = channel.plan(delivery(10, Target.AGS, SyncLedger(stamp=completed.stamp)), SETTINGS, {})
    assert again is not None and again.stamp == (completed.stamp or 0) + 1000  # a redelivery: a later timestamp
    partial = channel.plan(delivery(5, Target.AGS), UPDATES, {})
    assert partial is not None and json.loads(partial.body)["activityProgress"] == "InProgress"
    assert json.loads(partial.body)["gradingProgress"] == "Pending" and json.loads(partial.body)["scoreGiven"] == 50.0
    assert channel.plan(delivery(5, Target.AGS), SETTINGS, {}) is None  # progress updates off
    assert channel.plan(delivery(10, Target.AGS, link=None), SETTINGS, {}) is None
    assert channel.verdict(409).value == "delivered" and channel.verdict(401).value == "retry"


def test_xapi_statements_are_stable_video_profile_statements() -> None:
    settings = SETTINGS.__class__(**{**SETTINGS.__dict__, "xapi_actor_homepage": "https://lms.example"})
    channel = XapiChannel("https://lrs.example/xAPI/", lambda: "u:p")
    first = channel.plan(delivery(10, Target.XAPI), settings, {})
    second = channel.plan(delivery(10, Target.XAPI), settings, {})
    assert first is not None and first == second  # a redelivery is the same statement
    statement = json.loads(first.body)
    assert uuid.UUID(statement["id"]).version == 5 and statement["id"] == first.message_id
    assert statement["verb"]["id"] == statements.COMPLETED
    assert statement["context"]["registration"] == "reg"
    session = statement["context"]["extensions"][statements.EXTENSION + "session-id"]
    assert uuid.UUID(session)
    assert statement["result"]["extensions"][statements.EXTENSION + "played-segments"] == "0[.]600"
    progress = channel.plan(
        delivery(5, Target.XAPI, link=None),
        settings.__class__(**{**settings.__dict__, "sync_progress_updates": True}),
        {},
    )
    assert progress is not None and json.loads(progress.body)["verb"]["id"] == statements.PAUSED
    assert (
        json.loads(progress.body)["id"] != statement["id"]
        and "registration" not in json.loads(progress.body)["context"]
    )


def test_played_segments_and_activity_ids() -> None:
    assert statements.played_segments([(0.0, 12.5), (30.0, 60.0)]) == "0[.]12.5[,]30[.]60"
    assert statements.activity_id("https://videos.example/", "a b/c") == "https://videos.example/a%20b%2Fc"
    assert statements.registration("p", "c", "k") == statements.registration("p", "c", "k")
    assert statements.registration("p", "c", "k") != statements.registration("p", "d", "k")


def test_tool_keys_sign_publish_and_rotate() -> None:
    first, second, third = new_key(), new_key(), new_key()
    keys = ToolKeys((first,))
    token = keys.sign({"iss": "x"})
    public = keys.public()["keys"][0]
    assert not {"d", "p", "q"} & set(public)
    assert jwt.decode(token, jwt.PyJWK(public).key, algorithms=["RS256"])["iss"] == "x"
    rotated = keys.rotated(second).rotated(third)
    assert [key["kid"] for key in rotated.keys] == [third["kid"], second["kid"]]
    assert ToolKeys.parse(rotated.text()) == rotated
    with pytest.raises(InvalidRequest):
        ToolKeys.parse(json.dumps({"keys": [public]}))  # a public key cannot sign
    with pytest.raises(InvalidRequest):
        ToolKeys(()).sign({})


def test_what_a_launch_says() -> None:
    claims = {
        CLAIM + "custom": {"media_content_key": "m-1"},
        CLAIM + "context": {"id": "ctx", "title": "Algorithms"},
        AGS_CLAIM: {"lineitem": "https://lms.example/li/1", "scope": [SCORE_SCOPE]},
    }
    launch = Launch(PLATFORM, "LtiResourceLinkRequest", "sub-9", "3", claims)
    assert launch.client_user_id == "moodle:sub-9" and launch.lineitem == "https://lms.example/li/1"
    assert launch.context_id == "ctx" and launch.context_title == "Algorithms"
    custom = {**claims, CLAIM + "custom": {"client_user_id": "u-77"}}
    assert Launch(PLATFORM, "LtiResourceLinkRequest", "sub-9", "3", custom).client_user_id == "moodle:sub-9"
    trusting = replace(PLATFORM, trust_client_user_id=True)  # the platform maps its own ids in
    assert Launch(trusting, "LtiResourceLinkRequest", "sub-9", "3", custom).client_user_id == "u-77"
    no_scores = {AGS_CLAIM: {"lineitem": "x", "scope": []}}
    read_only = Launch(PLATFORM, "LtiResourceLinkRequest", "sub-9", "3", no_scores)
    assert read_only.lineitem is None  # no score scope: no grades


def test_the_deep_linking_response_returns_resource_links_with_line_items() -> None:
    choices = [("m-1", "Week 1")]
    claims = deep_linking.response_claims(PLATFORM, "3", {"kept": 1}, choices, "https://t/lti/launch", 100)
    assert (claims["iss"], claims["aud"], claims[CLAIM + "deployment_id"]) == ("client-1", "https://lms.example", "3")
    assert claims[CLAIM + "message_type"] == "LtiDeepLinkingResponse" and claims[deep_linking.DL + "data"] == {
        "kept": 1
    }
    assert claims[deep_linking.DL + "content_items"] == [
        {"type": "ltiResourceLink", "title": "Week 1", "url": "https://t/lti/launch",
         "custom": {"media_content_key": "m-1"},
         "lineItem": {"scoreMaximum": 100, "label": "Week 1", "resourceId": "m-1"}},
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("return_url", "allowed"),
    [
        ("https://lms.example/deep-link-return", True),
        ("http://127.0.0.1:3300/deep-link-return", True),
        ("http://localhost/return", True),
        ("javascript:alert(1)//", False),
        ("JAVASCRIPT:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("http://lms.example/return", False),
        ("https://", False),
        ("//lms.example/return", False),
    ],
)
def test_a_deep_linking_response_goes_back_only_to_an_https_url(return_url: str, allowed: bool) -> None:
    from kollus_bridge.api.lti import session_token  # noqa: PLC0415
    from kollus_bridge.lti.launch import DL_CLAIM  # noqa: PLC0415

    launch = Launch(
        PLATFORM, "LtiDeepLinkingRequest", "teacher-1", "3", {DL_CLAIM: {"deep_link_return_url": return_url}}
    )
    keys = ToolKeys((new_key(),))
    if allowed:
        assert (
            keys.verify(session_token(launch, keys, int(time.time())), "kollus-lms-bridge/deep-link")["return_url"]
            == return_url
        )
    else:
        with pytest.raises(InvalidRequest, match="https"):
            session_token(launch, keys, int(time.time()))


def test_a_signed_launch_whose_claims_hold_a_lone_surrogate_is_refused() -> None:
    from kollus_bridge.lti.launch import launch_of  # noqa: PLC0415
    from kollus_bridge.lti.platforms import Login  # noqa: PLC0415

    claims = {"aud": "client-1", "nonce": "n", "sub": "s", CLAIM + "context": {"title": "Algo\ud800"}}
    with pytest.raises(InvalidRequest, match="surrogate"):
        launch_of(PLATFORM, claims, Login("state", "n", "moodle", 0))
