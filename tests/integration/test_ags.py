"""Grade passback on DynamoDB Local, to a real platform implementation (lti1p3platform): the learners
of a resource link whose launches named no line item complete at the same moment, and the link still
gets one line item, made by one delivery under the table's claim, with every grade on it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal

import pytest
from kollus_bridge.delivery.grades import LINE_CLAIM_MS, AgsChannel
from kollus_bridge.delivery.ledger import Attempt, Link, Message, StoredDelivery, Target
from kollus_bridge.lti import grades
from kollus_bridge.lti.keys import ToolKeys, new_key
from kollus_bridge.lti.platforms import LinePlace, Platform
from kollus_bridge.store.dynamo import DynamoStore
from kollus_bridge.times import now_ms

from local.lti_platform import CLIENT_ID, LtiPlatform
from tests.helpers import JsonDocument, serving

pytestmark = pytest.mark.dynamodb_local

KEYS = ToolKeys((new_key(),))
LEARNERS = 8


@pytest.fixture
def platform() -> Iterator[LtiPlatform]:
    key_set = JsonDocument(KEYS.public)  # the tool's published key set: the platform checks our assertions with it
    platform = LtiPlatform(("127.0.0.1", 0), key_set.url)
    with serving(key_set), serving(platform):
        yield platform


def channel_for(store: DynamoStore, platform: LtiPlatform) -> AgsChannel:
    body = platform.registration_body()
    registered = Platform(
        "local", body["issuer"], CLIENT_ID, body["auth_login_url"], body["token_url"], body["jwks_url"],
        tuple(body["deployment_ids"]),
    )  # fmt: skip
    store.put_platform(registered)
    return AgsChannel(grades.AccessTokens(lambda: KEYS), store.get_platform, store)


def completion(platform: LtiPlatform, learner: int, may_create: bool = True) -> tuple[StoredDelivery, Message]:
    link = Link(
        "local", f"sub-{learner}", None, "course-1", None, lineitems=platform.url + "/lineitems",
        resource_link_id="link-lecture-1", resource_link_title="Week 1", create_lineitem=may_create,
    )  # fmt: skip
    delivery = StoredDelivery(f"learner-{learner}", "lecture-1", Target.AGS, link=link)
    body = json.dumps(grades.score(f"sub-{learner}", Decimal(100), True, now_ms())).encode()
    return delivery, Message("progress.completed", f"score-{learner}", body, "100.00")


def test_learners_completing_at_once_get_one_line_item_made(store: DynamoStore, platform: LtiPlatform) -> None:
    channel = channel_for(store, platform)
    deliveries = [completion(platform, learner) for learner in range(LEARNERS)]
    together = threading.Barrier(LEARNERS)
    attempts: dict[int, Attempt] = {}

    def deliver(learner: int) -> None:
        together.wait(timeout=10)
        attempts[learner] = channel.send(*deliveries[learner], timeout=10)

    threads = [threading.Thread(target=deliver, args=(learner,)) for learner in range(LEARNERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert platform.gradebook.made == 1, platform.gradebook.lineitems
    made = platform.url + "/lineitems/made-1"
    assert store.get_lineitem(LinePlace("local", "link-lecture-1", "lecture-1")) == made
    waiting = [learner for learner, attempt in attempts.items() if attempt.status is None]
    assert all("another delivery" in (attempts[learner].error or "") for learner in waiting)
    assert all(attempts[learner].status in {200, 201} for learner in set(attempts) - set(waiting))
    for learner in waiting:  # their retries find the line item kept
        assert channel.send(*deliveries[learner], timeout=10).status in {200, 201}
    book = platform.gradebook.latest()
    assert sorted(book) == sorted(f"sub-{learner}@{made}" for learner in range(LEARNERS))
    assert platform.gradebook.made == 1


def test_a_claim_whose_delivery_died_runs_out_and_a_failed_lookup_gives_its_claim_up(
    store: DynamoStore, platform: LtiPlatform
) -> None:
    channel = channel_for(store, platform)
    place = LinePlace("local", "link-lecture-1", "lecture-1")
    now = now_ms()
    assert store.claim_lineitem(place, "died", now, now + LINE_CLAIM_MS)
    assert channel.send(*completion(platform, 1), timeout=10).status is None  # the claim still holds
    assert store.claim_lineitem(place, "died", now + LINE_CLAIM_MS + 1, now - 1)  # later: it ran out
    read_only = channel.send(*completion(platform, 1, may_create=False), timeout=10)
    assert read_only.status == 404 and "make none" in (read_only.error or "")
    assert store.get_lineitem(place) is None
    assert channel.send(*completion(platform, 2), timeout=10).status in {200, 201}  # the failed lookup's claim went
    assert platform.gradebook.made == 1 and store.get_lineitem(place) == platform.url + "/lineitems/made-1"
    assert not store.claim_lineitem(place, "late", now_ms() + LINE_CLAIM_MS * 2, now_ms() + LINE_CLAIM_MS * 3)


def test_a_line_item_off_the_platforms_hosts_gets_no_request_and_no_token(
    store: DynamoStore, platform: LtiPlatform
) -> None:
    channel = channel_for(store, platform)
    delivery, message = completion(platform, 1)
    for foreign in ("http://169.254.169.254/latest/meta-data", "https://evil.example/lineitems/1"):
        assert delivery.link is not None
        aimed = replace(delivery, link=replace(delivery.link, lineitem=foreign))
        attempt = channel.send(aimed, message, timeout=5)
        assert attempt.status is None and "not on local's hosts" in (attempt.error or ""), attempt
        listed = replace(delivery, link=replace(delivery.link, lineitems=foreign))
        assert "not on local's hosts" in (channel.send(listed, message, timeout=5).error or "")
    assert platform.gradebook.latest() == {} and platform.gradebook.made == 0
    assert channel.send(delivery, message, timeout=10).status in {200, 201}  # its own hosts: delivered
