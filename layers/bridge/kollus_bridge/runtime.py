"""What the delivery functions (the sweep and the stream's fast path) share when an event comes in:
a delivery run over the store, the LMS client and the signing secrets."""

from __future__ import annotations

from collections.abc import Callable

from kollus_bridge.auth import lms_webhook_secrets
from kollus_bridge.delivery.lms import post_webhook
from kollus_bridge.delivery.sync import SyncRun, SyncStore
from kollus_bridge.settings import Settings, SettingsError


def delivery_run(settings: Settings, store: SyncStore, remaining_ms: Callable[[], int]) -> SyncRun:
    """A run that delivers to the configured LMS; a deployment without one fails loudly."""
    if settings.lms_webhook_url is None:
        raise SettingsError("LMS_WEBHOOK_URL is not set: there is nowhere to deliver completions")
    return SyncRun(store, post_webhook, settings, lms_webhook_secrets(settings), remaining_ms)
