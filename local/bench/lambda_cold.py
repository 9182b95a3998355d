"""Cold start as Lambda runs the code: the output of `sam build`, unpacked as the zip unpacks it (every
file dated 1980-01-01, the tree read-only), run by a fresh Python 3.13 isolated from the dev venv
(`-I -S -B`, `PYTHONDONTWRITEBYTECODE=1`), the function at /var/task, the layer at /opt/python; import
plus the first event, CPU time, median of several runs. The yardstick beside it: `import boto3` from a
copy of the same boto3 (whole: the layer's botocore keeps only the services the bridge calls) compiled
with hash-based bytecode, as the runtime ships its own.

`built()` runs `sam build` with the host's wheels (the code and its bytecode are the same as on arm64;
only native extensions differ) and the dev venv's Python 3.13 as the compiler.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from local.template import ROOT

#: 1980-01-01T00:00:00Z, the date a zip gives every file SAM packages.
ZIP_EPOCH = 315_532_800
#: What the runtime's own boto3 is made of (the layer ships the same).
BOTO3_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py", "urllib3")
PYTHON = ROOT / ".venv" / "bin" / "python"
TOOLS = ROOT / ".venv-tools" / "bin"

#: Counts the modules compiled from source while the measured code runs (none, with bytecode that
#: survives packaging), and times import plus the first event in CPU seconds.
HARNESS = """
import importlib._bootstrap_external as external, json, sys, time
compiled = []
_compile = external.SourceLoader.source_to_code
def spy(self, data, path, *args, **kwargs):
    compiled.append(str(path))
    return _compile(self, data, path, *args, **kwargs)
external.SourceLoader.source_to_code = spy
sys.path[:0] = {paths!r}
started = time.process_time()
{code}
spent = time.process_time() - started
print(json.dumps({{"seconds": spent, "compiled": compiled}}))
"""

FIRST_EVENT = """
import app
class Context:  # the attributes Powertools reads
    function_name, memory_limit_in_mb, aws_request_id = "cold", 512, "cold"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:cold"
    def get_remaining_time_in_millis(self):
        return 300000
{stub}
answer = app.lambda_handler(json.loads({event!r}), Context())
assert {check}, answer
"""

CALLBACK_STUB = """
from kollus_bridge.progress.ports import ApplyResult
from kollus_bridge.progress.rule import RecordState, merge
class Store:  # storage stubbed: import plus the handler's own work
    def apply(self, update, **_):
        state, outcome = merge(RecordState(), update)
        return ApplyResult(outcome, state, 1)
    def __getattr__(self, name):
        return lambda *args, **kwargs: None
app.store = Store()
"""

PLAY_STUB = """
from kollus_bridge.access.entitlement import Enrolment
class Store:  # storage stubbed: import plus the handler's own work
    def enrolments_of(self, learner):
        return [Enrolment("c1", learner)]
    def courses_holding(self, content):
        return {"c1"}
    def __getattr__(self, name):
        return lambda *args, **kwargs: None
app.store = Store()
"""


@dataclass(frozen=True)
class Case:
    """How one function is started: its first event (None: import only), the storage stub, the check."""

    function: str
    event: dict[str, Any] | None = None
    stub: str = ""
    check: str = "answer['statusCode'] == 200"
    label: str = ""  # what the row is called, when the function has more than one case

    @property
    def name(self) -> str:
        return self.label or self.function


def host_platform() -> str:
    return "manylinux2014_aarch64" if platform.machine() in {"aarch64", "arm64"} else "manylinux2014_x86_64"


def built(build_dir: Path) -> Path:
    """`sam build` into `build_dir` with the host's wheels; the directory of the built resources."""
    environment = {**os.environ, "BRIDGE_PYTHON": str(PYTHON), "BRIDGE_WHEEL_PLATFORM": host_platform()}
    machine = host_platform().removeprefix("manylinux2014_")
    environment["EXPORTS_WHEEL_PLATFORMS"] = f"--platform manylinux_2_28_{machine} --platform {host_platform()}"
    environment["PATH"] = f"{TOOLS}{os.pathsep}{environment.get('PATH', '')}"
    command = [str(TOOLS / "sam"), "build", "--build-dir", str(build_dir), "--parallel"]
    subprocess.run(command, cwd=ROOT, env=environment, check=True, capture_output=True, text=True)
    return build_dir


def _as_unzipped(tree: Path) -> None:
    """Every file and directory dated as a Lambda zip dates them, and nothing writable."""
    for path in [tree, *tree.rglob("*")]:
        os.utime(path, (ZIP_EPOCH, ZIP_EPOCH), follow_symlinks=False)
    for path in [*tree.rglob("*"), tree]:
        path.chmod(path.stat().st_mode & ~0o222)


def _writable(tree: Path) -> None:
    for path in [tree, *tree.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)


def _runtime_like_boto3(layer: Path) -> Path:
    """Where the yardstick's boto3 is copied from: the dev venv's, whole (the layer's botocore keeps the
    models of only the services the bridge calls), checked to be the layer's versions."""
    site = next((ROOT / ".venv" / "lib").glob("python3.13/site-packages"))
    for name in ("boto3", "botocore"):
        shipped = {path.name for path in layer.glob(f"{name}-*.dist-info")}
        if not shipped or shipped != {path.name for path in site.glob(f"{name}-*.dist-info")}:
            raise RuntimeError(f"the dev venv's {name} is not the layer's {shipped}: run make setup")
    return site


@contextmanager
def unpacked(build_dir: Path, bytecode: bool = True) -> Iterator[Path]:
    """The built layers at `opt/python` (merged, as Lambda merges them), each built function at
    `var/task/<Function>`, and a runtime-like
    boto3 at `runtime`, all as a zip unpacks them; removed afterwards. Without `bytecode`, the layer and
    functions lose their .pyc files, as a build that ships none (the runtime-like boto3 keeps its own)."""
    root = Path(tempfile.mkdtemp(prefix="lambda-cold-"))
    ignored = None if bytecode else shutil.ignore_patterns("__pycache__")
    try:
        for layer in ("BridgeLayer", "ExportsLayer"):
            shutil.copytree(build_dir / layer / "python", root / "opt" / "python", ignore=ignored, dirs_exist_ok=True)
        for function in build_dir.iterdir():
            if function.is_dir() and function.name.endswith("Function"):
                shutil.copytree(function, root / "var" / "task" / function.name, ignore=ignored)
        runtime = root / "runtime"
        runtime.mkdir()
        full = _runtime_like_boto3(build_dir / "BridgeLayer" / "python")
        for name in BOTO3_PACKAGES:
            source = full / name
            if source.is_dir():
                shutil.copytree(source, runtime / name, ignore=shutil.ignore_patterns("__pycache__"))
            elif source.exists():
                shutil.copy2(source, runtime / name)
        compile_command = [str(PYTHON), "-m", "compileall", "-q", "--invalidation-mode", "checked-hash", str(runtime)]
        subprocess.run(compile_command, check=True, capture_output=True)
        _as_unzipped(root)
        yield root
    finally:
        _writable(root)
        shutil.rmtree(root, ignore_errors=True)


def run_once(paths: list[Path], code: str, environment: dict[str, str]) -> dict[str, Any]:
    """One fresh interpreter, isolated as Lambda's (no dev venv, no bytecode written)."""
    script = HARNESS.format(paths=[str(path) for path in paths], code=code)
    done = subprocess.run(
        [str(PYTHON), "-I", "-S", "-B", "-c", script],
        capture_output=True, text=True, env={**environment, "PYTHONDONTWRITEBYTECODE": "1"}, check=False,
        cwd=paths[0],
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"the cold start failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def function_code(case: Case) -> str:
    if case.event is None:
        return "import app"
    return FIRST_EVENT.format(stub=case.stub, event=json.dumps(case.event), check=case.check)


def measure(root: Path, cases: list[Case], environment: dict[str, str], rounds: int = 7) -> dict[str, Any]:
    """Each case's median CPU seconds and the modules its cold start compiled, and the yardstick's;
    the runs interleaved round by round, so that the machine's slow spells fall on all of them."""
    layer = root / "opt" / "python"
    runs: dict[str, list[dict[str, Any]]] = {"boto3": [], **{case.name: [] for case in cases}}
    for _ in range(rounds):
        runs["boto3"].append(run_once([root / "runtime"], "import boto3", environment))
        for case in cases:
            paths = [root / "var" / "task" / case.function, layer]
            runs[case.name].append(run_once(paths, function_code(case), environment))
    yardstick = runs["boto3"]
    found: dict[str, Any] = {
        "boto3": {
            "seconds": statistics.median(run["seconds"] for run in yardstick),
            "compiled": yardstick[0]["compiled"],
        },
    }
    for case in cases:
        found[case.name] = {
            "seconds": statistics.median(run["seconds"] for run in runs[case.name]),
            "compiled": runs[case.name][0]["compiled"],
            "first_event": case.event is not None,
        }
    return found


def isolated_environment(settings: dict[str, str]) -> dict[str, str]:
    """The function's environment: its settings, and none of the dev shell's Python variables."""
    kept = {name: value for name, value in os.environ.items() if not name.startswith(("PYTHON", "VIRTUAL_ENV"))}
    return {**kept, **settings, "POWERTOOLS_TRACE_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1"}


def standard_cases(callback_body: bytes) -> list[Case]:
    """Every function: the callback, play and API functions with a first event (storage stubbed, or
    an answer that needs none), the others imported (their module-level set-up included)."""
    from tests.payloads import http_event  # noqa: PLC0415

    from .workload import callback_event  # noqa: PLC0415

    fields = {"kind": "1", "client_user_id": "learner-1", "media_content_key": "lecture-1", "hardware_id": "hw"}
    play = http_event(
        "POST", "/callbacks/kollus/local-play-token/play", "POST /callbacks/kollus/{token}/play",
        body=urlencode(fields).encode(), path_parameters={"token": "local-play-token"},
    )  # fmt: skip
    api = http_event(
        "GET", "/v1/progress", "GET /v1/progress", content_type=None,
        headers={"authorization": "Bearer local-api-token"},
    )  # fmt: skip
    contents = http_event(
        "GET", "/v1/contents", "GET /v1/contents", content_type=None, query="limit=0",
        headers={"authorization": "Bearer local-api-token"},
    )  # fmt: skip
    refused = "answer['statusCode'] == 400"  # a refusal: no storage needed
    first = [
        Case("CallbackFunction", callback_event(callback_body), CALLBACK_STUB),
        Case("PlayFunction", play, PLAY_STUB),
        Case("ApiFunction", api, check=refused),
        Case("ApiFunction", contents, check=refused, label="ApiFunction, /v1/contents"),
    ]
    named = {case.function for case in first}
    others = ("AnalyticsFunction", "SyncFunction", "DeliverFunction", "PlatformFunction", "ReconcileFunction",
              "RosterFunction", "ExportsFunction")  # fmt: skip
    return [*first, *(Case(name) for name in others if name not in named)]


def measure_lambda_cold(callback_body: bytes, rounds: int = 7) -> dict[str, Any]:
    """Every function's cold start on the built artifact, with the bytecode it ships and without any
    (what a build that ships none costs), against the runtime-like `import boto3`."""
    from .workload import settings_env  # noqa: PLC0415

    environment = isolated_environment(settings_env("ProgressTable", "http://127.0.0.1:9"))
    cases = standard_cases(callback_body)
    with tempfile.TemporaryDirectory() as scratch:
        build = built(Path(scratch) / "build")
        with unpacked(build) as root:
            shipped = measure(root, cases, environment, rounds)
        with unpacked(build, bytecode=False) as root:
            bare = measure(root, cases, environment, max(3, rounds // 2))
    return {"shipped": shipped, "bare": bare, "rounds": rounds}


def main() -> None:  # pragma: no cover - a tool run by hand
    """`python -m local.bench.lambda_cold` prints the cold starts (FUNCTIONS: a comma-separated choice of
    functions; ROUNDS, 3 by default); `python -m local.bench.lambda_cold write` measures every function
    as `make bench` does and writes row 3, row 8's cold start and the section on every function into
    docs/benchmarks.md."""
    from local.simulator import Content, Play, Session, play_session  # noqa: PLC0415

    from .report import DOCUMENT, with_cold_start  # noqa: PLC0415
    from .workload import settings_env  # noqa: PLC0415

    report = play_session(Session("learner-1", Content("lecture-1", 600.0, 100), 1), [Play(0, 120, 1.0)])[-1]
    if sys.argv[1:] == ["write"]:
        measured = measure_lambda_cold(report.form_body())
        DOCUMENT.write_text(with_cold_start(DOCUMENT.read_text(encoding="utf-8"), measured), encoding="utf-8")
        print(f"wrote {DOCUMENT.relative_to(ROOT)}")
        return
    rounds = int(os.environ.get("ROUNDS", "3"))
    with tempfile.TemporaryDirectory() as scratch:
        build = built(Path(scratch) / "build")
        with unpacked(build) as root:
            environment = isolated_environment(settings_env("ProgressTable", "http://127.0.0.1:9"))
            wanted = os.environ.get("FUNCTIONS", "").split(",")
            cases = [case for case in standard_cases(report.form_body()) if case.function in wanted or wanted == [""]]
            found = measure(root, cases, environment, rounds=rounds)
            for name, result in found.items():
                ratio = result["seconds"] / found["boto3"]["seconds"]
                compiled = len(result.get("compiled", []))
                print(f"{name:28s} {result['seconds'] * 1000:7.0f} ms  {ratio:5.2f}x  compiled {compiled}")


if __name__ == "__main__":  # pragma: no cover
    main()
