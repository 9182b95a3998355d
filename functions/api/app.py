"""The LMS-facing API (bearer token): progress and the completion sync ledger."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from kollus_bridge.dal import progress_store
from kollus_bridge.http import bearer_auth, json_response, ledger_json, make_resolver, progress_json
from kollus_bridge.observability import logger, metrics, tracer
from kollus_bridge.service import read_progress, redeliver, sync_ledger
from kollus_bridge.settings import get_settings
from kollus_bridge.sync import SyncState
from kollus_bridge.times import now_ms
from pydantic import BaseModel, Field

settings = get_settings()
store = progress_store(settings.table_name, settings.rejected_ttl_days)
app = make_resolver(settings)
app.use(middlewares=[bearer_auth(settings)])

Identifier = Annotated[str, Query(min_length=1, max_length=256)]


class RecordIdentity(BaseModel):
    client_user_id: str = Field(min_length=1, max_length=256)
    media_content_key: str = Field(min_length=1, max_length=256)


@app.get("/v1/progress")
def get_progress(client_user_id: Identifier, media_content_key: Identifier) -> Any:
    view = read_progress(client_user_id, media_content_key, settings, store)
    metrics.add_metric(name="ProgressRead", unit=MetricUnit.Count, value=1)
    return json_response(200, progress_json(client_user_id, media_content_key, view))


@app.get("/v1/sync")
def get_sync_ledger(
    state: Annotated[SyncState, Query()] = SyncState.FAILED,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    next_token: Annotated[str | None, Query(max_length=4096)] = None,
) -> Any:
    page = sync_ledger(state, limit, next_token, store)
    metrics.add_metric(name="SyncLedgerRead", unit=MetricUnit.Count, value=1)
    return json_response(200, {"items": [ledger_json(entry) for entry in page.entries], "next_token": page.next_token})


@app.post("/v1/sync/redeliver")
def post_redeliver(identity: Annotated[RecordIdentity, Body()]) -> Any:
    redeliver(identity.client_user_id, identity.media_content_key, store, now_ms())
    metrics.add_metric(name="SyncRedeliver", unit=MetricUnit.Count, value=1)
    return json_response(202, {**identity.model_dump(), "state": SyncState.PENDING.value})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
