"""The catalog's rules (pure): platform callbacks parsed as Kollus sends them, and an entry that ends
the same whatever order its callbacks and the VOD API's answers come in, however often."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kollus_bridge.content import catalog
from kollus_bridge.content.catalog import Entry, Status
from kollus_bridge.errors import InvalidPayload, UnsupportedMediaType
from kollus_bridge.kollus.callback import RawCallback
from kollus_bridge.kollus.platform import EventKind, PlatformEvent, parse_platform_callback
from kollus_bridge.kollus.vod import VodContent
from kollus_bridge.settings import settings_from

SETTINGS = settings_from({"TABLE_NAME": "table", "KOLLUS_CALLBACK_TOKEN": "t", "API_TOKEN": "a"})
FORM = "application/x-www-form-urlencoded"


def parse(**fields: str) -> PlatformEvent:
    return parse_platform_callback(RawCallback(urlencode(fields).encode(), FORM), SETTINGS)


def test_each_platform_callback_as_kollus_sends_it() -> None:
    common = {"content_provider_key": "cp", "full_filename": "/in/intro.mp4", "filename": "intro.mp4"}
    uploaded = parse(**common, upload_file_key="uf-1")
    assert (uploaded.kind, uploaded.filename) == (EventKind.UPLOADED, "intro.mp4")
    done = parse(content_provider_key="cp", filename="intro.mp4", upload_file_key="uf-1", transcoding_result="success")
    assert (done.kind, done.succeeded) == (EventKind.TRANSCODED, True)
    assert parse(upload_file_key="uf-1", transcoding_result="fail").succeeded is False
    joined = parse(
        **common,
        upload_file_key="uf-1",
        media_content_key="mck-1",
        channel_key="ch-a",
        channel_name="Lectures",
        profile_key="pc-720p|mobile-360p||pc-720p",
        update_type="channel_join",
    )
    assert (joined.kind, joined.media_content_key, joined.profile_keys) == (
        EventKind.CHANNEL_JOINED, "mck-1", ("pc-720p", "mobile-360p"),
    )  # fmt: skip
    left = parse(upload_file_key="uf-1", channel_key="ch-a", update_type="channel_leave")
    assert left.kind is EventKind.CHANNEL_LEFT
    updated = parse(**common, upload_file_key="uf-1", update_type="title")
    assert updated.kind is EventKind.UPDATED
    # The dedupe key tells retries apart from different callbacks.
    assert len({e.dedupe_key for e in (uploaded, done, joined, left, updated)}) == 5
    assert parse(**common, upload_file_key="uf-1").dedupe_key == uploaded.dedupe_key


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"filename": "a.mp4"}, "upload_file_key"),
        ({"upload_file_key": "uf-1", "transcoding_result": "maybe"}, "transcoding_result"),
        ({"upload_file_key": "uf-1", "channel_key": "ch", "update_type": "channel_join"}, "media_content_key"),
        ({"upload_file_key": "uf\x01"}, "upload_file_key"),
        ({"upload_file_key": "x" * 300}, "upload_file_key"),
    ],
)
def test_unusable_platform_callbacks_are_refused_naming_the_field(fields: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidPayload) as caught:
        parse(**fields)
    assert caught.value.field == field


def test_a_body_of_another_type_is_refused() -> None:
    with pytest.raises(UnsupportedMediaType):
        parse_platform_callback(RawCallback(b"<xml/>", "text/xml"), SETTINGS)


KEY = "uf-1"
EVENTS = [
    PlatformEvent(EventKind.UPLOADED, KEY, "intro.mp4"),
    PlatformEvent(EventKind.TRANSCODED, KEY, "intro.mp4", succeeded=False),
    PlatformEvent(EventKind.TRANSCODED, KEY, "intro.mp4", succeeded=True),
    PlatformEvent(EventKind.CHANNEL_JOINED, KEY, channel_key="ch-a", media_content_key="mck-a", profile_keys=("p1",)),
    PlatformEvent(EventKind.CHANNEL_JOINED, KEY, channel_key="ch-b", media_content_key="mck-b", profile_keys=("p2",)),
    PlatformEvent(EventKind.CHANNEL_LEFT, KEY, channel_key="ch-b", update_type="channel_leave"),
    PlatformEvent(EventKind.UPDATED, KEY, update_type="title"),
]
FOUND = VodContent(KEY, title="Intro", duration=61.5, transcoding="ready", channels=(("ch-a", "mck-a"),))


def replay(events: list[PlatformEvent], now: int = 1_000, *, fetch_details: bool = True) -> Entry | None:
    entry: Entry | None = None
    for step, event in enumerate(events):
        entry = catalog.apply_event(entry, event, now + step, fetch_details=fetch_details) or entry
    return entry


def timeless(entry: Entry | None) -> Entry | None:
    return None if entry is None else replace(entry, created_at=0, updated_at=0)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(range(len(EVENTS))), min_size=1, max_size=20), st.randoms(use_true_random=False))
def test_order_and_repeats_do_not_matter(picks: list[int], rng: object) -> None:
    events = [EVENTS[index] for index in picks]
    shuffled = list(events)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    assert timeless(replay(events)) == timeless(replay(shuffled))
    assert timeless(replay(events)) == timeless(replay(list(dict.fromkeys(events))))


def test_the_whole_story_in_the_worst_order() -> None:
    entry = replay(list(reversed(EVENTS)) + EVENTS)
    assert entry is not None
    assert entry.status is Status.READY  # the success wins over the failed attempt, in either order
    # A callback saying ch-b was left is a claim: the library's channel list decides.
    assert dict(entry.channels) == {"ch-a": "mck-a", "ch-b": "mck-b"} and entry.refresh
    assert entry.due_event is None  # content.ready waits for the library to confirm what callbacks claimed
    merged = catalog.merge_vod(entry, FOUND, 9_000)
    assert (merged.title, merged.duration, merged.refresh, merged.due_event) == ("Intro", 61.5, False, "content.ready")
    assert dict(merged.channels) == {"ch-a": "mck-a"}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(range(len(EVENTS))), min_size=1, max_size=12))
def test_no_callback_series_alone_announces_a_content_the_library_does_not_confirm(picks: list[int]) -> None:
    entry = replay([EVENTS[index] for index in picks])
    assert entry is not None and entry.due_event is None  # callbacks alone never announce (VOD API configured)
    unknown = catalog.details_checked(entry, 5_000)
    assert unknown.due_event is None and not unknown.refresh and unknown.unknown_to_kollus
    later = PlatformEvent(EventKind.UPDATED, KEY, update_type="poster")
    assert catalog.apply_event(unknown, later, 6_000) is not None  # later claims are still kept...
    merged = catalog.merge_vod(unknown, FOUND, 7_000)  # ...and a sweep that finds it announces it
    assert not merged.unknown_to_kollus and merged.due_event == "content.ready"


def test_a_repeat_changes_nothing_and_a_deleted_content_stays_deleted() -> None:
    entry = catalog.apply_event(None, EVENTS[0], 1)
    assert entry is not None and entry.status is Status.TRANSCODING
    assert catalog.apply_event(entry, EVENTS[0], 2) is None
    gone = catalog.deleted(entry, 3)
    after = catalog.apply_event(gone, EVENTS[2], 4)
    assert after is not None and after.status is Status.DELETED and not after.refresh
    assert after.due_event == "content.deleted"
    assert catalog.merge_vod(gone, FOUND, 5).status is Status.DELETED


def test_without_a_vod_api_ready_is_announced_once_in_a_channel() -> None:
    entry = catalog.apply_event(None, EVENTS[2], 1, fetch_details=False)
    assert entry is not None and entry.due_event is None  # no media content key to play it by yet
    joined = catalog.apply_event(entry, EVENTS[3], 2, fetch_details=False)
    assert joined is not None and joined.due_event == "content.ready"


def test_the_vod_api_brings_back_a_channel_a_callback_said_was_left() -> None:
    entry = replay([EVENTS[4], EVENTS[5]], fetch_details=False)  # without a VOD API, callbacks are taken at their word
    assert entry is not None and "ch-b" not in entry.channels and "ch-b" in entry.left_channels
    found = VodContent(KEY, channels=(("ch-b", "mck-b"),))
    rejoined = catalog.merge_vod(entry, found, 10, channel_key="ch-b")
    assert rejoined.channels["ch-b"] == "mck-b" and "ch-b" not in rejoined.left_channels
    assert catalog.leave_channel(rejoined, "ch-b", 11).channels == {}


def test_the_library_detail_lists_every_channel() -> None:
    entry = replay([EVENTS[3], EVENTS[4]])
    assert entry is not None and set(entry.channels) == {"ch-a", "ch-b"}
    assert dict(catalog.merge_vod(entry, FOUND, 10).channels) == {"ch-a": "mck-a"}
    assert catalog.merge_vod(entry, replace(FOUND, channels=()), 10).channels == entry.channels


def test_the_key_players_use_prefers_the_requested_channel() -> None:
    upload = catalog.new_upload(KEY, "Intro", 1, channel_key="ch-b")
    joined = replay([EVENTS[3], EVENTS[4]])
    assert joined is not None
    assert replace(joined, requested_channel="ch-b").media_content_key == "mck-b"
    assert joined.media_content_key == "mck-a"  # else the first channel by key
    assert upload.media_content_key is None and not upload.needs_attach  # not uploaded yet
    uploaded = catalog.apply_event(upload, EVENTS[0], 2)
    assert uploaded is not None and uploaded.needs_attach


def test_a_merge_that_adds_nothing_keeps_its_time() -> None:
    entry = catalog.merge_vod(None, FOUND, 5_000)
    assert catalog.merge_vod(entry, FOUND, 9_000) == entry
    assert catalog.same_content(entry, replace(entry, updated_at=1))


def test_ready_is_said_only_of_a_content_a_player_can_play() -> None:
    transcoded = catalog.Entry("uf-1", status=catalog.Status.READY)
    assert (transcoded.public_status, catalog.public_fields(transcoded)["status"]) == (
        catalog.Status.TRANSCODING,
        "transcoding",
    )
    joined = replace(transcoded, channels=MappingProxyType({"lectures": "mck-1"}))
    assert joined.playable and joined.public_status is catalog.Status.READY and joined.media_content_key == "mck-1"
    failed = catalog.Entry("uf-2", status=catalog.Status.FAILED)
    assert failed.public_status is catalog.Status.FAILED and not failed.playable
