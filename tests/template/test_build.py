"""The built artifact, as Lambda runs it: `sam build` (the layer's and the functions' Makefiles) ships
hash-based bytecode, so a function started from the zip (every file dated 1980, nothing writable, no
bytecode written) compiles no module of ours or of the layer's, and answers its first event."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.bench.lambda_cold import TOOLS, Case, built, isolated_environment, measure, standard_cases, unpacked
from local.bench.workload import settings_env
from local.simulator import Content, Play, Session, play_session
from local.template import load_template, resources


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (TOOLS / "sam").exists():
        pytest.fail(f"the SAM CLI is not installed at {TOOLS}: run make setup")
    return built(tmp_path_factory.mktemp("sam") / "build")


@pytest.fixture
def environment() -> dict[str, str]:
    return isolated_environment(settings_env("ProgressTable", "http://127.0.0.1:9"))


def test_every_function_and_the_layer_are_built_by_their_makefiles() -> None:
    template = load_template()
    assert template["Resources"]["BridgeLayer"]["Metadata"]["BuildMethod"] == "makefile"
    for name, function in resources(template, "AWS::Serverless::Function").items():
        assert function["Metadata"]["BuildMethod"] == "makefile", name


def test_no_function_compiles_a_module_at_cold_start(build: Path, environment: dict[str, str]) -> None:
    layer = build / "BridgeLayer" / "python"
    sources = list(layer.rglob("*.py"))
    assert len(sources) > 500 and all(_compiled(path) for path in sources)  # every module ships its bytecode
    report = play_session(Session("learner-1", Content("lecture-1", 600.0, 100), 1), [Play(0, 120, 1.0)])[-1]
    with unpacked(build) as root:
        found = measure(root, standard_cases(report.form_body()), environment, rounds=1)
        functions = {path.name for path in (root / "var" / "task").iterdir()}
    assert set(found) == functions | {"boto3"} and "RosterFunction" in functions
    assert {name: result.get("compiled", []) for name, result in found.items() if result.get("compiled")} == {}


def test_without_its_bytecode_the_same_start_compiles_every_module(build: Path, environment: dict[str, str]) -> None:
    """What the test above would see of a build that ships none: the spy does see compilation."""
    with unpacked(build, bytecode=False) as root:
        found = measure(root, [Case("CallbackFunction")], environment, rounds=1)
    compiled = found["CallbackFunction"]["compiled"]
    assert len(compiled) > 100 and any(path.endswith("/kollus_bridge/store/table.py") for path in compiled)


def _compiled(source: Path) -> bool:
    """Whether a module has hash-based bytecode beside it (PEP 552: flags 0b11, checked hash)."""
    pyc = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
    return pyc.exists() and int.from_bytes(pyc.read_bytes()[4:8], "little") == 0b11
