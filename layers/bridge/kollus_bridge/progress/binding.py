"""Whether a callback belongs to a playback we allowed: its session nonce, when its session started,
and (with `REQUIRE_APPROVED_PLAY`) the play or DRM callback's approval of its device.

- A nonce must be ours, for this learner and content (a forged or borrowed one is refused).
- The session must have started within the validity of the URL that carried the nonce (plus
  `SESSION_START_SLACK_SECONDS` for device clocks), so an old URL cannot open new sessions. The one
  exception is offline play: a session started later on a device whose download of the content the
  DRM callback approved, within that approval.
- With `REQUIRE_APPROVED_PLAY`, the device must hold an approval covering the session's start.

The approvals are read only when needed (one query): an offline session, or the setting on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from kollus_bridge.errors import Forbidden
from kollus_bridge.kollus.callback import Callback, start_at_ms
from kollus_bridge.kollus.playback import read_nonce
from kollus_bridge.settings import Settings

from .ports import Approval, ApprovalStore


def session_start(start_at: int) -> int:
    """A session's `start_at` in unix seconds (some players send milliseconds)."""
    return start_at_ms(start_at) // 1000


def covers(window: tuple[int, int] | None, start: int, slack: int) -> bool:
    return window is not None and window[0] - slack <= start <= window[1] + slack


def check_binding(
    callback: Callback, settings: Settings, nonce_keys: Callable[[], list[str]], store: ApprovalStore, now: int
) -> Callback:
    """The callback with its nonce taken out of the values kept for the LMS, or Forbidden."""
    slot, slack = settings.playback_nonce_slot, settings.session_start_slack_seconds
    start = session_start(callback.start_at)
    nonce = callback.uservalues.get(slot)
    approval: Approval | None = None
    if nonce is None:
        if settings.require_signed_playback:
            raise Forbidden("this callback carries no signed session nonce", field=slot)
    else:
        window = read_nonce(nonce_keys(), callback.client_user_id, callback.media_content_key, nonce, now // 1000)
        if window is None:
            raise Forbidden("the session nonce does not match this learner and content", field=slot)
        if not covers((window.issued_at, window.expires_at), start, slack):
            approval = _approval(callback, store)
            if approval is None or not covers(approval.download, start, slack):
                raise Forbidden(
                    "this session started outside its playback URL's validity, and no download of the content "
                    "was approved for this device then",
                    field="start_at",
                )
    if settings.require_approved_play:
        approval = approval or _approval(callback, store)
        if approval is None or not (
            covers(approval.streaming, start, slack) or covers(approval.download, start, slack)
        ):
            raise Forbidden(
                "no play of this content was approved for this device when the session started", field="player_id"
            )
    if nonce is None:
        return callback
    return replace(callback, uservalues={name: value for name, value in callback.uservalues.items() if name != slot})


def _approval(callback: Callback, store: ApprovalStore) -> Approval | None:
    if not callback.player_id:
        return None
    return store.approval(callback.client_user_id, callback.media_content_key, callback.player_id)
