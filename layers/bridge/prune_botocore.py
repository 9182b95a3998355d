"""Keep only the botocore models of the services the bridge calls (`SERVICES` in
kollus_bridge/store/session.py) in the built layer, and only their entries in botocore's endpoint table.

Making a client, botocore lists every service it ships (some 450 directories) and parses the whole
endpoint table (1.2 MB of JSON): work a cold start pays for services the bridge never calls
(docs/benchmarks.md, "before and after"). The layer also shrinks by about 27 MB unpacked.

Usage: python prune_botocore.py <the layer's python directory>
"""

from __future__ import annotations

import ast
import gzip
import json
import shutil
import sys
from pathlib import Path


def services(session_module: Path) -> tuple[str, ...]:
    """`SERVICES`, read from the module's source (importing it would need botocore on the path)."""
    for node in ast.parse(session_module.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(target, "id", None) == "SERVICES" for target in node.targets):
            return tuple(ast.literal_eval(node.value))
    raise SystemExit(f"no SERVICES in {session_module}")


def endpoint_prefix(service: Path) -> str:
    """The key of the service in the endpoint table (its model's `endpointPrefix`)."""
    version = max(path for path in service.iterdir() if path.is_dir())
    model = version / "service-2.json.gz"
    text = gzip.decompress(model.read_bytes()) if model.exists() else (version / "service-2.json").read_bytes()
    return str(json.loads(text)["metadata"]["endpointPrefix"])


def prune(site: Path, kept: tuple[str, ...]) -> None:
    data = site / "botocore" / "data"
    missing = [name for name in kept if not (data / name).is_dir()]
    if missing:
        raise SystemExit(f"botocore has no model for {', '.join(missing)}")
    for entry in data.iterdir():
        if entry.is_dir() and entry.name not in kept:
            shutil.rmtree(entry)
    prefixes = {endpoint_prefix(data / name) for name in kept}
    endpoints = data / "endpoints.json"
    table = json.loads(endpoints.read_text(encoding="utf-8"))
    for partition in table["partitions"]:
        partition["services"] = {name: entry for name, entry in partition["services"].items() if name in prefixes}
    endpoints.write_text(json.dumps(table, separators=(",", ":")), encoding="utf-8")


def main() -> None:
    site = Path(sys.argv[1])
    prune(site, services(site / "kollus_bridge" / "store" / "session.py"))


if __name__ == "__main__":
    main()
