"""The layer's lazy Powertools initialisers (layers/bridge/lazy_inits.py): every name the original
exports is the same object, read on first use, and importing the API's resolver loads no other."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import aws_lambda_powertools
import pytest
from lazy_inits import PACKAGES, NotReexportsOnly, lazy_source, make_lazy

SITE = Path(aws_lambda_powertools.__file__).parents[1]

DESCRIBE = """
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
found = {}
for package in sys.argv[2:]:
    module = importlib.import_module(package.replace("/", "."))
    for name in module.__all__:
        value = getattr(module, name)
        where = getattr(value, "__module__", "?")
        found[f"{package} {name}"] = f"{where}.{getattr(value, '__qualname__', type(value))}"
    found[f"{package} dir"] = sorted(set(module.__all__) - set(dir(module)))
print(json.dumps(found))
"""

LOADED = """
import json, sys
sys.path.insert(0, sys.argv[1])
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.event_source import event_source as the_function
import aws_lambda_powertools.event_handler as handlers
print(json.dumps({"modules": sorted(sys.modules), "event_source": event_source is the_function,
                  "submodule": handlers.appsync.__name__}))
"""


@pytest.fixture(scope="module")
def lazy_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the dev venv's Powertools with its initialisers rewritten as the layer's build does."""
    site = tmp_path_factory.mktemp("site")
    shutil.copytree(SITE / "aws_lambda_powertools", site / "aws_lambda_powertools",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    assert make_lazy(site) == [site / package / "__init__.py" for package in PACKAGES]
    return site


def _run(code: str, *arguments: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", code, *arguments], capture_output=True, text=True, check=True)
    found: dict[str, object] = json.loads(done.stdout)
    return found


def test_every_exported_name_is_the_originals(lazy_site: Path) -> None:
    original = _run(DESCRIBE, str(SITE), *PACKAGES)
    lazy = _run(DESCRIBE, str(lazy_site), *PACKAGES)
    assert len(original) > 60 and lazy == original
    assert original["aws_lambda_powertools/event_handler APIGatewayHttpResolver"] == (
        "aws_lambda_powertools.event_handler.api_gateway.APIGatewayHttpResolver"
    )


def test_the_api_resolver_loads_neither_the_other_resolvers_nor_the_other_event_classes(lazy_site: Path) -> None:
    lazy = _run(LOADED, str(lazy_site))
    modules = set(lazy["modules"])  # type: ignore[call-overload]
    handlers, events = "aws_lambda_powertools.event_handler", "aws_lambda_powertools.utilities.data_classes"
    left_out = {"asyncio", f"{handlers}.appsync", f"{handlers}.vpc_lattice", f"{events}.kafka_event"}
    assert "aws_lambda_powertools.event_handler.api_gateway" in modules and not modules & left_out
    # A name that is also a submodule's stays the name's (the function, not the module), and a
    # submodule is still reachable as an attribute of its package.
    assert lazy["event_source"] is True and lazy["submodule"] == "aws_lambda_powertools.event_handler.appsync"
    assert set(_run(LOADED, str(SITE))["modules"]) & left_out  # type: ignore[call-overload]


def test_a_name_not_exported_is_an_attribute_error(lazy_site: Path) -> None:
    code = "import sys; sys.path.insert(0, sys.argv[1]); import aws_lambda_powertools.event_handler as h; h.Nothing"
    done = subprocess.run([sys.executable, "-c", code, str(lazy_site)], capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "AttributeError: module 'aws_lambda_powertools.event_handler' has no attribute 'Nothing'" in done.stderr


def test_an_initialiser_that_does_more_than_re_export_is_refused() -> None:
    assert "_SOURCES = {'A': ('.a', 'A')}" in lazy_source('"""Doc."""\nfrom .a import A\n__all__ = ["A"]\n', set())
    for source in ("from .a import A\nset_up()\n", "from .a import *\n", "from .a import A\nB = 1\n"):
        with pytest.raises(NotReexportsOnly):
            lazy_source(source, set())


def test_a_changed_powertools_initialiser_fails_the_build(tmp_path: Path) -> None:
    for package in PACKAGES:
        (tmp_path / package).mkdir(parents=True)
        (tmp_path / package / "__init__.py").write_text("from .a import A\nregister(A)\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="not only re-exports"):
        make_lazy(tmp_path)
