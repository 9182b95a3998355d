"""All configuration, validated once from the environment.

Every environment variable the functions read is a field here; nothing else reads `os.environ`.
The model is a frozen dataclass whose fields declare how their variable is read and checked. It is
not a pydantic model on purpose: importing pydantic costs the callback function's cold start about
half of what importing boto3 does (docs/benchmarks.md, row 3), and the API's models need none of this.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any

#: Canonical names of the flat (non-`json_data`) Kollus variables, lowercased as Kollus names them.
#: `block_play_`, `block_time_` and `uservalue` are prefixes of numbered variables.
FLAT_FIELDS = (
    "json_data", "client_user_id", "media_content_key", "start_at", "player_id", "block_cnt", "duration",
    "block_play_", "block_time_", "play_time", "real_playtime", "playtime_percent", "last_play_at", "run_time",
    "show_time", "play_status", "host_name", "encoding_profile_key", "uservalue", "hardware_id",
)  # fmt: skip


#: The Standard Webhooks signing secret format (`whsec_<base64>`), checked when settings are read.
SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret


class WebhookSecretError(ValueError):
    """A signing secret that is not `whsec_<base64>`."""


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_<base64>` secret (the prefix is optional, as in the reference libraries)."""
    encoded = secret.strip().removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise WebhookSecretError("a webhook secret must be whsec_ followed by base64") from None
    if len(key) < 16:
        raise WebhookSecretError("a webhook secret must hold at least 16 bytes")
    return key


#: Every number the bridge keeps is kept to this many decimals (a microsecond of content time): finer
#: is noise, and DynamoDB cannot store an exponent below -130.
DECIMALS = 6

#: The uservalue that carries the playback session nonce, unless PLAYBACK_NONCE_SLOT says otherwise.
DEFAULT_NONCE_SLOT = "uservalue99"


class SettingsError(RuntimeError):
    """The environment does not describe a valid configuration."""


def _split_tokens(value: str) -> list[str]:
    return [token.strip() for token in value.split(",") if token.strip()]


class Secret:
    """A configured secret: its value is kept out of reprs, and so out of logs and tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


# --- how a variable is read: each reader takes the (non-empty) text and raises ValueError -----------

Reader = Callable[[str], Any]


def _text(min_length: int = 1, max_length: int = 2048, pattern: str | None = None) -> Reader:
    compiled = re.compile(pattern) if pattern else None

    def read(text: str) -> str:
        if not min_length <= len(text) <= max_length:
            raise ValueError(f"must be {min_length} to {max_length} characters long")
        if compiled is not None and not compiled.fullmatch(text):
            raise ValueError(f"must match {pattern}, got {text[:80]!r}")
        return text

    return read


def _secret(text: str) -> Secret:
    return Secret(text)


def _integer(low: int, high: int) -> Reader:
    def read(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise ValueError(f"must be a whole number, got {text[:40]!r}") from None
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}, got {value}")
        return value

    return read


def _number(low: float, high: float, low_exclusive: bool = False) -> Reader:
    def read(text: str) -> float:
        try:
            value = round(float(text.strip()), DECIMALS)
        except (ValueError, OverflowError):
            raise ValueError(f"must be a number, got {text[:40]!r}") from None
        if not math.isfinite(value) or value > high or value < low or (low_exclusive and value == low):
            raise ValueError(f"must be {'above' if low_exclusive else 'at least'} {low:g} and at most {high:g}")
        return value

    return read


_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"0", "false", "f", "no", "n", "off"}


def _flag(text: str) -> bool:
    word = text.strip().lower()
    if word not in _TRUE | _FALSE:
        raise ValueError(f"must be true or false, got {text[:40]!r}")
    return word in _TRUE


def _field_names(text: str) -> Mapping[str, str]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"is not valid JSON: {exc.msg}") from None
    if not isinstance(value, dict) or not all(isinstance(name, str) for name in value.values()):
        raise ValueError('must be a JSON object of names, e.g. {"client_user_id": "uid"}')
    unknown = sorted(set(value) - set(FLAT_FIELDS))
    if unknown:
        raise ValueError(f"renames unknown variables {unknown}; known: {list(FLAT_FIELDS)}")
    if any(not name for name in value.values()):
        raise ValueError("maps a variable to an empty name")
    return MappingProxyType(value)


def _webhook_secrets(text: str) -> Secret:
    for secret in _split_tokens(text):
        secret_key(secret)  # WebhookSecretError is a ValueError naming what is wrong (never the secret)
    return Secret(text)


def setting(read: Reader, default: Any = dataclasses.MISSING, *, factory: Any = dataclasses.MISSING) -> Any:
    """A field read from its environment variable by `read` (the default when unset or empty)."""
    return dataclasses.field(default=default, default_factory=factory, metadata={"read": read})


def _required(field: dataclasses.Field[Any]) -> bool:
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The service's configuration. Field names are the environment variable names, lowercased.

    Build it with `settings_from` (or `get_settings`), which reads and checks every variable.
    """

    table_name: str = setting(_text(3, 255))

    #: Local stack / tests: comma-separated accepted callback tokens (several during rotation).
    kollus_callback_token: Secret | None = setting(_secret, None)
    #: AWS: Secrets Manager secret holding the comma-separated callback tokens.
    callback_token_secret_arn: str | None = setting(_text(), None)
    #: Local stack / tests: comma-separated accepted API bearer tokens.
    api_token: Secret | None = setting(_secret, None)
    #: AWS: Secrets Manager secret holding the comma-separated API bearer tokens.
    api_token_secret_arn: str | None = setting(_text(), None)
    #: How long a secret fetched from Secrets Manager is reused, in seconds.
    secret_cache_seconds: int = setting(_integer(0, 3600), 300)

    completion_threshold: float = setting(_number(0, 100, low_exclusive=True), 90.0)
    min_block_watch_ratio: float = setting(_number(0, 1), 0.5)

    max_body_bytes: int = setting(_integer(262_144, 6_000_000), 1_048_576)
    max_block_count: int = setting(_integer(1, 100_000), 10_000)
    rejected_ttl_days: int = setting(_integer(1, 3650), 30)
    cors_allow_origin: str = setting(_text(), "*")

    #: JSON object renaming flat variables, e.g. `{"client_user_id": "uid", "block_play_": "bp"}`.
    kollus_field_names: Mapping[str, str] = setting(_field_names, factory=lambda: MappingProxyType({}))

    # --- playback URLs and callback binding ---
    kollus_security_key: Secret | None = setting(_secret, None)
    kollus_security_key_arn: str | None = setting(_text(), None)
    kollus_custom_key: Secret | None = setting(_secret, None)
    kollus_custom_key_arn: str | None = setting(_text(), None)
    kollus_player_host: str = setting(_text(pattern=r"^[A-Za-z0-9.-]+(:\d+)?$"), "v.kr.kollus.com")
    #: Key of our own for the session nonce (comma-separated during rotation).
    playback_nonce_key: Secret | None = setting(_secret, None)
    playback_nonce_key_arn: str | None = setting(_text(), None)
    playback_nonce_slot: str = setting(_text(pattern=r"^uservalue\d{1,2}$"), DEFAULT_NONCE_SLOT)
    require_signed_playback: bool = setting(_flag, False)
    #: Clock skew allowed between a session's `start_at` and its playback URL's validity, in seconds.
    session_start_slack_seconds: int = setting(_integer(0, 86_400), 900)
    max_playback_rate: float = setting(_number(1, 16), 2.0)
    #: Credit a session at most the content time its elapsed time allows at MAX_PLAYBACK_RATE (off:
    #: replays of recorded traffic and load tests only).
    enforce_playback_clock: bool = setting(_flag, True)
    #: How long a function reuses a content's rules before reading them again.
    rules_cache_seconds: float = setting(_number(0, 3600), 60.0)

    # --- completion sync to the LMS ---
    lms_webhook_url: str | None = setting(_text(max_length=2048, pattern=r"^https?://[^\s/]+\S*$"), None)
    #: Local stack / tests: comma-separated `whsec_` secrets (all sign during rotation).
    lms_webhook_secret: Secret | None = setting(_webhook_secrets, None)
    #: AWS: Secrets Manager secret holding the comma-separated `whsec_` secrets.
    lms_webhook_secret_arn: str | None = setting(_text(), None)
    sync_retry_base_seconds: float = setting(_number(1, 3600), 30.0)
    sync_max_attempts: int = setting(_integer(1, 100), 10)
    sync_progress_updates: bool = setting(_flag, False)
    sync_concurrency: int = setting(_integer(1, 64), 8)
    sync_http_timeout_seconds: float = setting(_number(0, 60, low_exclusive=True), 10.0)
    sync_batch_size: int = setting(_integer(1, 1000), 100)
    #: Stop taking new deliveries when the run has less than this left.
    sync_time_margin_seconds: float = setting(_number(1, 600), 15.0)
    #: Local stack only: seconds between sync runs (EventBridge Scheduler does this in AWS).
    sync_interval_seconds: float = setting(_number(0, 3600, low_exclusive=True), 10.0)

    # --- xAPI: statements to a learning record store ---
    #: The LRS's xAPI endpoint (statements go to `<url>/statements`); unset: no statements.
    xapi_lrs_url: str | None = setting(_text(max_length=2048, pattern=r"^https?://[^\s/]+\S*$"), None)
    #: Local stack / tests: the LRS's Basic auth as `username:password`.
    xapi_lrs_auth: Secret | None = setting(_secret, None)
    #: AWS: Secrets Manager secret holding `username:password`.
    xapi_lrs_auth_arn: str | None = setting(_text(), None)
    #: The actor's account `homePage` (the LMS whose user ids the learner ids are).
    xapi_actor_homepage: str | None = setting(_text(max_length=2048, pattern=r"^https?://[^\s/]+\S*$"), None)
    #: The videos' activity IRIs: this prefix and the percent-encoded media content key.
    xapi_activity_base: str = setting(
        _text(max_length=2048, pattern=r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$"), "https://v.kr.kollus.com/xapi/video/"
    )

    # --- LTI 1.3 tool ---
    #: Local stack / tests: the tool's private keys as a JSON Web Key Set (the first signs).
    lti_tool_keys: Secret | None = setting(_secret, None)
    #: AWS: Secrets Manager secret holding that key set (the bridge makes the first key itself).
    lti_tool_keys_arn: str | None = setting(_text(), None)
    #: How long an OIDC login's state and nonce wait for the launch, in seconds.
    lti_state_seconds: int = setting(_integer(30, 3600), 600)
    #: How long a platform's key set is reused before it is fetched again, in seconds.
    lti_jwks_cache_seconds: int = setting(_integer(0, 86_400), 3600)
    #: How long the playback URL a launch answers with stays valid, in seconds.
    lti_playback_expires_in: int = setting(_integer(60, 86_400), 7200)

    # --- content management: the Kollus VOD API ---
    #: The VOD API's base (legacy v0); the local stack points it at its stand-in.
    kollus_api_url: str = setting(
        _text(max_length=2048, pattern=r"^https?://[^\s/]+\S*$"), "https://api.kr.kollus.com/0"
    )
    #: Local stack / tests: the VOD API access token.
    kollus_api_token: Secret | None = setting(_secret, None)
    #: AWS: Secrets Manager secret holding the access token (Kollus invalidates the old one on a new issue).
    kollus_api_token_arn: str | None = setting(_text(), None)
    kollus_api_timeout_seconds: float = setting(_number(0, 60, low_exclusive=True), 10.0)
    kollus_api_max_attempts: int = setting(_integer(1, 10), 3)
    #: Time between two VOD API slots across the deployment: Kollus allows one request a second, and
    #: the rest is the margin for taking a slot (docs in `content.limiter`).
    kollus_api_interval_ms: int = setting(_integer(1050, 60_000), 1100)
    #: How long a request waits for its turn before giving up (the caller answers 503).
    kollus_api_max_wait_seconds: float = setting(_number(0, 600), 20.0)
    #: Channel an upload joins when the request names none (empty: none).
    kollus_channel_key: str | None = setting(_text(max_length=256), None)
    #: Channels reconciliation sweeps, comma-separated (empty: every channel of the account).
    kollus_channel_keys: tuple[str, ...] = setting(lambda text: tuple(_split_tokens(text)), ())
    kollus_upload_expiry_seconds: int = setting(_integer(60, 21_600), 3600)
    #: Minutes between two full sweeps of the channels' content lists.
    reconcile_sweep_minutes: float = setting(_number(0, 10_080), 60.0)

    # --- play-time access control ---
    #: Refuse playback URLs (403) to a learner not entitled to the content.
    require_enrollment: bool = setting(_flag, False)
    #: Longest playback a kind 1 approval grants, in seconds (the enrolment's end comes first).
    play_expiry_seconds: int = setting(_integer(60, 31_536_000), 86_400)
    #: When storage is unreachable: approve (true) or refuse with a message to retry (false).
    play_fail_open: bool = setting(_flag, False)
    #: The language of refusal messages learners see: `ko` or `en`.
    play_message_language: str = setting(_text(pattern=r"^(ko|en)$"), "ko")
    #: Longest a downloaded file may be played offline, in seconds (the enrolment's end comes first).
    drm_expiry_seconds: int = setting(_integer(3600, 31_536_000), 2_592_000)
    #: Devices a learner may play on at once (0: no limit); a course's `max_devices` overrides it.
    max_concurrent_devices: int = setting(_integer(0, 100), 0)
    #: A device stops counting as playing after this long without a play approval or progress callback.
    device_idle_seconds: int = setting(_integer(10, 86_400), 120)
    #: Accept progress only from a device the play callback (or, offline, the DRM callback) approved.
    require_approved_play: bool = setting(_flag, False)
    #: How long access decisions are kept (TTL), in days.
    access_log_days: int = setting(_integer(1, 3650), 90)

    # --- learning analytics ---
    #: A learner who has not completed a content and sent no accepted callback for this long is `stalled`.
    stalled_after_days: int = setting(_integer(1, 3650), 7)
    #: A content's cached insights older than this are served marked `stale` while new ones are computed.
    analytics_max_age_seconds: int = setting(_integer(10, 86_400), 300)
    #: Learners one invocation counts; a content with more is counted in shards of this size.
    analytics_shard_learners: int = setting(_integer(1, 100_000), 2000)
    #: A learner's page shows the class's figures only when at least this many learners count.
    analytics_class_minimum: int = setting(_integer(1, 1000), 5)
    #: Our key for signed view links (comma-separated during rotation).
    view_link_key: Secret | None = setting(_secret, None)
    view_link_key_arn: str | None = setting(_text(), None)
    #: Who may put the analytics pages in a frame (CSP `frame-ancestors`), e.g. `https://lms.example.com`.
    view_frame_ancestors: str = setting(_text(pattern=r"^[^;,\x00-\x1f]+$"), "'none'")

    @property
    def kollus_api_configured(self) -> bool:
        return self.kollus_api_token is not None or self.kollus_api_token_arn is not None

    def field_name(self, canonical: str) -> str:
        """The wire name of a flat Kollus variable under this deployment's callback URL template."""
        return self.kollus_field_names.get(canonical, canonical)

    @staticmethod
    def tokens(secret: Secret) -> list[str]:
        """Split a comma-separated token list (several tokens are accepted during rotation)."""
        return _split_tokens(secret.get_secret_value())


#: The environment variables the settings read (lowercased).
SETTING_NAMES = frozenset(field.name for field in dataclasses.fields(Settings))


def _one_token_source_each(values: Mapping[str, Any]) -> list[str]:
    problems = []
    for local, remote, label in (
        ("kollus_callback_token", "callback_token_secret_arn", "callback"),
        ("api_token", "api_token_secret_arn", "API"),
    ):
        if (values.get(local) is None) == (values.get(remote) is None):
            problems.append(
                f"set exactly one of {local.upper()} (local) or {remote.upper()} (AWS) for the {label} token"
            )
        elif values.get(local) is not None and not Settings.tokens(values[local]):
            problems.append(f"{local.upper()}: the {label} token is empty")
    return problems


def settings_from(environ: Mapping[str, str]) -> Settings:
    """Build settings from an environment mapping; raise `SettingsError` naming every bad variable.

    A variable set to the empty string counts as unset. Secret values never appear in the error.
    """
    values: dict[str, Any] = {}
    problems: list[str] = []
    given = {name.lower(): value for name, value in environ.items() if value and name.lower() in SETTING_NAMES}
    for field in dataclasses.fields(Settings):
        text = given.get(field.name)
        if text is None:
            if _required(field):
                problems.append(f"{field.name.upper()}: required")
            continue
        try:
            values[field.name] = field.metadata["read"](text)
        except ValueError as exc:
            problems.append(f"{field.name.upper()}: {exc}")
    problems += _one_token_source_each(values)
    if values.get("xapi_lrs_url") is not None:
        if values.get("xapi_actor_homepage") is None:
            problems.append("XAPI_ACTOR_HOMEPAGE: required with XAPI_LRS_URL (the actors' account homePage)")
        if (values.get("xapi_lrs_auth") is None) == (values.get("xapi_lrs_auth_arn") is None):
            problems.append("set exactly one of XAPI_LRS_AUTH (local) or XAPI_LRS_AUTH_ARN (AWS) with XAPI_LRS_URL")
    if problems:
        raise SettingsError(f"invalid configuration: {'; '.join(problems)}")
    return Settings(**values)


@cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return settings_from(os.environ)
