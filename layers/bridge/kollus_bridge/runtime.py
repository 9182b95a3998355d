"""What functions share when an event comes in: a delivery run over the store, the LMS client and the
signing secrets (the sweep and the stream's fast path), and the Kollus VOD API client behind the
deployment-wide rate limit (the API and reconciliation)."""

from __future__ import annotations

from collections.abc import Callable

from kollus_bridge.auth import kollus_api_token, lms_webhook_secrets, xapi_lrs_credentials
from kollus_bridge.content.limiter import Limiter
from kollus_bridge.content.ports import SlotStore
from kollus_bridge.delivery.channels import Channel, XapiChannel
from kollus_bridge.delivery.ledger import Target
from kollus_bridge.delivery.lms import post_webhook
from kollus_bridge.delivery.sync import SyncRun, SyncStore
from kollus_bridge.kollus.vod import VodClient
from kollus_bridge.settings import Settings, SettingsError


def channels(settings: Settings) -> dict[Target, Channel]:
    """The delivery targets beside the webhook this deployment has configured."""
    found: dict[Target, Channel] = {}
    if settings.xapi_lrs_url is not None:
        found[Target.XAPI] = XapiChannel(settings.xapi_lrs_url, lambda: xapi_lrs_credentials(settings))
    return found


def delivery_run(settings: Settings, store: SyncStore, remaining_ms: Callable[[], int]) -> SyncRun:
    """A run that delivers to every configured target; a deployment with none fails loudly."""
    extra = channels(settings)
    if settings.lms_webhook_url is None and not extra:
        raise SettingsError("LMS_WEBHOOK_URL is not set: there is nowhere to deliver completions")
    secrets = lms_webhook_secrets(settings) if settings.lms_webhook_url is not None else []
    return SyncRun(store, post_webhook, settings, secrets, remaining_ms, channels=extra)


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
