"""Standard Webhooks signing against the specification's published test vector, and retry timing."""

from __future__ import annotations

import random

import pytest
from kollus_bridge.delivery import webhooks
from kollus_bridge.delivery.webhooks import Backoff, Verdict
from kollus_bridge.settings import WebhookSecretError

# The Standard Webhooks specification's test vector.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signature_reproduces_the_specification_vector() -> None:
    assert webhooks.signature(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE
    assert webhooks.signature(SPEC_SECRET.removeprefix("whsec_"), SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_headers_carry_one_signature_per_secret_during_rotation() -> None:
    other = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"
    sent = webhooks.headers([SPEC_SECRET, other], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)
    assert sent["webhook-id"] == SPEC_ID and sent["webhook-timestamp"] == str(SPEC_TIMESTAMP)
    assert sent["webhook-signature"].split() == [
        SPEC_SIGNATURE,
        webhooks.signature(other, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY),
    ]
    # A receiver that knows either secret accepts the message.
    assert webhooks.verify(SPEC_SECRET, sent, SPEC_BODY, now=SPEC_TIMESTAMP)
    assert webhooks.verify(other, sent, SPEC_BODY, now=SPEC_TIMESTAMP)


def test_verification_refuses_tampering_and_old_messages() -> None:
    sent = webhooks.headers([SPEC_SECRET], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)
    assert not webhooks.verify(SPEC_SECRET, sent, b'{"test": 2432232315}', now=SPEC_TIMESTAMP)
    assert not webhooks.verify(SPEC_SECRET, {**sent, "webhook-id": "msg_other"}, SPEC_BODY, now=SPEC_TIMESTAMP)
    assert not webhooks.verify(SPEC_SECRET, sent, SPEC_BODY, now=SPEC_TIMESTAMP + 301)
    assert not webhooks.verify(SPEC_SECRET, {"webhook-id": SPEC_ID}, SPEC_BODY, now=SPEC_TIMESTAMP)


@pytest.mark.parametrize("secret", ["whsec_not base64!", "whsec_c2hvcnQ=", ""])
def test_bad_secrets_are_refused(secret: str) -> None:
    with pytest.raises(WebhookSecretError):
        webhooks.signature(secret, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)
    with pytest.raises(WebhookSecretError):
        webhooks.headers([], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)


def test_message_ids_are_stable_and_distinct() -> None:
    assert webhooks.message_id("a", "b") == webhooks.message_id("a", "b")
    assert webhooks.message_id("a", "b") != webhooks.message_id("a", "c")
    assert webhooks.message_id("a\x1fb") != webhooks.message_id("a", "b")
    assert webhooks.message_id("x").startswith("msg_")


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, Verdict.DELIVERED),
        (204, Verdict.DELIVERED),
        (None, Verdict.RETRY),
        (408, Verdict.RETRY),
        (429, Verdict.RETRY),
        (500, Verdict.RETRY),
        (503, Verdict.RETRY),
        (400, Verdict.FAILED),
        (401, Verdict.FAILED),
        (404, Verdict.FAILED),
        (410, Verdict.FAILED),
        (301, Verdict.FAILED),
    ],
)
def test_verdicts(status: int | None, expected: Verdict) -> None:
    assert webhooks.verdict(status) is expected


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    backoff = Backoff(base_seconds=30, cap_seconds=3600)
    rng = random.Random(3)
    for attempts, ceiling in [(1, 30), (2, 60), (3, 120), (4, 240), (8, 3600), (20, 3600)]:
        delays = [backoff.delay(attempts, rng=rng) for _ in range(200)]
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert max(delays) - min(delays) > ceiling / 10  # jittered, not fixed


def test_retry_after_is_honoured_when_longer_and_capped() -> None:
    backoff = Backoff(base_seconds=30, cap_seconds=3600)
    assert backoff.delay(1, retry_after=600) == 600
    assert backoff.delay(1, retry_after=10**6) == 3600
    assert 15 <= backoff.delay(1, retry_after=1) <= 30


def test_retry_after_header_forms() -> None:
    assert webhooks.retry_after_seconds("120", now=0) == 120
    assert webhooks.retry_after_seconds("Thu, 01 Jan 1970 00:02:00 GMT", now=60) == 60
    assert webhooks.retry_after_seconds("soon", now=0) is None
    assert webhooks.retry_after_seconds(None, now=0) is None
    # Only ASCII digits or an HTTP date: `²` and `١٢` are digits to str.isdigit, not to the header.
    for odd in ("²", "\u0661\u0662", "12\u00b2", "Thu, 01 Jan 99999 00:00:00 GMT"):
        assert webhooks.retry_after_seconds(odd, now=0) is None
