"""The reliability suites' own figures: cases tried, faults injected, anything lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from local.template import ROOT

#: The reliability suites, and the sizes the benchmark runs them at (`make test` runs them smaller).
RELIABILITY_SUITES = [
    "tests/handler/test_fuzz.py",
    "tests/integration/test_storage_faults.py",
    "tests/integration/test_dynamodb_local.py::test_concurrent_shuffled_duplicated_callbacks_lose_nothing",
    "tests/integration/test_sync.py::test_many_runs_against_a_randomly_failing_lms",
    "tests/hostile/test_hostile.py",
]
RELIABILITY_SIZES = {"FUZZ_EXAMPLES": "500", "SOAK_SCALE": "2"}


def measure_reliability() -> dict[str, dict[str, int]]:
    """Run the reliability suites (they assert; a failure stops the benchmark) and read their figures."""
    with tempfile.TemporaryDirectory() as directory:
        report = Path(directory) / "reliability.json"
        environment = {**os.environ, **RELIABILITY_SIZES, "RELIABILITY_REPORT": str(report)}
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *RELIABILITY_SUITES]
        subprocess.run(command, cwd=ROOT, env=environment, check=True, stdout=subprocess.DEVNULL)
        figures: dict[str, dict[str, int]] = json.loads(report.read_text())
    return figures
