"""The Kollus VOD API client, every request behind the deployment-wide rate limit."""

from __future__ import annotations

from kollus_bridge.auth import kollus_api_token
from kollus_bridge.content.limiter import Limiter
from kollus_bridge.content.ports import SlotStore
from kollus_bridge.kollus.vod import VodClient
from kollus_bridge.settings import Settings

from . import outbound_policy


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
