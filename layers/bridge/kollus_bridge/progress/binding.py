"""Whether a callback belongs to a playback we allowed, and when its playback clock starts: its session
nonce, when its session started and was first heard of, and (with `REQUIRE_APPROVED_PLAY`) the play or
DRM callback's approval of its device.

- A nonce must be ours, for this learner and content (a forged or borrowed one is refused).
- The session must have started within the validity of the URL that carried the nonce (plus
  `SESSION_START_SLACK_SECONDS` for device clocks), and a *new* session is accepted only when the server
  first hears of it within that validity plus one reporting interval: `start_at` is the player's word,
  the arrival time is ours. Later callbacks of a session already seen continue it.
- The exception is offline play: a session of a device whose download of the content the DRM callback
  approved, within that approval, the download itself approved while the nonce's URL was valid.
- With `REQUIRE_APPROVED_PLAY`, a streaming session needs the play callback's approval of its device,
  an offline session the DRM callback's; one never stands in for the other.

The playback clock (`credit`) starts at the URL's issue for a streaming session, at the download's
approval for an offline one, and at the session's first callback without a nonce. The approvals are
read only when needed (one query): a late or offline session, or the setting on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from kollus_bridge.errors import Forbidden
from kollus_bridge.kollus.callback import Callback, start_at_ms
from kollus_bridge.kollus.playback import NonceWindow, device_identity, read_nonce
from kollus_bridge.settings import Settings

from .credit import REPORT_INTERVAL_SECONDS
from .ports import Approval, ApprovalStore


@dataclass(frozen=True)
class Binding:
    """A callback bound to its playback: the callback (nonce taken out of the values kept for the LMS),
    its device, and how the record write must treat its session."""

    callback: Callback
    device: str | None = None
    #: When the session's playback clock starts (epoch ms); None: at its first callback received.
    reference: int | None = None
    #: The URL no longer opens sessions: only a session the record already holds continues.
    must_exist: bool = False
    offline: bool = False


def session_start(start_at: int) -> int:
    """A session's `start_at` in unix seconds (some players send milliseconds)."""
    return start_at_ms(start_at) // 1000


def covers(window: tuple[int, int] | None, start: int, slack: int) -> bool:
    return window is not None and window[0] - slack <= start <= window[1] + slack


def check_binding(
    callback: Callback, settings: Settings, nonce_keys: Callable[[], list[str]], store: ApprovalStore, now: int
) -> Binding:
    """The callback's binding to its playback, or Forbidden."""
    slot, slack = settings.playback_nonce_slot, settings.session_start_slack_seconds
    start = session_start(callback.start_at)
    nonce = callback.uservalues.get(slot)
    device = device_identity(callback.hardware_id, nonce, callback.player_id)
    approval: Approval | None = None
    binding = Binding(callback, device)
    if nonce is None:
        if settings.require_signed_playback:
            raise Forbidden("this callback carries no signed session nonce", field=slot)
    else:
        window = read_nonce(nonce_keys(), callback.client_user_id, callback.media_content_key, nonce, now // 1000)
        if window is None:
            raise Forbidden("the session nonce does not match this learner and content", field=slot)
        binding, approval = _bind_to_url(binding, window, start, now, slack=slack, store=store)
        binding = replace(binding, callback=replace(callback, uservalues=_without(callback.uservalues, slot)))
    if settings.require_approved_play:
        approval = approval or _approval(callback, device, store)
        way = None if approval is None else approval.download if binding.offline else approval.streaming
        if not covers(way, start, slack) and not (
            nonce is None and approval and covers(approval.download, start, slack)
        ):
            raise Forbidden(
                "no play of this content was approved for this device when the session started", field="player_id"
            )
    return binding


def _bind_to_url(
    binding: Binding, window: NonceWindow, start: int, now: int, *, slack: int, store: ApprovalStore
) -> tuple[Binding, Approval | None]:
    valid = (window.issued_at, window.expires_at)
    started_in_time = covers(valid, start, slack)
    if started_in_time and now // 1000 <= window.expires_at + REPORT_INTERVAL_SECONDS:
        return replace(binding, reference=window.issued_at * 1000), None
    approval = _approval(binding.callback, binding.device, store)
    download = approval.download if approval else None
    if download is not None and covers(download, start, slack) and covers(valid, download[0], slack):
        return replace(binding, reference=download[0] * 1000, offline=True), approval
    if started_in_time:
        return replace(binding, reference=window.issued_at * 1000, must_exist=True), approval
    raise Forbidden(
        "this session started outside its playback URL's validity, and no download of the content "
        "was approved for this device with that URL",
        field="start_at",
    )


def _without(values: dict[str, str], slot: str) -> dict[str, str]:
    return {name: value for name, value in values.items() if name != slot}


def _approval(callback: Callback, device: str | None, store: ApprovalStore) -> Approval | None:
    if not device:
        return None
    return store.approval(callback.client_user_id, callback.media_content_key, device)
