"""What functions share when an event comes in: a delivery run over the store, the LMS client and the
signing secrets (the sweep and the stream's fast path), and the Kollus VOD API client behind the
deployment-wide rate limit (the API and reconciliation)."""

from __future__ import annotations

from collections.abc import Callable

from kollus_bridge.auth import kollus_api_token, lms_webhook_secrets
from kollus_bridge.content.limiter import Limiter
from kollus_bridge.content.ports import SlotStore
from kollus_bridge.delivery.lms import post_webhook
from kollus_bridge.delivery.sync import SyncRun, SyncStore
from kollus_bridge.kollus.vod import VodClient
from kollus_bridge.settings import Settings, SettingsError


def delivery_run(settings: Settings, store: SyncStore, remaining_ms: Callable[[], int]) -> SyncRun:
    """A run that delivers to the configured LMS; a deployment without one fails loudly."""
    if settings.lms_webhook_url is None:
        raise SettingsError("LMS_WEBHOOK_URL is not set: there is nowhere to deliver completions")
    return SyncRun(store, post_webhook, settings, lms_webhook_secrets(settings), remaining_ms)


def vod_client(settings: Settings, slots: SlotStore) -> VodClient:
    """The VOD API client; every request waits for the deployment's next slot."""
    limiter = Limiter(
        slots, interval_ms=settings.kollus_api_interval_ms, max_wait_seconds=settings.kollus_api_max_wait_seconds
    )
    return VodClient(
        settings.kollus_api_url,
        token=lambda: kollus_api_token(settings),
        timeout=settings.kollus_api_timeout_seconds,
        max_attempts=settings.kollus_api_max_attempts,
        before_request=limiter.acquire,
    )
