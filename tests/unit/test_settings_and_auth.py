"""Configuration validation and token checks."""

from __future__ import annotations

import dataclasses

import pytest
from kollus_bridge.auth import matches_any, require_api_token, require_callback_token
from kollus_bridge.errors import Unauthorized
from kollus_bridge.settings import SettingsError, settings_from

BASE = {"TABLE_NAME": "table", "KOLLUS_CALLBACK_TOKEN": "tok-alpha, tok-beta", "API_TOKEN": "api"}


def test_defaults() -> None:
    settings = settings_from(BASE)
    assert settings.completion_threshold == 90
    assert settings.min_block_watch_ratio == 0.5
    assert settings.max_body_bytes >= 256 * 1024
    assert settings.field_name("client_user_id") == "client_user_id"


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"COMPLETION_THRESHOLD": "0"}, "COMPLETION_THRESHOLD"),
        ({"COMPLETION_THRESHOLD": "101"}, "COMPLETION_THRESHOLD"),
        ({"MIN_BLOCK_WATCH_RATIO": "1.5"}, "MIN_BLOCK_WATCH_RATIO"),
        ({"MAX_BODY_BYTES": "1000"}, "MAX_BODY_BYTES"),
        ({"KOLLUS_FIELD_NAMES": "{not json"}, "KOLLUS_FIELD_NAMES"),
        ({"KOLLUS_FIELD_NAMES": '{"no_such_variable": "x"}'}, "KOLLUS_FIELD_NAMES"),
        ({"TABLE_NAME": ""}, "TABLE_NAME: required"),
        ({"KOLLUS_FIELD_NAMES": '{"client_user_id": 7}'}, "KOLLUS_FIELD_NAMES"),
        ({"COMPLETION_THRESHOLD": "nan"}, "COMPLETION_THRESHOLD"),
        ({"MAX_BLOCK_COUNT": "10.5"}, "MAX_BLOCK_COUNT: must be a whole number"),
        ({"REQUIRE_SIGNED_PLAYBACK": "maybe"}, "REQUIRE_SIGNED_PLAYBACK: must be true or false"),
        ({"PLAYBACK_NONCE_SLOT": "uservalue100"}, "PLAYBACK_NONCE_SLOT"),
        ({"KOLLUS_PLAYER_HOST": "v.kr.kollus.com\n"}, "KOLLUS_PLAYER_HOST"),
        ({"LMS_WEBHOOK_URL": "ftp://lms"}, "LMS_WEBHOOK_URL"),
        ({"SYNC_HTTP_TIMEOUT_SECONDS": "0"}, "SYNC_HTTP_TIMEOUT_SECONDS"),
        ({"DISPLAY_TIMEZONE": "Seoul"}, "DISPLAY_TIMEZONE: must be an IANA time zone"),
        ({"DISPLAY_TIMEZONE": "../../etc/passwd"}, "DISPLAY_TIMEZONE"),
    ],
)
def test_bad_values_are_named(overrides: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        settings_from({**BASE, **overrides})


def test_exactly_one_token_source() -> None:
    with pytest.raises(SettingsError, match="KOLLUS_CALLBACK_TOKEN"):
        settings_from({**BASE, "CALLBACK_TOKEN_SECRET_ARN": "arn:aws:secretsmanager:x"})
    with pytest.raises(SettingsError, match="API_TOKEN"):
        settings_from({"TABLE_NAME": "table", "KOLLUS_CALLBACK_TOKEN": "t"})
    with pytest.raises(SettingsError, match="empty"):
        settings_from({**BASE, "KOLLUS_CALLBACK_TOKEN": " , "})
    remote = settings_from(
        {"TABLE_NAME": "table", "CALLBACK_TOKEN_SECRET_ARN": "arn:c", "API_TOKEN_SECRET_ARN": "arn:a"}
    )
    assert remote.kollus_callback_token is None


def test_secrets_never_show_in_the_settings_repr() -> None:
    assert "tok-alpha" not in repr(settings_from(BASE))


def test_a_bad_secret_is_named_but_never_shown() -> None:
    with pytest.raises(SettingsError, match="LMS_WEBHOOK_SECRET") as caught:
        settings_from({**BASE, "LMS_WEBHOOK_SECRET": "whsec_not-base64-at-all!"})
    assert "not-base64-at-all" not in str(caught.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(SettingsError) as caught:
        settings_from({"COMPLETION_THRESHOLD": "x", "SYNC_CONCURRENCY": "0"})
    for name in ("TABLE_NAME", "COMPLETION_THRESHOLD", "SYNC_CONCURRENCY", "KOLLUS_CALLBACK_TOKEN", "API_TOKEN"):
        assert name in str(caught.value)


def test_values_are_typed_and_frozen() -> None:
    settings = settings_from(
        {
            **BASE,
            "REQUIRE_SIGNED_PLAYBACK": "Yes",
            "SYNC_CONCURRENCY": " 16 ",
            "KOLLUS_FIELD_NAMES": '{"uservalue": "uv"}',
        }
    )
    assert (settings.require_signed_playback, settings.sync_concurrency) == (True, 16)
    assert settings.field_name("uservalue") == "uv"
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.table_name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        settings.kollus_field_names["client_user_id"] = "x"  # type: ignore[index]


def test_callback_tokens_rotate() -> None:
    settings = settings_from(BASE)
    require_callback_token("tok-alpha", settings)
    require_callback_token("tok-beta", settings)
    for wrong in ("", "tok-alph", "tok-alpha, tok-beta", "TOK-ALPHA", "ünï"):
        with pytest.raises(Unauthorized):
            require_callback_token(wrong, settings)


def test_api_token_needs_the_bearer_scheme() -> None:
    settings = settings_from(BASE)
    require_api_token("Bearer api", settings)
    require_api_token("bearer api", settings)
    for header in (None, "", "api", "Basic api", "Bearer ", "Bearer wrong"):
        with pytest.raises(Unauthorized):
            require_api_token(header, settings)


def test_matches_any_checks_every_token() -> None:
    assert matches_any("b", ["a", "b"]) and not matches_any("c", ["a", "b"]) and not matches_any("a", [])


DOORS = {
    **BASE,
    "KOLLUS_PLAY_CALLBACK_TOKEN": "play-1",
    "KOLLUS_DRM_CALLBACK_TOKEN": "drm-1",
    "KOLLUS_PLATFORM_CALLBACK_TOKEN": "platform-1, platform-2",
}


def test_every_callback_door_opens_with_its_own_tokens_only() -> None:
    settings = settings_from(DOORS)
    own = {"callback": "tok-alpha", "play": "play-1", "drm": "drm-1", "platform": "platform-2"}
    for door, token in own.items():
        require_callback_token(token, settings, door)
        for other, foreign in own.items():
            if other != door:  # the LMS callback's token is in every learner's player: it opens nothing else
                with pytest.raises(Unauthorized):
                    require_callback_token(foreign, settings, door)


def test_a_door_without_a_token_is_closed_and_says_which_setting_opens_it() -> None:
    settings = settings_from(BASE)
    for door, name in (("play", "KOLLUS_PLAY"), ("drm", "KOLLUS_DRM"), ("platform", "KOLLUS_PLATFORM")):
        with pytest.raises(Unauthorized, match=f"{name}_CALLBACK_TOKEN"):
            require_callback_token("tok-alpha", settings, door)


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"KOLLUS_PLATFORM_CALLBACK_TOKEN": "x, tok-beta"}, "KOLLUS_PLATFORM_CALLBACK_TOKEN and KOLLUS_CALLBACK_TOKEN"),
        ({"KOLLUS_DRM_CALLBACK_TOKEN": "play-1"}, "KOLLUS_DRM_CALLBACK_TOKEN and KOLLUS_PLAY_CALLBACK_TOKEN"),
        ({"PLAY_CALLBACK_TOKEN_SECRET_ARN": "arn:p"}, "only one of KOLLUS_PLAY_CALLBACK_TOKEN"),
    ],
)
def test_one_token_never_opens_two_doors(overrides: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        settings_from({**DOORS, **overrides})
    arns = {"CALLBACK_TOKEN_SECRET_ARN": "arn:same", "PLATFORM_CALLBACK_TOKEN_SECRET_ARN": "arn:same", "API_TOKEN": "a"}
    with pytest.raises(SettingsError, match="share a token"):
        settings_from({"TABLE_NAME": "table", **arns})
