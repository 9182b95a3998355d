"""What functions share when an event comes in: a delivery run over the store, the LMS client and the
signing secrets (the sweep and the stream's fast path), and the Kollus VOD API client behind the
deployment-wide rate limit (the API and reconciliation)."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable
from typing import Protocol

from kollus_bridge import outbound
from kollus_bridge.auth import kollus_api_token, lms_webhook_secrets, xapi_lrs_credentials
from kollus_bridge.content.limiter import Limiter
from kollus_bridge.content.ports import SlotStore
from kollus_bridge.delivery.channels import Channel, XapiChannel
from kollus_bridge.delivery.grades import AgsChannel
from kollus_bridge.delivery.ledger import Target
from kollus_bridge.delivery.lms import post_webhook
from kollus_bridge.delivery.sync import SyncRun, SyncStore
from kollus_bridge.errors import Conflict
from kollus_bridge.kollus.vod import VodClient
from kollus_bridge.lti.grades import AccessTokens
from kollus_bridge.lti.keys import ToolKeys, new_key
from kollus_bridge.lti.platforms import LineItemStore, Platform
from kollus_bridge.lti.roster_sync import RosterStore, RosterSync
from kollus_bridge.settings import Settings, SettingsError
from kollus_bridge.store.secrets import SecretConflict, read_secret, write_secret
from kollus_bridge.times import now_ms

#: The tool keys as last read from Secrets Manager, and when (monotonic seconds).
_tool_keys: dict[str, tuple[float, ToolKeys]] = {}
_tool_keys_lock = threading.Lock()
#: The version name of the first key's write (Secrets Manager wants at least 32 characters): the same for
#: every function, so only one first key is kept.
FIRST_KEY_VERSION = "lti-tool-key-first-version-0000000001"
#: Access tokens to the platforms' services, one cache per process and settings, so that a token serves
#: every invocation until shortly before it expires.
_access_tokens: dict[int, tuple[Settings, AccessTokens]] = {}


def tool_keys(settings: Settings) -> ToolKeys:
    """The LTI tool's keys: `LTI_TOOL_KEYS` locally; in AWS the secret, cached for
    `SECRET_CACHE_SECONDS`, and its first key made on first use."""
    if settings.lti_tool_keys is not None:
        return ToolKeys.parse(settings.lti_tool_keys.get_secret_value())
    arn = settings.lti_tool_keys_arn
    if arn is None:
        raise SettingsError("LTI is not configured: set LTI_TOOL_KEYS (local) or LTI_TOOL_KEYS_ARN (AWS)")
    with _tool_keys_lock:
        cached = _tool_keys.get(arn)
        if cached is not None and time.monotonic() - cached[0] < settings.secret_cache_seconds:
            return cached[1]
        keys = ToolKeys.parse(read_secret(arn))
        if not keys.keys:
            with contextlib.suppress(SecretConflict):  # another function made it first: read theirs
                write_secret(arn, ToolKeys((new_key(),)).text(), FIRST_KEY_VERSION)
            keys = ToolKeys.parse(read_secret(arn))
        _tool_keys[arn] = (time.monotonic(), keys)
        return keys


def rotate_tool_keys(settings: Settings) -> ToolKeys:
    """A new signing key; the one before stays published, older ones go (AWS only)."""
    arn = settings.lti_tool_keys_arn
    if arn is None:
        raise Conflict("the tool keys come from LTI_TOOL_KEYS here: rotate them there")
    rotated = tool_keys(settings).rotated(new_key())
    write_secret(arn, rotated.text(), "lti-tool-key-" + uuid.uuid4().hex)
    with _tool_keys_lock:
        _tool_keys[arn] = (time.monotonic(), rotated)
    return rotated


def access_tokens(settings: Settings) -> AccessTokens:
    """The process's access-token cache for `settings` (made on first use, kept across invocations)."""
    with _tool_keys_lock:
        kept = _access_tokens.get(id(settings))
        if kept is None or kept[0] is not settings:
            tokens = AccessTokens(lambda: tool_keys(settings), timeout=settings.sync_http_timeout_seconds)
            kept = _access_tokens[id(settings)] = (settings, tokens)
        return kept[1]


class DeliveryStore(SyncStore, LineItemStore, Protocol):
    def get_platform(self, platform_id: str) -> Platform | None: ...


def outbound_policy(settings: Settings) -> None:
    """Outbound requests reach public addresses only, unless the settings allow private ones."""
    outbound.allow_private_targets(settings.allow_private_targets)


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


def roster_sync(settings: Settings, store: RosterStore, remaining_ms: Callable[[], int]) -> RosterSync:
    """Roster syncs over the process's access tokens, each request within `SYNC_HTTP_TIMEOUT_SECONDS`."""
    outbound_policy(settings)
    return RosterSync(store, access_tokens(settings), now_ms, remaining_ms, settings.sync_http_timeout_seconds)


def vod_client(settings: Settings, slots: SlotStore) -> VodClient:
    """The VOD API client; every request waits for the deployment's next slot."""
    outbound_policy(settings)
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
