"""The layout is the architecture: packages by capability, imports between them pointing one way,
storage behind one package, and modules small enough to read."""

from __future__ import annotations

import ast
from pathlib import Path

from local.template import LAYER_DIR, ROOT

PACKAGE = LAYER_DIR / "kollus_bridge"

#: Each unit may import from units of a lower rank and from itself, never upwards or sideways.
RANKS = {
    "errors": 0,
    "readers": -1,  # how settings are read: below everything, settings included
    "settings": 0,
    "times": 0,
    "observability": 0,
    "outbound": 0,
    "kollus": 1,
    "progress": 2,
    "content": 2,
    "access": 2,
    "xapi": 3,
    "lti": 3,
    "delivery": 4,
    "analytics": 4,
    "exports": 5,  # reads what analytics reads; written beside the store, never through it
    "store": 5,
    "edge": 5,
    "auth": 6,  # reads secrets through storage
    "api": 7,
    "runtime": 7,
}
STORAGE_LIBRARIES = ("boto3", "botocore")


def modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if "__pycache__" not in path.parts)


def unit_of(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def imported(path: Path) -> list[str]:
    """Absolute names of what a module imports (relative imports resolved)."""
    package = list(path.relative_to(LAYER_DIR).with_suffix("").parts[:-1]) if PACKAGE in path.parents else []
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names += [module] if node.module else [f"{module}.{alias.name}" for alias in node.names]
    return names


def test_every_unit_of_the_package_has_a_rank() -> None:
    units = {unit_of(path) for path in modules()} - {"__init__"}
    assert units == set(RANKS)


def test_imports_between_packages_point_one_way() -> None:
    wrong = []
    for path in modules():
        own = unit_of(path)
        if own == "__init__":
            continue
        for name in imported(path):
            parts = name.split(".")
            if parts[0] != "kollus_bridge" or len(parts) < 2:
                continue
            target = parts[1]
            if target != own and RANKS[target] >= RANKS[own]:
                wrong.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert wrong == []


def test_only_the_store_touches_boto3() -> None:
    users = [
        str(path.relative_to(ROOT))
        for path in [*modules(), *(ROOT / "functions").rglob("*.py")]
        if any(name.split(".")[0] in STORAGE_LIBRARIES for name in imported(path))
        and not (PACKAGE in path.parents and unit_of(path) == "store")
    ]
    assert users == []


def test_modules_stay_readable() -> None:
    long = {
        str(path.relative_to(PACKAGE)): lines
        for path in modules()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > (250 if unit_of(path) == "store" else 400)
    }
    assert long == {}
