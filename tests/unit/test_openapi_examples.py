"""Every operation of the OpenAPI document carries examples: of its request body, of its parameters
(but opaque page tokens) and of its success answer, so generated docs and example-based tests have them."""

from __future__ import annotations

import json
from typing import Any

from local.openapi import DOCUMENT

SPEC = json.loads(DOCUMENT.read_text(encoding="utf-8"))


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return resolve(SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]])
    return schema


def has_examples(schema: dict[str, Any]) -> bool:
    if schema.get("examples") or "example" in schema:  # beside a $ref (OpenAPI 3.1), or in the schema
        return True
    schema = resolve(schema)
    if schema.get("examples") or "example" in schema:
        return True
    properties = schema.get("properties") or {}
    if properties and all(has_examples(field) for field in properties.values()):
        return True  # a form body: each field carries its examples
    options = schema.get("anyOf") or schema.get("oneOf") or []
    return bool(options) and all(has_examples(option) for option in options if option.get("type") != "null")


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation) for path, item in SPEC["paths"].items() for method, operation in item.items()
    ]


def test_every_operation_has_examples() -> None:
    missing = []
    for method, path, operation in operations():
        for media in operation.get("requestBody", {}).get("content", {}).values():
            if not has_examples(media["schema"]):
                missing.append(f"{method} {path}: request body")
        for parameter in operation.get("parameters", []):
            if parameter["name"] not in ("next_token", "token") and not has_examples(parameter["schema"]):
                missing.append(f"{method} {path}: parameter {parameter['name']}")
        for status, answer in operation["responses"].items():
            for media in answer.get("content", {}).values():
                if not has_examples(media["schema"]):
                    missing.append(f"{method} {path}: answer {status}")
    assert len(operations()) >= 8
    assert missing == []
