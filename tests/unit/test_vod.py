"""The Kollus VOD API client on recorded shapes: requests as Kollus documents them, answers as Kollus's
samples show them (numbers as strings, `items` as a list or as `{"item": [...]}`), the error envelope,
retries, and the token kept out of every error."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from kollus_bridge.kollus.vod import VodClient, VodNotFound, VodRefused, VodUnavailable, content_from
from kollus_bridge.outbound import Answer, NoAnswer

TOKEN = "secret-access-token-123"


class Recorder:
    """Answers queued in order; every request kept."""

    def __init__(self, *answers: Answer | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, Any]] = []

    def __call__(
        self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None, timeout: float
    ) -> Answer:
        parts = urlsplit(url)
        self.requests.append(
            {
                "method": method,
                "path": parts.path,
                "query": {key: values[0] for key, values in parse_qs(parts.query).items()},
                "headers": dict(headers),
                "form": {key: values[0] for key, values in parse_qs((body or b"").decode()).items()},
            }
        )
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def ok(result: Any) -> Answer:
    return Answer(200, {"content-type": "application/json"}, json.dumps({"error": 0, "result": result}).encode())


def client(recorder: Recorder, **options: Any) -> tuple[VodClient, list[float], list[str]]:
    slept: list[float] = []
    turns: list[str] = []
    vod = VodClient(
        "https://api.kr.kollus.com/0",
        token=lambda: TOKEN,
        send=recorder,
        sleep=slept.append,
        before_request=lambda: turns.append("slot"),
        **options,
    )
    return vod, slept, turns


def test_upload_url_request_and_answer() -> None:
    recorder = Recorder(
        ok(
            {
                "upload_url": "https://upload.kr.kollus.com/api/upload/abc?key=1",
                "upload_file_key": "uf-abc",
                "progress_url": "https://upload.kr.kollus.com/api/progress/abc",
                "expired_at": "1795309200",
            }
        )
    )
    vod, _, turns = client(recorder)
    ticket = vod.create_upload_url("Week 3", expire_seconds=999_999, category_key="cat-1", encrypt=True, now=1)
    (sent,) = recorder.requests
    assert (sent["method"], sent["path"]) == ("POST", "/0/media_auth/upload/create_url.json")
    assert sent["query"] == {"access_token": TOKEN}  # the token travels in the query, never in the body
    assert sent["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert sent["form"] == {
        "expire_time": "21600",  # Kollus's ceiling
        "title": "Week 3",
        "is_encryption_upload": "1",
        "is_audio_upload": "0",
        "category_key": "cat-1",
    }
    assert (ticket.upload_file_key, ticket.expires_at) == ("uf-abc", 1_795_309_200)
    assert ticket.progress_url is not None and turns == ["slot"]


def test_an_upload_answer_without_an_expiry_gets_the_one_asked_for() -> None:
    vod, _, _ = client(Recorder(ok({"upload_url": "https://u/1", "upload_file_key": "uf-1"})))
    assert vod.create_upload_url("t", expire_seconds=600, now=1_000).expires_at == 1_600


def test_a_detail_with_numbers_as_strings_and_channels() -> None:
    item = {
        "upload_file_key": "uf-1",
        "title": "Intro",
        "duration": "61.5",
        "poster_url": "https://img/1.jpg",
        "transcoding_stage": "21",
        "created_at": "1795305600",
        "channels": [{"key": "ch-a", "name": "A", "media_content_key": "mck-a"}, {"key": "ch-b"}],
        "transcoding_files": [{"profile_key": "pc-720p"}, {"profile_key": "mobile-360p"}],
    }
    recorder = Recorder(ok({"item": item}))
    vod, _, _ = client(recorder)
    found = vod.content("uf-1")
    assert recorder.requests[0]["path"] == "/0/media/library/media_content/uf-1"
    assert recorder.requests[0]["query"]["force"] == "1"  # Kollus caches API answers; force skips the cache
    assert recorder.requests[0]["headers"]["accept"] == "application/json"
    assert (found.title, found.duration, found.transcoding, found.created_at) == ("Intro", 61.5, "ready", 1_795_305_600)
    assert found.channels == (("ch-a", "mck-a"),) and found.profile_keys == ("pc-720p", "mobile-360p")


@pytest.mark.parametrize(
    ("fields", "stage"),
    [
        ({"transcoding_stage_name": "Completed"}, "ready"),
        ({"transcoding_stage_name": "fail"}, "failed"),
        ({"transcoding_stage_name": "Encoding"}, "transcoding"),
        ({"transcoding_stage": 31}, "failed"),
        ({"transcoding_stage": "3"}, "transcoding"),
        ({}, None),
    ],
)
def test_transcoding_stages(fields: dict[str, Any], stage: str | None) -> None:
    found = content_from({"upload_file_key": "uf-1", **fields})
    assert found is not None and found.transcoding == stage


def test_odd_fields_are_unknown_not_errors() -> None:
    found = content_from({"watcher_file_key": "uf-1", "duration": "n/a", "title": {"x": 1}, "created_at": "-5"})
    assert found is not None and found.upload_file_key == "uf-1"
    assert (found.duration, found.title, found.created_at) == (None, None, None)
    assert content_from({"title": "no key"}) is None


@pytest.mark.parametrize("wrapped", [False, True])
def test_a_channel_page_in_either_list_shape(wrapped: bool) -> None:
    items = [{"upload_file_key": "uf-1", "media_content_key": "mck-1", "title": "A"}, {"title": "no key"}]
    result = {"per_page": "2", "count": "3", "items": {"item": items} if wrapped else items}
    recorder = Recorder(ok(result))
    vod, _, _ = client(recorder)
    page = vod.channel_contents("ch-a", 1, 2)
    assert recorder.requests[0]["path"] == "/0/media/channel/media_content.json"
    assert recorder.requests[0]["query"] | {"access_token": "-"} == {
        "channel_key": "ch-a", "page": "1", "per_page": "2", "order": "position_asc", "force": "1", "access_token": "-",
    }  # fmt: skip
    assert [(c.upload_file_key, c.channels) for c in page.items] == [("uf-1", (("ch-a", "mck-1"),))]
    assert (page.count, page.per_page, page.last) == (3, 2, False)


def test_channels_attach_rename_delete_paths() -> None:
    recorder = Recorder(ok({"count": 1, "items": [{"key": "ch-a", "name": "Lectures"}]}), ok({}), ok({}), ok({}))
    vod, _, _ = client(recorder)
    assert vod.channels() == [("ch-a", "Lectures")]
    vod.attach("uf/1", "ch-a")
    vod.update_title("uf-1", "New")
    vod.delete("uf-1")
    assert [(r["method"], r["path"]) for r in recorder.requests] == [
        ("GET", "/0/media/channel"),
        ("POST", "/0/media/channel/attach/uf%2F1.json"),  # a key cannot change the path
        ("POST", "/0/media/library/edit/uf-1.json"),
        ("POST", "/0/media/library/delete/uf-1.json"),
    ]
    assert recorder.requests[1]["form"] == {"channel_key": "ch-a"} and recorder.requests[2]["form"] == {"title": "New"}


def test_the_error_envelope_becomes_domain_errors() -> None:
    refused = Answer(200, {}, json.dumps({"error": 1, "message": "Invalid category key"}).encode())
    missing = Answer(200, {}, json.dumps({"error": "1", "message": "Media content does not exist"}).encode())
    vod, _, _ = client(Recorder(refused, missing, Answer(404, {}, b"<html>"), Answer(403, {}, b"")))
    with pytest.raises(VodRefused, match="Invalid category key") as caught:
        vod.attach("uf-1", "ch")
    assert not isinstance(caught.value, VodNotFound)
    with pytest.raises(VodNotFound):
        vod.content("uf-1")
    with pytest.raises(VodNotFound):
        vod.content("uf-1")
    with pytest.raises(VodRefused, match="403"):
        vod.delete("uf-1")


def test_429_and_5xx_are_retried_with_backoff_each_attempt_taking_a_slot() -> None:
    recorder = Recorder(
        Answer(429, {"retry-after": "7"}, b""), Answer(502, {}, b""), ok({"item": {"upload_file_key": "u"}})
    )
    vod, slept, turns = client(recorder, max_attempts=3)
    assert vod.content("u").upload_file_key == "u"
    assert len(recorder.requests) == 3 and turns == ["slot"] * 3
    assert slept[0] >= 7 and len(slept) == 2  # Retry-After honoured


def test_no_usable_answer_after_the_attempts_is_unavailable_and_never_names_the_token() -> None:
    recorder = Recorder(NoAnswer("no answer within 10 s"), Answer(503, {}, b""), Answer(500, {}, TOKEN.encode()))
    vod, _, _ = client(recorder, max_attempts=3)
    with pytest.raises(VodUnavailable) as caught:
        vod.channels()
    assert TOKEN not in str(caught.value) and TOKEN not in repr(caught.value)
    refused = Recorder(Answer(400, {}, json.dumps({"error": 1, "message": "bad"}).encode()))
    vod, _, _ = client(refused)
    with pytest.raises(VodRefused) as again:
        vod.channels()
    assert TOKEN not in str(again.value)
