"""The local stack's environment: the caller's own settings win, and every one of them is shown."""

from __future__ import annotations

import os

from local.stack import LOCAL_DEFAULTS, configure, door_url


def test_the_callers_settings_reach_the_functions_and_the_banner() -> None:
    saved = dict(os.environ)
    try:
        os.environ["LMS_WEBHOOK_URL"] = "https://lms.example.com/hooks/kollus"
        os.environ["KOLLUS_PLATFORM_CALLBACK_TOKEN"] = "my-platform-token"
        environment = configure("http://127.0.0.1:1", {"ProgressTable": "t"}, None)
        # Not set by the stack itself (no receiver runs when the caller names an LMS): still shown.
        assert environment["LMS_WEBHOOK_URL"] == "https://lms.example.com/hooks/kollus"
        assert door_url("http://x", environment, "platform") == "http://x/callbacks/kollus/my-platform-token/platform"
        assert (
            door_url("http://x", environment, "play")
            == f"http://x/callbacks/kollus/{LOCAL_DEFAULTS['KOLLUS_PLAY_CALLBACK_TOKEN']}/play"
        )
        assert door_url("http://x", environment, "callback") == "http://x/callbacks/kollus/local-callback-token"
        assert environment["ALLOW_PRIVATE_TARGETS"] == "true"  # the stand-ins listen on 127.0.0.1
    finally:
        os.environ.clear()
        os.environ.update(saved)
