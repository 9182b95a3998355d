"""Reading `template.yaml`, the single source of truth for tables, routes and function settings.

The local stack and the tests create their tables and route their requests from it, so neither
can drift from what `sam deploy` creates.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
LAYER_DIR = ROOT / "layers" / "bridge"

#: Table properties DynamoDB Local does not take in CreateTable (they are account/backup settings).
_TABLE_PROPERTIES = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "BillingMode",
    "StreamSpecification",
)


class _CloudFormationLoader(yaml.SafeLoader):
    """YAML loader that reads CloudFormation short-form tags (`!Ref X`) as their long form."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        scalar = loader.construct_scalar(node)
        value = scalar.split(".", 1) if suffix == "GetAtt" else scalar
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CloudFormationLoader.add_multi_constructor("!", _intrinsic)


@cache
def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=_CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(document, dict):
        raise ValueError(f"{path} is not a template")
    return document


def resources(template: Mapping[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: body for name, body in template.get("Resources", {}).items() if body.get("Type") == kind}


def table_definitions(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """CreateTable arguments (without TableName) for every table in the template, by logical id."""
    tables = {}
    for name, body in resources(template, "AWS::DynamoDB::Table").items():
        properties = body.get("Properties", {})
        tables[name] = {key: properties[key] for key in _TABLE_PROPERTIES if key in properties}
        if "StreamSpecification" in properties:  # CloudFormation implies what the API asks for
            tables[name]["StreamSpecification"] = {**properties["StreamSpecification"], "StreamEnabled": True}
    return tables


#: The HTTP API's route for every request no other route takes.
DEFAULT_ROUTE = "$default"


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as in the template, e.g. /callbacks/kollus/{token}
    function: str  # logical id
    code_uri: Path
    handler: str  # module.function

    @property
    def route_key(self) -> str:
        """As API Gateway names it: `GET /v1/progress`, or `$default` for the route of every other request."""
        return self.path if self.path == DEFAULT_ROUTE else f"{self.method} {self.path}"


def _events(template: Mapping[str, Any], kind: str) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(function, its properties, the event's properties) of every event of type `kind`."""
    for name, body in resources(template, "AWS::Serverless::Function").items():
        properties = body.get("Properties", {})
        for event in properties.get("Events", {}).values():
            if event.get("Type") == kind:
                yield name, properties, event.get("Properties", {})


def routes(template: Mapping[str, Any]) -> list[Route]:
    """Every HttpApi event of every function."""
    found = []
    for name, properties, event_properties in _events(template, "HttpApi"):
        found.append(
            Route(
                method=str(event_properties.get("Method", "ANY")).upper(),
                path=event_properties["Path"],
                function=name,
                code_uri=ROOT / properties["CodeUri"],
                handler=properties["Handler"],
            )
        )
    return found


@dataclass(frozen=True)
class ScheduledFunction:
    function: str
    code_uri: Path
    handler: str
    timeout_seconds: float


def _invoked(template: Mapping[str, Any], name: str, properties: Mapping[str, Any]) -> dict[str, Any]:
    """What every function run by an event source is described by: name, code, handler, timeout."""
    default_timeout = template.get("Globals", {}).get("Function", {}).get("Timeout", 3)
    return {
        "function": name,
        "code_uri": ROOT / properties["CodeUri"],
        "handler": properties["Handler"],
        "timeout_seconds": float(properties.get("Timeout", default_timeout)),
    }


def invoked_function(template: Mapping[str, Any], name: str) -> ScheduledFunction:
    """A function by its logical id, as the event sources that invoke it see it."""
    return ScheduledFunction(**_invoked(template, name, template["Resources"][name]["Properties"]))


def scheduled_functions(template: Mapping[str, Any]) -> list[ScheduledFunction]:
    """Functions run by EventBridge Scheduler (ScheduleV2 events), once each."""
    found = {name: properties for name, properties, _ in _events(template, "ScheduleV2")}
    return [ScheduledFunction(**_invoked(template, name, properties)) for name, properties in found.items()]


@dataclass(frozen=True)
class StreamFunction:
    """A function fed by a table's DynamoDB stream, with the event source mapping's settings."""

    function: str
    code_uri: Path
    handler: str
    timeout_seconds: float
    table: str  # the table's logical id
    batch_size: int
    filters: tuple[dict[str, Any], ...]  # the FilterCriteria patterns, parsed


def stream_functions(template: Mapping[str, Any]) -> list[StreamFunction]:
    """Functions with a `DynamoDB` event (a stream event source mapping)."""
    found = []
    for name, properties, source in _events(template, "DynamoDB"):
        table, attribute = source["Stream"]["Fn::GetAtt"]
        if attribute != "StreamArn":
            raise ValueError(f"{name}: a DynamoDB event must name a table's StreamArn")
        patterns = source.get("FilterCriteria", {}).get("Filters", [])
        found.append(
            StreamFunction(
                **_invoked(template, name, properties),
                table=table,
                batch_size=int(source.get("BatchSize", 100)),
                filters=tuple(json.loads(pattern["Pattern"]) for pattern in patterns),
            )
        )
    return found


def _resolve(value: Any, template: Mapping[str, Any], local_names: Mapping[str, str]) -> str | None:
    """A template value with `Ref`s to parameters (defaults) and local resources resolved; None if not local."""
    if isinstance(value, dict) and "Ref" in value:
        target = value["Ref"]
        if target in local_names:
            return local_names[target]
        parameter = template.get("Parameters", {}).get(target)
        if parameter is not None and "Default" in parameter:
            return str(parameter["Default"])
        return None
    if isinstance(value, str | int | float):
        return str(value)
    return None


def function_environment(template: Mapping[str, Any], function: str, local_names: Mapping[str, str]) -> dict[str, str]:
    """The environment a function gets in AWS, resolved for the local stack.

    References to resources without a local counterpart (such as Secrets Manager secrets) are left
    out; the local stack supplies its own values for those.
    """
    merged: dict[str, Any] = {}
    merged.update(template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}))
    properties = template["Resources"][function].get("Properties", {})
    merged.update(properties.get("Environment", {}).get("Variables", {}))
    environment = {}
    for key, value in merged.items():
        resolved = _resolve(value, template, local_names)
        if resolved is not None:
            environment[key] = resolved
    return environment


def load_handler_module(
    route: Route | ScheduledFunction | StreamFunction, fresh: bool = False, instance: int = 0
) -> ModuleType:
    """Import a function's handler module from its CodeUri, as Lambda would (layer on the path).

    `fresh` imports it again, as a new Lambda execution environment would (settings read anew).
    Each `instance` is a separate copy of the module, like a separate execution environment: a
    handler serves one event at a time.
    """
    if str(LAYER_DIR) not in sys.path:
        sys.path.insert(0, str(LAYER_DIR))
    module_file, _, _ = route.handler.rpartition(".")
    module_name = f"_function_{route.function}_{instance}"
    if module_name in sys.modules and not fresh:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, route.code_uri / f"{module_file}.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {route.code_uri}/{module_file}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
