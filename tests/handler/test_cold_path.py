"""What the callback function loads at a cold start: its import cost is on the hot path
(docs/benchmarks.md, row 3), so the heavy libraries the other functions use stay out of it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from local.stack import local_environment
from local.template import LAYER_DIR, ROOT

KEPT_OUT = ("pydantic", "aws_xray_sdk", "aws_lambda_powertools.event_handler", "kollus_bridge.api.models",
            "kollus_bridge.api.service", "kollus_bridge.delivery.sync")  # fmt: skip

PROBE = """
import json, sys
import app
print(json.dumps(sorted(sys.modules)))
"""


def test_the_callback_function_imports_none_of_the_heavy_libraries() -> None:
    environment = {**os.environ, **local_environment({"ProgressTable": "ProgressTable"})}
    environment["PYTHONPATH"] = str(LAYER_DIR)
    loaded = set(
        json.loads(
            subprocess.run(
                [sys.executable, "-c", PROBE], cwd=ROOT / "functions" / "callback", env=environment,
                capture_output=True, text=True, check=True,
            ).stdout
        )
    )  # fmt: skip
    assert "kollus_bridge.progress.ingest" in loaded  # the probe did load the function
    assert (
        sorted(name for name in loaded if any(name == kept or name.startswith(kept + ".") for kept in KEPT_OUT)) == []
    )
