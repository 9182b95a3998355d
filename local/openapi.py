"""The one OpenAPI document, generated from the functions' own routes and models.

`python -m local.openapi` writes `functions/api/openapi.json` (served at GET /v1/openapi.json);
a test fails when the committed file differs from what the code generates.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from .template import ROOT, load_handler_module, load_template, routes

DOCUMENT = ROOT / "functions" / "api" / "openapi.json"
#: Operations without the API token: the document itself, and the pages a signed view link opens.
PUBLIC_PATHS = {"/v1/openapi.json", "/v1/views/{token}"}
TITLE = "kollus-lms-bridge"
DESCRIPTION = (
    "Kollus LMS callbacks in (POST /callbacks/kollus/{token}, for the Kollus player) and Kollus platform "
    "callbacks (POST /callbacks/kollus/{token}/platform); progress, the content catalog and uploads, rules, "
    "playback URLs and the sync ledger out (/v1, for the LMS, bearer token)."
)


@dataclass(frozen=True)
class Described:
    """An operation of a function that answers without a resolver (its cold start is on the hot path,
    or Kollus waits on it): its route, words, answers and form body, for the document."""

    name: str  # the operation's function name (its operationId)
    path: str
    summary: str
    description: str
    form: str  # the form body's model in `api.callback_models`
    errors: tuple[int, ...]
    answer: str | None = None  # the answer's model in `api.callback_models`; None: a JWT (`_describe_jwt_answer`)


#: Functions whose operations are described here rather than by a resolver of their own.
DESCRIBED_HERE = {
    "CallbackFunction": (
        Described(
            "receive_callback", "/callbacks/kollus/<token>",
            "A Kollus LMS callback (form-encoded as the player sends it, or JSON)",
            "Configured in the Kollus console. The body is the customer's template of Kollus variables, "
            "e.g. json_data={JSON_DATA}; the query string is merged in (the body wins).",
            "CallbackForm", (400, 401, 403, 413, 415, 422, 503), "CallbackResult",
        ),
    ),
    "PlatformFunction": (
        Described(
            "receive_platform_callback", "/callbacks/kollus/<token>/platform",
            "A Kollus platform callback: upload, transcoding result, channel add or remove, content update",
            "Configured in the Kollus console. 200 for a callback applied or already applied (Kollus "
            "retries anything else); a refused one is kept in the rejected store.",
            "PlatformCallbackForm", (400, 401, 413, 415, 503), "PlatformResult",
        ),
    ),
    "PlayFunction": (
        Described(
            "receive_play_callback", "/callbacks/kollus/<token>/play",
            "Kollus's play callback: may this learner play this content now (kind 1), and finally (kind 3)?",
            "Configured in the Kollus console. The answer is the HS256 JWT Kollus expects (payload "
            '`{"data": {"result": 0|1, ...}}`), with `X-Kollus-UserKey`; a refusal carries a message for the learner.',
            "PlayCallbackForm", (400, 401, 413, 415, 503),
        ),
        Described(
            "receive_drm_callback", "/callbacks/kollus/<token>/drm",
            "Kollus's DRM callback: downloads (kind 1), finished downloads (kind 2), offline plays (kind 3)",
            "Configured in the Kollus console. One HS256 JWT answers every item of `items` (payload "
            '`{"data": [...]}`), with `X-Kollus-UserKey`.',
            "DrmCallbackForm", (400, 401, 413, 415, 503),
        ),
    ),
}  # fmt: skip


def described_resolver(operations: tuple[Described, ...]) -> APIGatewayHttpResolver:
    """A resolver that only describes `operations` (their functions serve them)."""
    from kollus_bridge.api import callback_models as models  # noqa: PLC0415
    from kollus_bridge.api.http import error_responses, responses  # noqa: PLC0415

    app = APIGatewayHttpResolver(enable_validation=True)
    for operation in operations:

        def serve(token: str) -> Response[str]:  # described only
            raise NotImplementedError

        serve.__name__ = operation.name
        answers: dict[int, OpenAPIResponse]
        if operation.answer is None:
            answers = {200: {"description": "The JWT"}, **error_responses(*operation.errors)}
        else:
            answers = responses(getattr(models, operation.answer), *operation.errors)
        app.post(operation.path, summary=operation.summary, description=operation.description, responses=answers)(serve)
    return app


def _every_route(module: ModuleType) -> APIGatewayHttpResolver:
    """The module's resolver with every route, the groups it makes on first use included."""
    if (lazy := getattr(module, "lazy_routes", None)) is not None:
        lazy.load_all()
    app: APIGatewayHttpResolver = module.app
    return app


def generate() -> dict[str, Any]:
    from .stack import local_environment  # noqa: PLC0415 - the functions read their settings at import

    for name, value in local_environment({"ProgressTable": "ProgressTable"}).items():
        os.environ.setdefault(name, value)
    document: dict[str, Any] = {}
    seen: set[str] = set()
    for route in routes(load_template()):
        if route.function in seen:
            continue
        seen.add(route.function)
        described = DESCRIBED_HERE.get(route.function)
        app = described_resolver(described) if described else _every_route(load_handler_module(route))
        schema = json.loads(app.get_openapi_json_schema(title=TITLE, version="1", description=DESCRIPTION))
        if not document:
            document = schema
            continue
        document["paths"].update(schema.get("paths", {}))
        document.setdefault("components", {}).setdefault("schemas", {}).update(
            schema.get("components", {}).get("schemas", {})
        )
    components = document.setdefault("components", {})
    components["securitySchemes"] = {"bearerAuth": {"type": "http", "scheme": "bearer"}}
    for path, operations in document["paths"].items():
        for operation in operations.values():
            if path.startswith("/v1/") and path not in PUBLIC_PATHS:
                operation["security"] = [{"bearerAuth": []}]
            # Request validation errors are answered 400 in the one error shape, never 422.
            default_422 = operation["responses"].get("422", {})
            if "HTTPValidationError" in json.dumps(default_422):
                del operation["responses"]["422"]
    _describe_callback_body(document)
    _describe_jwt_answer(document)
    _drop_unreferenced_schemas(document)
    document["paths"] = dict(sorted(document["paths"].items()))
    components["schemas"] = dict(sorted(components.get("schemas", {}).items()))
    return document


def _describe_callback_body(document: dict[str, Any]) -> None:
    """The callbacks' form bodies (their functions read the raw body themselves, so no resolver declares them)."""
    from kollus_bridge.api import callback_models as models  # noqa: PLC0415

    for operations in DESCRIBED_HERE.values():
        for operation in operations:
            reference = {"$ref": f"#/components/schemas/{operation.form}"}
            path = operation.path.replace("<token>", "{token}")
            document["paths"][path]["post"]["requestBody"] = {
                "required": True,
                "content": {"application/x-www-form-urlencoded": {"schema": reference}},
            }
            document["components"]["schemas"][operation.form] = getattr(models, operation.form).model_json_schema()


def _describe_jwt_answer(document: dict[str, Any]) -> None:
    """The play and DRM callbacks answer with a compact JWT as text, and the custom key in a header."""
    jwt = r"^[\w-]+\.[\w-]+\.[\w-]+$"
    sample = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJkYXRhIjp7InJlc3VsdCI6MX19.c2lnbmF0dXJl"
    jwt_paths = [o.path for ops in DESCRIBED_HERE.values() for o in ops if o.answer is None]
    for path in (path.replace("<token>", "{token}") for path in jwt_paths):
        answer = document["paths"][path]["post"]["responses"]["200"]
        answer["content"] = {"text/plain": {"schema": {"type": "string", "pattern": jwt, "examples": [sample]}}}
        answer["headers"] = {"X-Kollus-UserKey": {"description": "The Kollus custom key", "schema": {"type": "string"}}}


def _drop_unreferenced_schemas(document: dict[str, Any]) -> None:
    schemas = document.get("components", {}).get("schemas", {})
    while True:
        text = json.dumps({key: value for key, value in document.items() if key != "components"})
        text += json.dumps(schemas)
        unused = [name for name in schemas if f'"#/components/schemas/{name}"' not in text]
        if not unused:
            return
        for name in unused:
            del schemas[name]


def render() -> str:
    return json.dumps(generate(), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def main() -> int:
    DOCUMENT.write_text(render(), encoding="utf-8")
    print(f"wrote {DOCUMENT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
