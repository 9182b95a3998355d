"""Content management on DynamoDB Local against the Kollus stand-in: platform callbacks duplicated,
reordered and in parallel; refused ones kept; reconciliation repairing what callbacks missed; the
content.* webhooks through the delivery ledger; and the VOD API's rate limit held by several processes."""

from __future__ import annotations

import itertools
import multiprocessing
import random
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode

import pytest
from kollus_bridge import outbound
from kollus_bridge.content import manage
from kollus_bridge.content.catalog import Status
from kollus_bridge.content.limiter import Limiter
from kollus_bridge.content.reconcile import Reconciler
from kollus_bridge.errors import InvalidPayload
from kollus_bridge.kollus.callback import RawCallback
from kollus_bridge.kollus.vod import VodClient
from kollus_bridge.settings import Settings, settings_from
from kollus_bridge.store.dynamo import DynamoStore
from kollus_bridge.store.ledger import DUE_INDEX

from local.dynamodb_local import DynamoDBLocal
from local.kollus_vod import LOCAL_TOKEN, KollusVod
from local.lms_receiver import LmsReceiver
from local.stack import LOCAL_DEFAULTS
from tests.helpers import serving
from tests.integration.test_sync import Clock, sync

pytestmark = pytest.mark.dynamodb_local

FORM = "application/x-www-form-urlencoded"
SECRET = LOCAL_DEFAULTS["LMS_WEBHOOK_SECRET"]


def settings_for(store: DynamoStore, **overrides: str) -> Settings:
    return settings_from(
        {
            "TABLE_NAME": store.table_name,
            "KOLLUS_CALLBACK_TOKEN": "t",
            "API_TOKEN": "a",
            "KOLLUS_API_TOKEN": LOCAL_TOKEN,
            "KOLLUS_CHANNEL_KEY": "lectures",
            "LMS_WEBHOOK_SECRET": SECRET,
            "SYNC_HTTP_TIMEOUT_SECONDS": "2",
            **overrides,
        }
    )


def platform(store: DynamoStore, settings: Settings, fields: dict[str, str], now: int = 1_000) -> manage.PlatformResult:
    raw = RawCallback(urlencode({"content_provider_key": "cp", **fields}).encode(), FORM)
    return manage.receive_platform_callback(raw, settings, store, now)


STORY = [
    {"upload_file_key": "uf-1", "filename": "intro.mp4", "full_filename": "/in/intro.mp4"},
    {"upload_file_key": "uf-1", "filename": "intro.mp4", "transcoding_result": "fail"},
    {"upload_file_key": "uf-1", "filename": "intro.mp4", "transcoding_result": "success"},
    {"upload_file_key": "uf-1", "media_content_key": "mck-a", "channel_key": "ch-a", "channel_name": "A",
     "profile_key": "p-720|p-360", "update_type": "channel_join"},
    {"upload_file_key": "uf-1", "media_content_key": "mck-b", "channel_key": "ch-b", "update_type": "channel_join"},
    {"upload_file_key": "uf-1", "channel_key": "ch-b", "update_type": "channel_leave"},
]  # fmt: skip


def test_platform_callbacks_duplicated_reordered_and_in_parallel_end_the_same(store: DynamoStore) -> None:
    settings = settings_for(store, KOLLUS_API_TOKEN="")  # no VOD API: nothing to wait for
    rng = random.Random(7)
    deliveries = [fields for fields in STORY for _ in range(4)]  # Kollus retries: each callback four times
    rng.shuffle(deliveries)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda fields: platform(store, settings, fields), deliveries))
    assert sum(result.changed for result in results) == len(STORY)  # each applied once, the rest duplicates
    stored = store.get_content("uf-1")
    assert stored is not None
    entry = stored.entry
    assert entry.status is Status.READY and dict(entry.channels) == {"ch-a": "mck-a"}
    assert entry.profile_keys == {"p-720", "p-360"} and entry.filename == "intro.mp4"
    assert stored.rev == len(STORY)  # one conditional write per change, none lost
    # The card names the content by the key players use; the left channel's card is gone.
    assert set(store.content_cards(["mck-a", "mck-b"])) == {"mck-a"}
    found = store.find_content("mck-a")
    assert found is not None and found.entry.upload_file_key == "uf-1"
    # content.ready is due for delivery, once.
    due = store.client.scan(TableName=store.table_name, IndexName=DUE_INDEX)["Items"]
    assert [item["sk"]["S"] for item in due] == ["C#uf-1"]
    assert list(store.contents_with_work()) == []  # nothing for reconciliation to do


def test_a_callback_about_an_unknown_upload_creates_it(store: DynamoStore) -> None:
    settings = settings_for(store)
    result = platform(store, settings, STORY[3])
    assert result.changed and result.entry is not None
    assert result.entry.status is Status.TRANSCODING and result.entry.refresh  # details to fetch
    (work,) = store.contents_with_work()  # found through the sparse index, without reading the catalog
    assert work.entry.upload_file_key == "uf-1"


def test_refused_platform_callbacks_are_kept(store: DynamoStore) -> None:
    settings = settings_for(store)
    with pytest.raises(InvalidPayload):
        platform(store, settings, {"upload_file_key": "uf-1", "transcoding_result": "perhaps"})
    (kept,) = store.client.scan(TableName=store.table_name)["Items"]
    assert kept["pk"]["S"].startswith("R#") and kept["source"]["S"] == "platform_callback"
    assert kept["field"]["S"] == "transcoding_result"
    assert store.get_content("uf-1") is None


class CallbackSink(ThreadingHTTPServer):
    """Kollus's platform callbacks, straight into the use case (the HTTP API is the e2e suite's)."""

    daemon_threads = True

    def __init__(self, store: DynamoStore, settings: Settings) -> None:
        self.store, self.settings = store, settings
        super().__init__(("127.0.0.1", 0), _Sink)


class _Sink(BaseHTTPRequestHandler):
    server: CallbackSink

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        manage.receive_platform_callback(
            RawCallback(body, self.headers.get("content-type")), self.server.settings, self.server.store, 1_000
        )
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()


@pytest.fixture
def kollus(store: DynamoStore) -> Iterator[KollusVod]:
    vod = KollusVod(transcode_seconds=0.05, min_interval=0.03)
    sink = CallbackSink(store, settings_for(store))
    vod.callback_url = f"http://127.0.0.1:{sink.server_address[1]}/"
    with serving(vod), serving(sink):
        yield vod


def client_of(kollus: KollusVod, store: DynamoStore) -> VodClient:
    return VodClient(
        kollus.api_url, lambda: LOCAL_TOKEN, before_request=Limiter(store, interval_ms=40, spacing_ms=30).acquire
    )


def upload(kollus: KollusVod, store: DynamoStore, title: str) -> str:
    ticket, entry = manage.create_upload(
        client_of(kollus, store), store, settings_for(store), 1_000, title=title, uploaded_by="teacher-1"
    )
    assert entry.status is Status.UPLOADING and entry.requested_channel == "lectures"
    import urllib3  # noqa: PLC0415

    answer = urllib3.request("POST", ticket.upload_url, fields={"upload-file": ("lecture.mp4", b"x" * 42_000)})
    assert answer.status == 200
    return ticket.upload_file_key


def wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def reconcile(kollus: KollusVod, store: DynamoStore, **options: Any) -> Any:
    return Reconciler(store, client_of(kollus, store), lambda: int(time.time() * 1000), lambda: 60_000).run(**options)


def status_of(store: DynamoStore, key: str) -> Status | None:
    stored = store.get_content(key)
    return None if stored is None else stored.entry.status


def test_reconciliation_repairs_what_callbacks_missed(kollus: KollusVod, store: DynamoStore) -> None:
    kollus.drop_callbacks = {"transcoded", "channel"}  # lost on the way
    key = upload(kollus, store, "Recursion")
    wait_for(lambda: status_of(store, key) is Status.TRANSCODING and key in kollus.contents)
    wait_for(lambda: kollus.contents[key].stage == "completed")
    first = reconcile(kollus, store, sweep=True)
    assert first.attached == 1 and first.errors == 0 and first.swept
    stored = store.get_content(key)
    assert stored is not None and stored.entry.status is Status.READY
    assert (stored.entry.title == "Recursion" and stored.entry.duration == 42.0 + 0.0) or stored.entry.duration
    assert stored.entry.media_content_key == kollus.contents[key].channels["lectures"]
    assert stored.entry.due_event == "content.ready"
    assert list(store.contents_with_work()) == []  # the sweep answered the re-check the attach asked for
    # Added and deleted in the console: the next sweep finds both.
    other = kollus.add_in_console("Console upload", "lectures")
    kollus.delete_in_console(key)
    second = reconcile(kollus, store, sweep=True)
    assert (second.added, second.deleted, second.errors) == (1, 1, 0)
    assert status_of(store, key) is Status.DELETED and status_of(store, other.upload_file_key) is Status.READY
    # A sweep with nothing new changes nothing.
    third = reconcile(kollus, store, sweep=True)
    assert (third.added, third.repaired, third.deleted, third.left) == (0, 0, 0, 0)


def test_content_webhooks_go_through_the_ledger_exactly_once(kollus: KollusVod, store: DynamoStore) -> None:
    lms = LmsReceiver(("127.0.0.1", 0), [SECRET], tolerance=10**9)
    with serving(lms):
        settings = settings_for(store, LMS_WEBHOOK_URL=lms.url)
        key = upload(kollus, store, "Sorting")
        wait_for(lambda: status_of(store, key) is Status.READY)
        reconcile(kollus, store)  # details and the channel
        wait_for(lambda: (s := store.get_content(key)) is not None and s.entry.due_event == "content.ready")
        clock = Clock(int(time.time() * 1000) + 1_000)
        assert sync(store, settings, clock).delivered == 1
        assert sync(store, settings, clock).delivered == 0
        length = kollus.contents[key].duration
        # A rename of an announced content is announced too, once per change.
        manage.rename(client_of(kollus, store), store, key, "Sorting, revised", clock.now)
        assert sync(store, settings, clock).delivered == 1
        assert sync(store, settings, clock).delivered == 0
        manage.rename(client_of(kollus, store), store, key, "Sorting, revised", clock.now)  # no change: nothing owed
        assert sync(store, settings, clock).delivered == 0
        manage.delete(client_of(kollus, store), store, key, clock.now)
        assert key not in kollus.contents  # a library delete
        assert sync(store, settings, clock).delivered == 1
        kinds = [(message.body["type"], message.body["data"]["upload_file_key"]) for message in lms.delivered()]
        assert kinds == [("content.ready", key), ("content.updated", key), ("content.deleted", key)]
        ready, updated = (message.body["data"] for message in lms.delivered()[:2])
        assert ready["title"] == "Sorting" and ready["duration"] == length and ready["status"] == "ready"
        assert updated["title"] == "Sorting, revised" and updated["status"] == "ready"
        ids = [message.message_id for message in lms.delivered()]
        assert len(set(ids)) == 3


SLOTS_EACH = 2


def _take_slots(endpoint: str, table: str, api_url: str, ready: Any, granted: Any) -> None:
    import boto3  # noqa: PLC0415

    from local.dynamodb_local import LOCAL_CREDENTIALS  # noqa: PLC0415

    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=LOCAL_CREDENTIALS["AWS_DEFAULT_REGION"],
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    store = DynamoStore(table, client)
    outbound.allow_private_targets(True)  # a process of its own: the stand-in listens on 127.0.0.1
    interval = settings_from(
        {"TABLE_NAME": table, "KOLLUS_CALLBACK_TOKEN": "t", "API_TOKEN": "a"}
    ).kollus_api_interval_ms
    vod = VodClient(api_url, lambda: LOCAL_TOKEN, before_request=Limiter(store, interval_ms=interval).acquire)
    ready.wait(60)  # every process set up before any asks, so they contend for the same slots
    for _ in range(SLOTS_EACH):
        vod.channels()
        granted.put(time.time())


def test_the_rate_limit_holds_across_processes(dynamodb_local: DynamoDBLocal, store: DynamoStore) -> None:
    """Four processes, each with its own client and limiter at the deployed spacing, start together and each
    call the stand-in twice as fast as they may: Kollus (the stand-in) never sees two requests within a second.
    (A count of requests, not a deadline: how fast four processes start on a busy machine varies.)"""
    kollus = KollusVod(min_interval=1.0)
    with serving(kollus):
        context = multiprocessing.get_context("spawn")
        granted = context.Queue()
        ready = context.Barrier(4)
        workers = [
            context.Process(
                target=_take_slots, args=(dynamodb_local.endpoint, store.table_name, kollus.api_url, ready, granted)
            )
            for _ in range(4)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(120)
        assert all(worker.exitcode == 0 for worker in workers)
        times = sorted(granted.get(timeout=5) for _ in range(4 * SLOTS_EACH))
        print(f"\nrate limit: {len(kollus.api_requests)} requests from 4 processes, too soon {kollus.too_soon}")
        arrivals = [at for at, _ in kollus.api_requests]
        assert kollus.too_soon == 0 and len(arrivals) == 4 * SLOTS_EACH  # never two within a second
        assert min(later - earlier for earlier, later in itertools.pairwise(arrivals)) >= 1.0
        assert all(later - earlier >= 1.0 for earlier, later in itertools.pairwise(times))


def test_a_sweep_leaves_contents_of_unswept_channels_alone(kollus: KollusVod, store: DynamoStore) -> None:
    settings = settings_for(store, KOLLUS_API_TOKEN="")
    joined = {
        "upload_file_key": "uf-x",
        "media_content_key": "mck-x",
        "channel_key": "elsewhere",
        "update_type": "join",
    }
    for fields in ({"upload_file_key": "uf-x", "transcoding_result": "success"}, joined):
        platform(store, settings, fields)
    report = Reconciler(
        store, client_of(kollus, store), lambda: int(time.time() * 1000), lambda: 60_000, channel_keys=("lectures",)
    ).run(sweep=True)
    assert report.swept and (report.left, report.deleted, report.errors) == (0, 0, 0)
    assert [path for _, path in kollus.api_requests] == ["GET media/channel/media_content.json"]  # no lookups
    stored = store.get_content("uf-x")
    assert (
        stored is not None
        and stored.entry.status is Status.READY
        and dict(stored.entry.channels) == {"elsewhere": "mck-x"}
    )


def test_a_run_stops_asking_once_kollus_does_not_answer(store: DynamoStore) -> None:
    settings = settings_for(store)
    for number in range(3):  # three entries asking for their details
        platform(store, settings, {"upload_file_key": f"uf-{number}", "transcoding_result": "success"})
    unreachable = VodClient("http://127.0.0.1:9/0", lambda: LOCAL_TOKEN, max_attempts=1, sleep=lambda _: None)
    report = Reconciler(store, unreachable, lambda: int(time.time() * 1000), lambda: 60_000).run(sweep=True)
    assert (report.errors, report.kollus_unavailable, report.stopped_early, report.swept) == (1, True, True, False)
    assert len(list(store.contents_with_work())) == 3  # nothing lost: the next run asks again
