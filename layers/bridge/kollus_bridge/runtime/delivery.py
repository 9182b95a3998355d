"""A delivery run: the LMS webhook and the targets this deployment has configured (xAPI, AGS)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from kollus_bridge.auth import lms_webhook_secrets, xapi_lrs_credentials
from kollus_bridge.delivery.channels import Channel, XapiChannel
from kollus_bridge.delivery.grades import AgsChannel
from kollus_bridge.delivery.ledger import Target
from kollus_bridge.delivery.lms import post_webhook
from kollus_bridge.delivery.sync import SyncRun, SyncStore
from kollus_bridge.lti.platforms import LineItemStore, Platform
from kollus_bridge.settings import Settings, SettingsError

from . import outbound_policy
from .lti import access_tokens


class DeliveryStore(SyncStore, LineItemStore, Protocol):
    def get_platform(self, platform_id: str) -> Platform | None: ...


def channels(settings: Settings, store: DeliveryStore | None = None) -> dict[Target, Channel]:
    """The delivery targets beside the webhook this deployment has configured: xAPI when an LRS is
    set, AGS when the LTI tool has keys (the store knows the learners' platforms and line items)."""
    outbound_policy(settings)
    found: dict[Target, Channel] = {}
    if settings.xapi_lrs_url is not None:
        found[Target.XAPI] = XapiChannel(settings.xapi_lrs_url, lambda: xapi_lrs_credentials(settings))
    lti_configured = settings.lti_tool_keys is not None or settings.lti_tool_keys_arn is not None
    if store is not None and lti_configured:
        found[Target.AGS] = AgsChannel(access_tokens(settings), store.get_platform, store)
    return found


def delivery_run(settings: Settings, store: DeliveryStore, remaining_ms: Callable[[], int]) -> SyncRun:
    """A run that delivers to every configured target; a deployment with none fails loudly."""
    extra = channels(settings, store)
    if settings.lms_webhook_url is None and not extra:
        raise SettingsError("LMS_WEBHOOK_URL is not set: there is nowhere to deliver completions")
    secrets = lms_webhook_secrets(settings) if settings.lms_webhook_url is not None else []
    return SyncRun(store, post_webhook, settings, secrets, remaining_ms, channels=extra)
