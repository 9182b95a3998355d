"""What the callback and play functions load at a cold start: their import cost is on the hot path
(docs/benchmarks.md, rows 3 and 8), so the heavy libraries the other functions use, boto3 (and
s3transfer with it), a JWT library where none is needed, and the aggregates they do not store stay
out of them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from local.stack import local_environment
from local.template import LAYER_DIR, ROOT

KEPT_OUT = ("pydantic", "aws_xray_sdk", "aws_lambda_powertools.event_handler", "kollus_bridge.api.models",
            "kollus_bridge.api.service", "kollus_bridge.delivery.sync", "boto3", "s3transfer",
            "aws_lambda_powertools.utilities.parameters", "kollus_bridge.store.dynamo", "kollus_bridge.store.catalog",
            "kollus_bridge.store.insights", "kollus_bridge.store.rosters", "kollus_bridge.lti")  # fmt: skip
#: What each function loads beside them: the callback's use case, and the play function's.
PROBED = {"callback": "kollus_bridge.progress.ingest", "play": "kollus_bridge.access.play"}


def test_the_api_function_starts_without_the_x_ray_sdk_or_its_route_groups() -> None:
    """The API is on a request's path too: Lambda's active tracing traces it, the SDK's import does not
    lengthen its cold start."""
    environment = {**os.environ, **local_environment({"ProgressTable": "ProgressTable"})}
    environment["PYTHONPATH"] = str(LAYER_DIR)
    found = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT / "functions" / "api", env=environment, capture_output=True, text=True,
        check=True,
    ).stdout  # fmt: skip
    loaded = set(json.loads(found))
    assert "kollus_bridge.api.http" in loaded and not {name for name in loaded if name.startswith("aws_xray_sdk")}
    # The route groups are made on their first request: the LTI tool's JWT and X.509 machinery, the
    # analytics, course and catalog models, the VOD API client, the enrolment check and the aggregates
    # only they store wait for a request that needs them.
    later = ("kollus_bridge.api.routes_", "kollus_bridge.api.analytics", "kollus_bridge.api.courses",
             "kollus_bridge.api.contents", "kollus_bridge.kollus.vod", "kollus_bridge.runtime.vod",
             "kollus_bridge.content.manage", "kollus_bridge.access.play",
             "kollus_bridge.lti.launch", "kollus_bridge.lti.keys", "kollus_bridge.runtime.lti",
             "kollus_bridge.runtime.delivery", "kollus_bridge.store.rosters", "kollus_bridge.store.insights",
             "kollus_bridge.store.lti", "kollus_bridge.store.dynamo", "jwt", "cryptography")  # fmt: skip
    assert sorted(name for name in loaded if name.startswith(later)) == []


PROBE = """
import json, sys
import app
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize("function", sorted(PROBED))
def test_the_callback_functions_import_none_of_the_heavy_libraries(function: str) -> None:
    environment = {**os.environ, **local_environment({"ProgressTable": "ProgressTable"})}
    environment["PYTHONPATH"] = str(LAYER_DIR)
    loaded = set(
        json.loads(
            subprocess.run(
                [sys.executable, "-c", PROBE], cwd=ROOT / "functions" / function, env=environment,
                capture_output=True, text=True, check=True,
            ).stdout
        )
    )  # fmt: skip
    assert PROBED[function] in loaded  # the probe did load the function
    assert (
        sorted(name for name in loaded if any(name == kept or name.startswith(kept + ".") for kept in KEPT_OUT)) == []
    )
