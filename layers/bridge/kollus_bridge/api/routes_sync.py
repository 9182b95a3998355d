"""The LMS API's completion sync ledger routes, as a Powertools router the API function includes."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict, Field

from kollus_bridge.content import manage
from kollus_bridge.delivery.ledger import SyncState, Target
from kollus_bridge.errors import NotFound
from kollus_bridge.observability import metrics
from kollus_bridge.store.api_tables import ApiTables
from kollus_bridge.times import now_ms

from . import models as api_models
from .http import PageToken as Token
from .http import ledger_json, model_response, responses
from .service import redeliver, sync_ledger


class RecordIdentity(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {"client_user_id": "user-1042", "media_content_key": "nY3CaQtl"},
                {"media_content_key": "nY3CaQtl"},
            ]
        },
    )

    client_user_id: str | None = Field(
        default=None, min_length=1, max_length=256, description="Omit to redeliver the content's content.* webhook."
    )
    media_content_key: str = Field(min_length=1, max_length=256)
    target: Literal["webhook", "ags", "xapi"] = Field(
        default="webhook", description="The LMS webhook, the LTI platform's gradebook (ags) or the LRS (xapi)."
    )


def sync_routes(store: ApiTables) -> Router:
    router = Router()  # type: ignore[no-untyped-call]

    @router.get(
        "/v1/sync",
        summary="The completion sync ledger, one state at a time: a row per delivery target (webhook, ags, xapi)",
        description="`target` keeps one target's rows (a page may then hold fewer than `limit`; follow next_token).",
        responses=responses(api_models.LedgerPage, 400, 401, 503),
    )
    def get_sync_ledger(
        state: Annotated[SyncState, Query(examples=["failed"])] = SyncState.FAILED,
        limit: Annotated[int, Query(ge=1, le=500, examples=[50])] = 50,
        next_token: Token = None,
        target: Annotated[Target | None, Query(examples=["ags"])] = None,
    ) -> Response[str]:
        page = sync_ledger(state, limit, next_token, store, target)
        metrics.add_metric(name="SyncLedgerRead", unit=MetricUnit.Count, value=1)
        items = [ledger_json(entry) for entry in page.entries]
        return model_response(200, api_models.LedgerPage(items=items, next_token=page.next_token))

    @router.post(
        "/v1/sync/redeliver",
        summary="Put a completion back in line for delivery to one target (idempotent; the webhook-id stays the same)",
        responses=responses(api_models.Redelivery, 400, 401, 404, 503, status=202),
    )
    def post_redeliver(identity: Annotated[RecordIdentity, Body()]) -> Response[str]:
        if identity.client_user_id is None:
            if identity.target != "webhook":
                raise NotFound("a content's content.* events go to the webhook only")
            manage.redeliver_content(store, identity.media_content_key, now_ms())
        else:
            redeliver(identity.client_user_id, identity.media_content_key, store, now_ms(), Target(identity.target))
        metrics.add_metric(name="SyncRedeliver", unit=MetricUnit.Count, value=1)
        return model_response(202, api_models.Redelivery(**identity.model_dump(), state="pending"))

    return router
