"""The LTI tool's keys (read from Secrets Manager, the first made on first use, rotated on demand), the
access tokens to the platforms' services, and roster syncs over them."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable

from kollus_bridge.errors import Conflict
from kollus_bridge.lti.grades import AccessTokens
from kollus_bridge.lti.keys import ToolKeys, new_key
from kollus_bridge.lti.roster_sync import RosterStore, RosterSync
from kollus_bridge.settings import Settings, SettingsError
from kollus_bridge.store.secrets import SecretConflict, read_secret, write_secret
from kollus_bridge.times import now_ms

from . import outbound_policy

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


def roster_sync(settings: Settings, store: RosterStore, remaining_ms: Callable[[], int]) -> RosterSync:
    """Roster syncs over the process's access tokens, each request within `SYNC_HTTP_TIMEOUT_SECONDS`."""
    outbound_policy(settings)
    return RosterSync(store, access_tokens(settings), now_ms, remaining_ms, settings.sync_http_timeout_seconds)
