"""Talking to the LMS: one webhook POST over the shared outbound client."""

from __future__ import annotations

from collections.abc import Mapping

from kollus_bridge.outbound import NoAnswer, request

from .ledger import Attempt

#: How much of the LMS's answer the ledger keeps.
EXCERPT_BYTES = 300


def post_webhook(url: str, headers: Mapping[str, str], body: bytes, timeout: float) -> Attempt:
    """POST one webhook. Never raises: every outcome, including no answer, is an `Attempt`.

    A redirect is not followed: it is a failed attempt that names the status and where it pointed,
    and nothing of the answer's body is kept.
    """
    try:
        answer = request("POST", url, headers=headers, body=body, timeout=timeout, max_answer_bytes=EXCERPT_BYTES)
    except NoAnswer as error:
        return Attempt(status=None, error=str(error))
    if answer.redirect:
        location = answer.headers.get("location", "")[:200] or "nowhere"
        refused = f"the LMS answered {answer.status}, a redirect to {location}; redirects are not followed"
        return Attempt(status=answer.status, error=refused)
    return Attempt(
        status=answer.status,
        retry_after=answer.headers.get("retry-after"),
        excerpt=answer.body.decode("utf-8", "replace"),
    )
