"""All configuration, validated once from the environment.

Every environment variable the functions read is a field here; nothing else reads `os.environ`.
The model is a frozen dataclass whose fields declare how their variable is read and checked. It is
not a pydantic model on purpose: importing pydantic costs the callback function's cold start about
half of what importing boto3 does (docs/benchmarks.md, row 3), and the API's models need none of this.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any

from .readers import (
    DECIMALS,
    DEFAULT_NONCE_SLOT,
    SECRET_PREFIX,
    Reader,
    Secret,
    SettingsError,
    WebhookSecretError,
    _flag,
    _integer,
    _number,
    _required,
    _secret,
    _split_tokens,
    _text,
    _time_zone,
    _webhook_secrets,
    secret_key,
    setting,
)

__all__ = [
    "DECIMALS",
    "DEFAULT_NONCE_SLOT",
    "FLAT_FIELDS",
    "SECRET_PREFIX",
    "SETTING_NAMES",
    "Reader",
    "Secret",
    "Settings",
    "SettingsError",
    "WebhookSecretError",
    "get_settings",
    "secret_key",
    "settings_from",
]

#: Canonical names of the flat (non-`json_data`) Kollus variables, lowercased as Kollus names them.
#: `block_play_`, `block_time_` and `uservalue` are prefixes of numbered variables.
FLAT_FIELDS = (
    "json_data", "client_user_id", "media_content_key", "start_at", "player_id", "block_cnt", "duration",
    "block_play_", "block_time_", "play_time", "real_playtime", "playtime_percent", "last_play_at", "run_time",
    "show_time", "play_status", "host_name", "encoding_profile_key", "uservalue", "hardware_id",
)  # fmt: skip


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


#: The exported datasets (docs/exports.md), every one by default.
EXPORT_DATASETS = ("learner_content", "session", "uservalue", "content", "enrollment", "course")


def _datasets(text: str) -> tuple[str, ...]:
    named = tuple(_split_tokens(text))
    unknown = [name for name in named if name not in EXPORT_DATASETS]
    if unknown:
        raise ValueError(f"unknown datasets {', '.join(unknown)}; the datasets are {', '.join(EXPORT_DATASETS)}")
    return named


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The service's configuration. Field names are the environment variable names, lowercased.

    Build it with `settings_from` (or `get_settings`), which reads and checks every variable.
    """

    table_name: str = setting(_text(3, 255))

    #: Local stack / tests: comma-separated accepted tokens of the LMS callback (several during
    #: rotation). The player on the learner's device posts to it, so learners can read this token.
    kollus_callback_token: Secret | None = setting(_secret, None)
    #: AWS: Secrets Manager secret holding the LMS callback's tokens.
    callback_token_secret_arn: str | None = setting(_text(), None)
    #: The play callback's tokens (Kollus's servers only); unset: the play callback is closed.
    kollus_play_callback_token: Secret | None = setting(_secret, None)
    play_callback_token_secret_arn: str | None = setting(_text(), None)
    #: The DRM callback's tokens (Kollus's servers only); unset: the DRM callback is closed.
    kollus_drm_callback_token: Secret | None = setting(_secret, None)
    drm_callback_token_secret_arn: str | None = setting(_text(), None)
    #: The platform callback's tokens (Kollus's servers only); unset: the platform callback is closed.
    kollus_platform_callback_token: Secret | None = setting(_secret, None)
    platform_callback_token_secret_arn: str | None = setting(_text(), None)
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

    #: Let outbound requests reach loopback and private addresses (the local stack's stand-ins only).
    allow_private_targets: bool = setting(_flag, False)

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
    #: Minutes between two syncs of an LTI course's roster (its context's membership service); the
    #: schedule looks every `RosterSchedule`, so shorter periods count as that.
    roster_sync_minutes: float = setting(_number(1, 10_080), 60.0)

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
    #: Distinct filtered views (course, uservalue, grid) of one content computed a day; more answer 429.
    analytics_max_scopes: int = setting(_integer(1, 10_000), 50)
    #: How long a computed result is kept (TTL), in days; it is computed again when asked for after.
    analytics_keep_days: int = setting(_integer(1, 3650), 30)
    #: Learners one invocation counts; a content with more is counted in shards of this size.
    analytics_shard_learners: int = setting(_integer(1, 100_000), 2000)
    #: A learner's page shows the class's figures only when at least this many learners count.
    analytics_class_minimum: int = setting(_integer(1, 1000), 5)
    #: Our key for signed view links (comma-separated during rotation).
    view_link_key: Secret | None = setting(_secret, None)
    view_link_key_arn: str | None = setting(_text(), None)
    #: Who may put the analytics pages in a frame (CSP `frame-ancestors`), e.g. `https://lms.example.com`.
    view_frame_ancestors: str = setting(_text(pattern=r"^[^;,\x00-\x1f]+$"), "'none'")
    #: The time zone the pages give times in (IANA name).
    display_timezone: str = setting(_time_zone, "Asia/Seoul")
    #: The bucket the table is exported into and the datasets are written to (docs/exports.md).
    export_bucket: str | None = setting(_text(3, 63), None)
    #: The FIFO queue of dataset partitions to apply.
    export_queue_url: str | None = setting(_text(max_length=2048), None)
    #: The table's ARN, which its exports name.
    export_table_arn: str | None = setting(_text(), None)
    #: The datasets written (comma-separated); the others are not written, and removed when next applied.
    export_datasets: tuple[str, ...] = setting(_datasets, EXPORT_DATASETS)
    #: Learner ids in the datasets replaced by their keyed hash (HMAC-SHA256) under the key below.
    export_pseudonymise: bool = setting(_flag, False)
    export_pseudonymise_key: Secret | None = setting(_secret, None)
    export_pseudonymise_key_arn: str | None = setting(_text(), None)

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
    return problems + _one_key_per_door(values)


#: The callback routes (`/callbacks/kollus/{token}[/<door>]`) and the settings of each one's token:
#: (local tokens, AWS secret). Only the LMS callback's is required; a door without a token is closed.
DOORS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "callback": ("kollus_callback_token", "callback_token_secret_arn"),
    "play": ("kollus_play_callback_token", "play_callback_token_secret_arn"),
    "drm": ("kollus_drm_callback_token", "drm_callback_token_secret_arn"),
    "platform": ("kollus_platform_callback_token", "platform_callback_token_secret_arn"),
})  # fmt: skip


def _one_key_per_door(values: Mapping[str, Any]) -> list[str]:
    """Each door's token from one source, and no token (or secret) opening two doors: the LMS
    callback's is in every learner's player, and must open nothing else."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    for local, remote in DOORS.values():
        if values.get(local) is not None and values.get(remote) is not None:
            problems.append(f"set only one of {local.upper()} (local) or {remote.upper()} (AWS)")
        keys = Settings.tokens(values[local]) if values.get(local) is not None else []
        keys += [values[remote]] if values.get(remote) is not None else []
        for key in keys:
            other = seen.setdefault(key, local)
            if other != local:
                problems.append(f"{local.upper()} and {other.upper()} share a token: every callback needs its own")
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
    if values.get("export_pseudonymise") and (values.get("export_pseudonymise_key") is None) == (
        values.get("export_pseudonymise_key_arn") is None
    ):
        problems.append(
            "set exactly one of EXPORT_PSEUDONYMISE_KEY (local) or EXPORT_PSEUDONYMISE_KEY_ARN (AWS) with "
            "EXPORT_PSEUDONYMISE"
        )
    if problems:
        raise SettingsError(f"invalid configuration: {'; '.join(problems)}")
    return Settings(**values)


@cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return settings_from(os.environ)
