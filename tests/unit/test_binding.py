"""Which callbacks belong to a playback we allowed: the nonce's validity, offline downloads, approvals."""

from __future__ import annotations

import dataclasses

import pytest
from kollus_bridge.errors import Forbidden
from kollus_bridge.kollus.callback import Callback
from kollus_bridge.kollus.playback import device_identity, sign_nonce
from kollus_bridge.progress.binding import check_binding, covers, session_start
from kollus_bridge.progress.ports import Approval
from kollus_bridge.settings import settings_from

BASE = {"TABLE_NAME": "table", "KOLLUS_CALLBACK_TOKEN": "c", "API_TOKEN": "a", "PLAYBACK_NONCE_KEY": "ours"}
ISSUED, EXPIRES = 1_800_000_000, 1_800_000_600
NONCE = sign_nonce("ours", "u-1", "m-1", ISSUED, EXPIRES)


class Approvals:
    def __init__(self, approval: Approval | None = None) -> None:
        self.found, self.reads = approval, 0

    def approval(self, client_user_id: str, media_content_key: str, device: str) -> Approval | None:
        self.reads += 1
        devices = {"phone", device_identity(None, NONCE, "phone")}
        return self.found if (client_user_id, media_content_key) == ("u-1", "m-1") and device in devices else None


def callback(start_at: int, nonce: str | None = NONCE, player_id: str = "phone") -> Callback:
    uservalues = {"uservalue0": "course-7"} | ({"uservalue99": nonce} if nonce else {})
    return Callback(
        client_user_id="u-1", media_content_key="m-1", start_at=start_at, player_id=player_id, block_count=10,
        uservalues=uservalues,
    )  # fmt: skip


def check(start_at: int, store: Approvals, nonce: str | None = NONCE, **environment: str) -> Callback:
    settings = settings_from(BASE | environment)
    return check_binding(callback(start_at, nonce), settings, lambda: ["ours"], store, (ISSUED + 5) * 1000).callback


def test_start_times_in_seconds_or_milliseconds() -> None:
    assert session_start(1_800_000_000) == session_start(1_800_000_000_123) == 1_800_000_000
    assert covers((10, 20), 5, 5) and covers((10, 20), 25, 5) and not covers((10, 20), 26, 5)
    assert not covers(None, 15, 5)


def test_a_session_within_the_urls_validity_needs_no_read_and_loses_the_nonce() -> None:
    store = Approvals()
    for start in (ISSUED - 900, ISSUED, EXPIRES, EXPIRES + 900, EXPIRES * 1000):
        assert check(start, store).uservalues == {"uservalue0": "course-7"}
    assert store.reads == 0


def test_a_later_or_earlier_session_is_refused_unless_a_download_covers_it() -> None:
    for start in (EXPIRES + 901, ISSUED - 901):
        with pytest.raises(Forbidden) as refused:
            check(start, Approvals())
        assert refused.value.field == "start_at"
    streaming_only = Approvals(Approval(streaming=(ISSUED, EXPIRES + 86_400)))
    with pytest.raises(Forbidden):
        check(EXPIRES + 3600, streaming_only)  # streaming approvals do not open offline sessions
    download = Approvals(Approval(download=(ISSUED, EXPIRES + 86_400)))
    assert check(EXPIRES + 3600, download).uservalues == {"uservalue0": "course-7"}
    with pytest.raises(Forbidden):
        check(EXPIRES + 86_400 + 901, download)
    assert check(EXPIRES + 3600, download, SESSION_START_SLACK_SECONDS="0").uservalues


def test_a_forged_nonce_or_a_missing_one_when_required() -> None:
    with pytest.raises(Forbidden) as refused:
        check(ISSUED, Approvals(), nonce=NONCE[:-1] + ("A" if NONCE[-1] != "A" else "B"))
    assert refused.value.field == "uservalue99"
    assert check(ISSUED, Approvals(), nonce=None).uservalues == {"uservalue0": "course-7"}
    with pytest.raises(Forbidden):
        check(ISSUED, Approvals(), nonce=None, REQUIRE_SIGNED_PLAYBACK="true")


def test_required_approval_reads_the_devices_approvals() -> None:
    required = {"REQUIRE_APPROVED_PLAY": "true"}
    with pytest.raises(Forbidden) as refused:
        check(ISSUED, Approvals(), **required)
    assert refused.value.field == "player_id"
    store = Approvals(Approval(streaming=(ISSUED, EXPIRES)))
    assert check(ISSUED + 10, store, nonce=None, **required).uservalues == {"uservalue0": "course-7"}
    assert store.reads == 1
    with pytest.raises(Forbidden):
        check(EXPIRES + 901, store, nonce=None, **required)
    unnamed = dataclasses.replace(callback(ISSUED, None), player_id="")
    with pytest.raises(Forbidden):
        check_binding(unnamed, settings_from(BASE | required), list, store, ISSUED * 1000)
