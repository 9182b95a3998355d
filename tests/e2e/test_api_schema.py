"""Property-based API tests: schemathesis generates requests from the committed OpenAPI document and
sends them to the local stack. No 5xx, and every response matches the document."""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from local.openapi import DOCUMENT
from tests.e2e.conftest import RunningStack
from tests.payloads import API_TOKEN, CALLBACK_TOKEN

schema = schemathesis.openapi.from_path(DOCUMENT)
#: Examples per operation: bounded in CI; raise it (SCHEMATHESIS_EXAMPLES=500) for a longer run.
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "25"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_api_keeps_its_contract(case: Any, stack: RunningStack) -> None:
    if "token" in (case.path_parameters or {}):
        case.path_parameters = {**case.path_parameters, "token": CALLBACK_TOKEN}  # exercise the payloads
    case.call_and_validate(base_url=stack.url, headers={"Authorization": f"Bearer {API_TOKEN}"}, checks=CHECKS)
