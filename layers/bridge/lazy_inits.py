"""Make the package initialisers of Powertools that only re-export names load each name on first use
(a module `__getattr__`, PEP 562), in the built layer.

`aws_lambda_powertools.event_handler` imports every resolver it has (AppSync's brings asyncio, some
30 modules) and `aws_lambda_powertools.utilities.data_classes` every event class (about 30 modules):
any import below either package runs them, so the API function paid for GraphQL, Bedrock and VPC
Lattice resolvers and 25 event shapes it never reads on every cold start (docs/benchmarks.md).

The rewritten initialiser keeps the original's docstring, `__all__` and names: each `from M import N`
becomes an entry that imports M when N is first read; a name that is also the name of a submodule of
the package stays imported eagerly (the submodule's import would otherwise shadow it). An initialiser
that does anything but import names and set `__all__` is left as it is and fails the build, so a new
Powertools release cannot be changed unnoticed.

Usage: python lazy_inits.py <the layer's python directory>
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

#: The packages whose initialisers only re-export names (relative to the layer's directory).
PACKAGES = ("aws_lambda_powertools/event_handler", "aws_lambda_powertools/utilities/data_classes")

TEMPLATE = """{docstring}
# Rewritten by the layer's build (layers/bridge/lazy_inits.py): each name is imported on first use.
from importlib import import_module as _import_module

{eager}_SOURCES = {sources!r}

__all__ = {names!r}


def __getattr__(name):
    try:
        module, attribute = _SOURCES[name]
    except KeyError:
        try:
            return _import_module(f"{{__name__}}.{{name}}")
        except ModuleNotFoundError:
            raise AttributeError(f"module {{__name__!r}} has no attribute {{name!r}}") from None
    value = getattr(_import_module(module, __name__), attribute)
    globals()[name] = value
    return value


def __dir__():
    return sorted({{*globals(), *_SOURCES}})
"""


class NotReexportsOnly(ValueError):
    """The initialiser does more than import names and set `__all__`."""


def _module_of(node: ast.ImportFrom) -> str:
    return "." * node.level + (node.module or "")


def lazy_source(source: str, submodules: set[str]) -> str:
    """The lazy initialiser for an initialiser's `source`, given the names of its package's submodules."""
    tree = ast.parse(source)
    docstring = ast.get_docstring(tree, clean=False)
    sources: dict[str, tuple[str, str]] = {}
    eager: list[str] = []
    names: list[str] | None = None
    for index, node in enumerate(tree.body):
        if index == 0 and docstring is not None:
            continue
        if isinstance(node, ast.ImportFrom) and node.module != "__future__":
            for alias in node.names:
                if alias.name == "*":
                    raise NotReexportsOnly("a star import")
                bound = alias.asname or alias.name
                if bound in submodules:
                    eager.append(f"from {_module_of(node)} import {alias.name} as {bound}\n")
                else:
                    sources[bound] = (_module_of(node), alias.name)
        elif (
            isinstance(node, ast.Assign)
            and [getattr(target, "id", None) for target in node.targets] == ["__all__"]
            and names is None
        ):
            names = list(ast.literal_eval(node.value))
        elif not (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
            raise NotReexportsOnly(f"line {node.lineno}: {ast.unparse(node)[:60]}")
    if names is None:
        names = sorted({*sources, *(line.split(" as ")[-1].strip() for line in eager)})
    heading = f'"""{docstring}"""\n' if docstring is not None else ""
    return TEMPLATE.format(
        docstring=heading, eager="".join(eager) + ("\n" if eager else ""), sources=sources, names=names
    )


def submodules_of(package: Path) -> set[str]:
    return {path.stem for path in package.glob("*.py") if path.stem != "__init__"} | {
        path.name for path in package.iterdir() if (path / "__init__.py").is_file()
    }


def make_lazy(site: Path) -> list[Path]:
    """Rewrite each of `PACKAGES`' initialisers under `site`; the files rewritten."""
    written = []
    for package in PACKAGES:
        directory = site / package
        initialiser = directory / "__init__.py"
        try:
            lazy = lazy_source(initialiser.read_text(encoding="utf-8"), submodules_of(directory))
        except NotReexportsOnly as error:
            raise SystemExit(f"{initialiser}: not only re-exports ({error}); update lazy_inits.PACKAGES") from None
        initialiser.write_text(lazy, encoding="utf-8")
        written.append(initialiser)
    return written


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    for path in make_lazy(Path(sys.argv[1])):
        print(f"lazy: {path}")
