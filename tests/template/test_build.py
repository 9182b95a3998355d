"""The built artifact, as Lambda runs it: `sam build` (the layer's and the functions' Makefiles) ships
hash-based bytecode, so a function started from the zip (every file dated 1980, nothing writable, no
bytecode written) compiles no module of ours or of the layer's, and answers its first event."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from kollus_bridge.store.session import SERVICES
from lazy_inits import PACKAGES

from local.bench.lambda_cold import TOOLS, Case, built, isolated_environment, measure, standard_cases, unpacked
from local.bench.workload import settings_env
from local.simulator import Content, Play, Session, play_session
from local.template import LAYER_DIR, load_template, resources


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
    assert set(found) == functions | {"boto3", "ApiFunction, /v1/contents"} and "RosterFunction" in functions
    assert {name: result.get("compiled", []) for name, result in found.items() if result.get("compiled")} == {}


def test_without_its_bytecode_the_same_start_compiles_every_module(build: Path, environment: dict[str, str]) -> None:
    """What the test above would see of a build that ships none: the spy does see compilation."""
    with unpacked(build, bytecode=False) as root:
        found = measure(root, [Case("CallbackFunction")], environment, rounds=1)
    compiled = found["CallbackFunction"]["compiled"]
    assert len(compiled) > 100 and any(path.endswith("/kollus_bridge/store/table.py") for path in compiled)


ENDPOINTS = """
import json, sys
from botocore.session import get_session
session = get_session()
regions = ("us-east-1", "ap-northeast-2", "eu-central-1", "cn-north-1", "us-gov-west-1", "il-central-1")
print(json.dumps({f"{service} {region}": session.create_client(service, region_name=region).meta.endpoint_url
                  for service in sys.argv[1:] for region in regions}))
"""


def test_the_layer_keeps_botocore_for_the_services_the_bridge_calls_and_resolves_them_as_the_whole(
    build: Path,
) -> None:
    layer = build / "BridgeLayer" / "python"
    kept = sorted(path.name for path in (layer / "botocore" / "data").iterdir() if path.is_dir())
    assert kept == sorted(SERVICES)
    assert {"dynamodb", "secretsmanager"} <= _clients_made(LAYER_DIR / "kollus_bridge") <= set(SERVICES)
    on_layer = f"import sys; sys.path[:0] = [{str(layer)!r}]\n{ENDPOINTS}"
    pruned = subprocess.run([sys.executable, "-I", "-S", "-c", on_layer, *SERVICES], capture_output=True, text=True,
                            check=True)  # fmt: skip
    whole = subprocess.run([sys.executable, "-c", ENDPOINTS, *SERVICES], capture_output=True, text=True, check=True)
    assert json.loads(pruned.stdout) == json.loads(whole.stdout)
    assert json.loads(pruned.stdout)["dynamodb ap-northeast-2"] == "https://dynamodb.ap-northeast-2.amazonaws.com"


def test_the_layers_powertools_loads_what_a_function_imports_and_no_more(build: Path) -> None:
    """The re-exporting initialisers are rewritten (lazy_inits.py): the API's resolver without the rest."""
    layer = build / "BridgeLayer" / "python"
    assert all("_SOURCES = {" in (layer / package / "__init__.py").read_text(encoding="utf-8") for package in PACKAGES)
    kept = ("asyncio", "aws_lambda_powertools.util")
    probe = (
        f"import sys; sys.path[:0] = [{str(layer)!r}]\n"
        "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver\n"
        f"print(sorted(name for name in sys.modules if name.startswith({kept!r})))"
    )
    done = subprocess.run([sys.executable, "-I", "-S", "-c", probe], capture_output=True, text=True, check=True)
    loaded = ast.literal_eval(done.stdout)
    assert "aws_lambda_powertools.utilities.data_classes.api_gateway_proxy_event" in loaded
    assert [name for name in loaded if name.startswith("asyncio") or name.endswith(("sqs_event", "kafka_event"))] == []


def _clients_made(package: Path) -> set[str]:
    """The services named by every `create_client("<service>", ...)` in the package."""
    made: set[str] = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "create_client":
                assert node.args and isinstance(node.args[0], ast.Constant), f"{path}: name the service"
                made.add(str(node.args[0].value))
    return made


def _compiled(source: Path) -> bool:
    """Whether a module has hash-based bytecode beside it (PEP 552: flags 0b11, checked hash)."""
    pyc = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
    return pyc.exists() and int.from_bytes(pyc.read_bytes()[4:8], "little") == 0b11
