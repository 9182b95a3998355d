"""What functions share when an event comes in, one module per need, so that a function imports only
its own: the Kollus VOD API client behind the deployment-wide rate limit (`vod`), the LTI tool's keys,
access tokens and roster syncs (`lti`), and a delivery run over the store, the LMS client and the
signing secrets (`delivery`)."""

from __future__ import annotations

from kollus_bridge import outbound
from kollus_bridge.settings import Settings


def outbound_policy(settings: Settings) -> None:
    """Outbound requests reach public addresses only, unless the settings allow private ones."""
    outbound.allow_private_targets(settings.allow_private_targets)
