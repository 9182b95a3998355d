"""Helpers the suites share: canonical events and in-process invocation."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

from local.http_api import LambdaContext
from local.template import ROOT

EVENTS = ROOT / "events"


def load_event(relative: str) -> dict[str, Any]:
    """One of the `events/` files, which also serve `sam local invoke -e`."""
    event: dict[str, Any] = json.loads((EVENTS / relative).read_text(encoding="utf-8"))
    return event


def invoke(module: ModuleType, event: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = module.lambda_handler(event, LambdaContext("test"))
    return response


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])
