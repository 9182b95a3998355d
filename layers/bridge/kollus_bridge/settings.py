"""All configuration, validated once from the environment.

Every environment variable the functions read is a field here; nothing else reads `os.environ`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from .webhooks import secret_key

#: Canonical names of the flat (non-`json_data`) Kollus variables, lowercased as Kollus names them.
#: `block_play_`, `block_time_` and `uservalue` are prefixes of numbered variables.
FLAT_FIELDS = (
    "json_data",
    "client_user_id",
    "media_content_key",
    "start_at",
    "player_id",
    "block_cnt",
    "duration",
    "block_play_",
    "block_time_",
    "play_time",
    "real_playtime",
    "playtime_percent",
    "last_play_at",
    "run_time",
    "show_time",
    "play_status",
    "host_name",
    "encoding_profile_key",
    "uservalue",
)


class SettingsError(RuntimeError):
    """The environment does not describe a valid configuration."""


def _split_tokens(value: str) -> list[str]:
    return [token.strip() for token in value.split(",") if token.strip()]


class Settings(BaseModel):
    """The service's configuration. Field names are the environment variable names, lowercased."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    table_name: Annotated[str, Field(min_length=3, max_length=255)]

    #: Local stack / tests: comma-separated accepted callback tokens (several during rotation).
    kollus_callback_token: SecretStr | None = None
    #: AWS: Secrets Manager secret holding the comma-separated callback tokens.
    callback_token_secret_arn: str | None = None
    #: Local stack / tests: comma-separated accepted API bearer tokens.
    api_token: SecretStr | None = None
    #: AWS: Secrets Manager secret holding the comma-separated API bearer tokens.
    api_token_secret_arn: str | None = None
    #: How long a secret fetched from Secrets Manager is reused, in seconds.
    secret_cache_seconds: Annotated[int, Field(ge=0, le=3600)] = 300

    completion_threshold: Annotated[float, Field(gt=0, le=100)] = 90.0
    min_block_watch_ratio: Annotated[float, Field(ge=0, le=1)] = 0.5

    max_body_bytes: Annotated[int, Field(ge=262_144, le=6_000_000)] = 1_048_576
    max_block_count: Annotated[int, Field(ge=1, le=100_000)] = 10_000
    rejected_ttl_days: Annotated[int, Field(ge=1, le=3650)] = 30
    cors_allow_origin: str = "*"

    #: JSON object renaming flat variables, e.g. `{"client_user_id": "uid", "block_play_": "bp"}`.
    kollus_field_names: dict[str, str] = Field(default_factory=dict)

    # --- playback URLs and callback binding ---
    kollus_security_key: SecretStr | None = None
    kollus_security_key_arn: str | None = None
    kollus_custom_key: SecretStr | None = None
    kollus_custom_key_arn: str | None = None
    kollus_player_host: Annotated[str, Field(pattern=r"^[A-Za-z0-9.-]+(:\d+)?$")] = "v.kr.kollus.com"
    #: Key of our own for the session nonce (comma-separated during rotation).
    playback_nonce_key: SecretStr | None = None
    playback_nonce_key_arn: str | None = None
    playback_nonce_slot: Annotated[str, Field(pattern=r"^uservalue\d{1,2}$")] = "uservalue99"
    require_signed_playback: bool = False
    max_playback_rate: Annotated[float, Field(ge=1, le=16)] = 2.0
    #: How long a function reuses a content's rules before reading them again.
    rules_cache_seconds: Annotated[float, Field(ge=0, le=3600)] = 60.0

    # --- completion sync to the LMS ---
    lms_webhook_url: Annotated[str, Field(pattern=r"^https?://[^\s/]+\S*$", max_length=2048)] | None = None
    #: Local stack / tests: comma-separated `whsec_` secrets (all sign during rotation).
    lms_webhook_secret: SecretStr | None = None
    #: AWS: Secrets Manager secret holding the comma-separated `whsec_` secrets.
    lms_webhook_secret_arn: str | None = None
    sync_retry_base_seconds: Annotated[float, Field(ge=1, le=3600)] = 30.0
    sync_max_attempts: Annotated[int, Field(ge=1, le=100)] = 10
    sync_progress_updates: bool = False
    sync_concurrency: Annotated[int, Field(ge=1, le=64)] = 8
    sync_http_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 10.0
    sync_batch_size: Annotated[int, Field(ge=1, le=1000)] = 100
    #: Stop taking new deliveries when the run has less than this left.
    sync_time_margin_seconds: Annotated[float, Field(ge=1, le=600)] = 15.0
    #: Local stack only: seconds between sync runs (EventBridge Scheduler does this in AWS).
    sync_interval_seconds: Annotated[float, Field(gt=0, le=3600)] = 10.0

    @field_validator("kollus_field_names", mode="before")
    @classmethod
    def _parse_field_names(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not value.strip():
                return {}
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(f"KOLLUS_FIELD_NAMES is not valid JSON: {exc.msg}") from None
        return value

    @field_validator("kollus_field_names")
    @classmethod
    def _known_field_names(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(FLAT_FIELDS))
        if unknown:
            raise ValueError(f"KOLLUS_FIELD_NAMES renames unknown variables {unknown}; known: {list(FLAT_FIELDS)}")
        if any(not name for name in value.values()):
            raise ValueError("KOLLUS_FIELD_NAMES maps a variable to an empty name")
        return value

    @field_validator("lms_webhook_secret")
    @classmethod
    def _webhook_secrets_parse(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            for secret in _split_tokens(value.get_secret_value()):
                secret_key(secret)
        return value

    @model_validator(mode="after")
    def _one_token_source_each(self) -> Settings:
        for local, remote, label in (
            (self.kollus_callback_token, self.callback_token_secret_arn, "callback"),
            (self.api_token, self.api_token_secret_arn, "API"),
        ):
            if (local is None) == (remote is None):
                env_local = "KOLLUS_CALLBACK_TOKEN" if label == "callback" else "API_TOKEN"
                env_remote = "CALLBACK_TOKEN_SECRET_ARN" if label == "callback" else "API_TOKEN_SECRET_ARN"
                raise ValueError(f"set exactly one of {env_local} (local) or {env_remote} (AWS) for the {label} token")
            if local is not None and not _split_tokens(local.get_secret_value()):
                raise ValueError(f"the {label} token is empty")
        return self

    def field_name(self, canonical: str) -> str:
        """The wire name of a flat Kollus variable under this deployment's callback URL template."""
        return self.kollus_field_names.get(canonical, canonical)

    @staticmethod
    def tokens(secret: SecretStr) -> list[str]:
        """Split a comma-separated token list (several tokens are accepted during rotation)."""
        return _split_tokens(secret.get_secret_value())


def settings_from(environ: Mapping[str, str]) -> Settings:
    """Build settings from an environment mapping; raise `SettingsError` naming every bad variable.

    A variable set to the empty string counts as unset.
    """
    fields = {name.lower(): value for name, value in environ.items() if name.lower() in Settings.model_fields and value}
    try:
        return Settings.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']).upper() or 'settings'}: {error['msg']}"
            for error in exc.errors()
        )
        raise SettingsError(f"invalid configuration: {problems}") from None


@cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return settings_from(os.environ)
