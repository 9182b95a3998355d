"""POST /callbacks/kollus/{token}/play and /drm: Kollus's play callback and DRM callback. The player
plays (or downloads) only if we approve, so the answer is fast (two small reads, one log write) and
always one the player can read: the HS256 JWT Kollus expects, approving or refusing with a message,
even when storage is unreachable (`PLAY_FAIL_OPEN`). A request that is not such a callback at all
gets the one error shape and is kept in the rejected store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from kollus_bridge import edge
from kollus_bridge.access.drm import decide_drm
from kollus_bridge.access.play import decide_play
from kollus_bridge.auth import kollus_keys, nonce_keys, require_callback_token
from kollus_bridge.kollus import drm, play
from kollus_bridge.kollus.refused import kept_when_refused
from kollus_bridge.observability import logger, metrics
from kollus_bridge.settings import get_settings
from kollus_bridge.store.access_tables import access_store
from kollus_bridge.times import now_ms

settings = get_settings()
store = access_store(settings.table_name, settings.rejected_ttl_days)


def receive(event: Mapping[str, Any]) -> dict[str, Any]:
    door = "drm" if str(event.get("routeKey", "")).endswith("/drm") else "play"
    require_callback_token(edge.path_parameter(event, "token"), settings, door)
    raw, now = edge.raw_callback(event), now_ms()
    source = f"{door}_callback"
    with kept_when_refused(store, raw, now, source):
        request = play.parse_play_callback(raw, settings) if source == "play_callback" else None
        items = drm.parse_drm_callback(raw, settings) if request is None else []
    security_key, custom_key = kollus_keys(settings)
    if request is not None:
        decided = decide_play(request, settings, store, now, lambda: nonce_keys(settings))
        metric = "Play_allowed" if decided.allowed else "Play_refused"
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
        logger.info("play callback", extra={"kind": request.kind, "allowed": decided.allowed, "reason": decided.reason})
        body, headers = play.answer(decided.data, security_key, custom_key)
    else:
        answers = decide_drm(items, settings, store, now, lambda: nonce_keys(settings))
        refused = sum(not entry["result"] for entry in answers)
        metrics.add_metric(name="Drm_answered", unit=MetricUnit.Count, value=len(answers))
        metrics.add_metric(name="Drm_refused", unit=MetricUnit.Count, value=refused)
        logger.info("DRM callback", extra={"items": len(answers), "refused": refused})
        body, headers = play.answer(answers, security_key, custom_key)
    return {"statusCode": 200, "headers": headers, "body": body, "isBase64Encoded": False}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return edge.post_only(event, receive)
