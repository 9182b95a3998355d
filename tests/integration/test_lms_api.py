"""Listings, pagination and rules on DynamoDB Local (the content index and batch reads for real)."""

from __future__ import annotations

import pytest
from kollus_bridge.api.service import RulesInput, progress_detail, progress_page, set_rules
from kollus_bridge.kollus.callback import RawCallback
from kollus_bridge.progress.ingest import ingest_callback, rules_for
from kollus_bridge.progress.rules import RulesCache
from kollus_bridge.settings import Settings, settings_from
from kollus_bridge.store.dynamo import DynamoStore

from tests.payloads import FORM, Snapshot

pytestmark = pytest.mark.dynamodb_local


def settings_for(store: DynamoStore) -> Settings:
    return settings_from({"TABLE_NAME": store.table_name, "KOLLUS_CALLBACK_TOKEN": "t", "API_TOKEN": "a"})


def post(store: DynamoStore, settings: Settings, learner: str, content: str, times: dict[int, float]) -> None:
    snapshot = Snapshot(client_user_id=learner, media_content_key=content, serial=1, block_times=times)
    ingest_callback(RawCallback(snapshot.form_body(), FORM), settings, store, 1_000)


def every_page(settings: Settings, store: DynamoStore, limit: int, **who: str | None) -> list[list[str]]:
    rules = RulesCache(lambda key: rules_for(key, settings, store), 60)
    pages, token = [], None
    while True:
        page = progress_page(
            settings,
            store,
            rules,
            2_000,
            limit=limit,
            next_token=token,
            client_user_id=who.get("client_user_id"),
            media_content_key=who.get("media_content_key"),
        )
        pages.append([f"{item.client_user_id}/{item.media_content_key}" for item in page.items])
        token = page.next_token
        if token is None:
            return pages


def test_a_contents_learners_page_through_the_index(store: DynamoStore) -> None:
    settings = settings_for(store)
    for learner in range(7):
        post(store, settings, f"learner-{learner}", "content-1", {0: 60.0})
    post(store, settings, "learner-0", "content-2", {0: 60.0})
    pages = every_page(settings, store, 3, client_user_id=None, media_content_key="content-1")
    assert [entry for page in pages for entry in page] == [f"learner-{n}/content-1" for n in range(7)]
    assert [len(page) for page in pages][:3] == [3, 3, 1]


def test_a_learners_records_page_by_content(store: DynamoStore) -> None:
    settings = settings_for(store)
    for content in range(5):
        post(store, settings, "learner-1", f"content-{content}", {0: 60.0})
    post(store, settings, "learner-10", "content-9", {0: 60.0})  # a learner id sharing a prefix stays out
    pages = every_page(settings, store, 2, client_user_id="learner-1", media_content_key=None)
    assert [entry for page in pages for entry in page] == [f"learner-1/content-{n}" for n in range(5)]


def test_rules_apply_to_new_and_existing_records(store: DynamoStore) -> None:
    settings = settings_for(store)
    post(store, settings, "learner-1", "content-1", {0: 60.0, 1: 20.0, 2: 20.0})
    rules = RulesCache(lambda key: rules_for(key, settings, store), 0)
    assert progress_detail("learner-1", "content-1", settings, store, rules=rules, now=2_000).view.watched_blocks == 1
    set_rules("content-1", RulesInput(completion_threshold=30, min_block_watch_ratio=0.3), store, now=3_000)
    detail = progress_detail("learner-1", "content-1", settings, store, rules=rules, now=4_000)
    assert (detail.view.watched_blocks, detail.view.completed, detail.view.completed_at) == (3, True, 4_000)
    snapshot = Snapshot(client_user_id="learner-2", media_content_key="content-1", serial=1, block_times={0: 20.0})
    result = ingest_callback(RawCallback(snapshot.form_body(), FORM), settings, store, 5_000, rules=rules)
    assert (result.view.watched_blocks, result.view.completed) == (1, False)  # 20 s of 60 s passes 0.3
