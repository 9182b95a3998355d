"""Row 5: how fast the sync sweep delivers due completions to a slow LMS, against the ideal."""

from __future__ import annotations

import threading
import time

from local.dynamodb_local import DynamoDBLocal, create_tables, unique_suffix
from local.lms_receiver import Answer, LmsReceiver
from local.simulator import Content, Session, play_session

from .workload import FORM


def measure_sync(
    database: DynamoDBLocal, completions: int = 160, lms_delay: float = 0.05, rounds: int = 3
) -> dict[str, float]:
    """One sweep over `completions` due records to an LMS that takes `lms_delay` to answer, `rounds`
    times on fresh tables; the median rate."""
    from local.stack import LOCAL_DEFAULTS  # noqa: PLC0415

    secret = LOCAL_DEFAULTS["LMS_WEBHOOK_SECRET"]
    receiver = LmsReceiver(("127.0.0.1", 0), [secret])
    receiver.script.default = Answer(status=204, delay_seconds=lms_delay)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        runs = [one_sweep(database, receiver, secret, completions) for _ in range(rounds)]
    finally:
        receiver.shutdown()
        receiver.server_close()
    delivered, rate, concurrency = sorted(runs, key=lambda run: run[1])[rounds // 2]
    ideal = concurrency / lms_delay
    return {"delivered": delivered, "per_second": rate, "ideal": ideal, "concurrency": concurrency,
            "lms_ms": lms_delay * 1000, "rounds": rounds}  # fmt: skip


def one_sweep(database: DynamoDBLocal, receiver: LmsReceiver, secret: str, completions: int) -> tuple[int, float, int]:
    """(delivered, completions per second, concurrency) of one sweep."""
    from kollus_bridge.delivery.lms import post_webhook  # noqa: PLC0415
    from kollus_bridge.delivery.sync import SyncRun  # noqa: PLC0415
    from kollus_bridge.kollus.callback import RawCallback  # noqa: PLC0415
    from kollus_bridge.progress.ingest import ingest_callback  # noqa: PLC0415
    from kollus_bridge.settings import settings_from  # noqa: PLC0415
    from kollus_bridge.store.dynamo import DynamoStore  # noqa: PLC0415

    from local.simulator import Play  # noqa: PLC0415

    client = database.client()
    table = create_tables(client, suffix=unique_suffix())["ProgressTable"]
    store = DynamoStore(table, client)
    settings = settings_from(
        {"TABLE_NAME": table, "KOLLUS_CALLBACK_TOKEN": "t", "API_TOKEN": "a", "LMS_WEBHOOK_URL": receiver.url,
         "LMS_WEBHOOK_SECRET": secret, "ENFORCE_PLAYBACK_CLOCK": "false"}  # whole sessions replayed at once
    )  # fmt: skip
    content = Content("lecture-1", 600.0, 10)
    for learner in range(completions):
        report = play_session(Session(f"learner-{learner}", content, 1), [Play(0, 600)])[-1]
        ingest_callback(RawCallback(report.form_body(), FORM), settings, store, 1_000)
    started = time.perf_counter()
    result = SyncRun(store, post_webhook, settings, [secret], lambda: 300_000).run()
    elapsed = time.perf_counter() - started
    client.delete_table(TableName=table)
    return result.delivered, result.delivered / elapsed, settings.sync_concurrency
