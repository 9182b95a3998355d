"""Deep linking (LTI Deep Linking 2.0), pure: the response an instructor's choice becomes, one
resource link per content, each with a line item (`scoreMaximum` 100, `resourceId` the content key)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from .launch import CLAIM
from .platforms import Platform

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"


def response_claims(  # noqa: PLR0917 (who asked, their data, the choice, where it launches, when)
    platform: Platform,
    deployment_id: str,
    data: Any,
    choices: Sequence[tuple[str, str]],
    launch_url: str,
    now_seconds: int,
) -> dict[str, Any]:
    """The LtiDeepLinkingResponse for `choices` ((media content key, title) pairs); `data` is the
    request's opaque `data`, returned as it came (None: it had none)."""
    items = [
        {
            "type": "ltiResourceLink",
            "title": title,
            "url": launch_url,
            "custom": {"media_content_key": key},
            "lineItem": {"scoreMaximum": 100, "label": title, "resourceId": key},
        }
        for key, title in choices
    ]
    claims: dict[str, Any] = {
        "iss": platform.client_id,
        "aud": platform.issuer,
        "iat": now_seconds,
        "exp": now_seconds + 600,
        "nonce": uuid.uuid4().hex,
        CLAIM + "message_type": "LtiDeepLinkingResponse",
        CLAIM + "version": "1.3.0",
        CLAIM + "deployment_id": deployment_id,
        DL + "content_items": items,
    }
    if data is not None:
        claims[DL + "data"] = data
    return claims
