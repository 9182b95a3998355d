"""The one OpenAPI document, generated from the functions' own routes and models.

`python -m local.openapi` writes `functions/api/openapi.json` (served at GET /v1/openapi.json);
a test fails when the committed file differs from what the code generates.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from .template import ROOT, load_handler_module, load_template, routes

DOCUMENT = ROOT / "functions" / "api" / "openapi.json"
TITLE = "kollus-lms-bridge"
DESCRIPTION = (
    "Kollus LMS callbacks in (POST /callbacks/kollus/{token}, for the Kollus player) and Kollus platform "
    "callbacks (POST /callbacks/kollus/{token}/platform); progress, the content catalog and uploads, rules, "
    "playback URLs and the sync ledger out (/v1, for the LMS, bearer token)."
)


def callback_operation() -> APIGatewayHttpResolver:
    """The callback function's one operation. The function answers without a resolver (its cold start
    is on the hot path), so its route is described here, with the models its answers are tested against."""
    from kollus_bridge.api import models as api_models  # noqa: PLC0415
    from kollus_bridge.api.http import responses  # noqa: PLC0415

    app = APIGatewayHttpResolver(enable_validation=True)

    @app.post(
        "/callbacks/kollus/<token>",
        summary="A Kollus LMS callback (form-encoded as the player sends it, or JSON)",
        description="Configured in the Kollus console. The body is the customer's template of Kollus variables, "
        "e.g. json_data={JSON_DATA}; the query string is merged in (the body wins).",
        responses=responses(api_models.CallbackResult, 400, 401, 403, 413, 415, 422, 503),
    )
    def receive_callback(token: str) -> Response[str]:  # described only: functions/callback/app.py serves it
        raise NotImplementedError

    return app


def platform_operation() -> APIGatewayHttpResolver:
    """The platform callback function's one operation (it too answers without a resolver)."""
    from kollus_bridge.api import models as api_models  # noqa: PLC0415
    from kollus_bridge.api.http import responses  # noqa: PLC0415

    app = APIGatewayHttpResolver(enable_validation=True)

    @app.post(
        "/callbacks/kollus/<token>/platform",
        summary="A Kollus platform callback: upload, transcoding result, channel add or remove, content update",
        description="Configured in the Kollus console. 200 for a callback applied or already applied (Kollus "
        "retries anything else); a refused one is kept in the rejected store.",
        responses=responses(api_models.PlatformResult, 400, 401, 413, 415, 503),
    )
    def receive_platform_callback(token: str) -> Response[str]:  # described only: functions/platform/app.py
        raise NotImplementedError

    return app


def play_operation() -> APIGatewayHttpResolver:
    """The play callback function's one operation; its answer is a JWT, described in `_describe_jwt_answer`."""
    from kollus_bridge.api.http import error_responses  # noqa: PLC0415

    app = APIGatewayHttpResolver(enable_validation=True)

    @app.post(
        "/callbacks/kollus/<token>/play",
        summary="Kollus's play callback: may this learner play this content now (kind 1), and finally (kind 3)?",
        description="Configured in the Kollus console. The answer is the HS256 JWT Kollus expects (payload "
        '`{"data": {"result": 0|1, ...}}`), with `X-Kollus-UserKey`; a refusal carries a message for the learner.',
        responses={200: {"description": "The JWT"}, **error_responses(400, 401, 413, 415, 503)},
    )
    def receive_play_callback(token: str) -> Response[str]:  # described only: functions/play/app.py serves it
        raise NotImplementedError

    @app.post(
        "/callbacks/kollus/<token>/drm",
        summary="Kollus's DRM callback: downloads (kind 1), finished downloads (kind 2), offline plays (kind 3)",
        description="Configured in the Kollus console. One HS256 JWT answers every item of `items` (payload "
        '`{"data": [...]}`), with `X-Kollus-UserKey`.',
        responses={200: {"description": "The JWT"}, **error_responses(400, 401, 413, 415, 503)},
    )
    def receive_drm_callback(token: str) -> Response[str]:  # described only: functions/play/app.py serves it
        raise NotImplementedError

    return app


#: Functions whose operations are described here rather than by a resolver of their own.
DESCRIBED_HERE = {
    "CallbackFunction": callback_operation,
    "PlatformFunction": platform_operation,
    "PlayFunction": play_operation,
}
#: Their form bodies: path -> model name in `api.models`.
FORM_BODIES = {
    "/callbacks/kollus/{token}": "CallbackForm",
    "/callbacks/kollus/{token}/platform": "PlatformCallbackForm",
    "/callbacks/kollus/{token}/play": "PlayCallbackForm",
    "/callbacks/kollus/{token}/drm": "DrmCallbackForm",
}


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
        describe = DESCRIBED_HERE.get(route.function)
        app = describe() if describe else load_handler_module(route).app
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
            if path.startswith("/v1/"):
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
    from kollus_bridge.api import models  # noqa: PLC0415

    for path, name in FORM_BODIES.items():
        reference = {"$ref": f"#/components/schemas/{name}"}
        document["paths"][path]["post"]["requestBody"] = {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": reference}},
        }
        document["components"]["schemas"][name] = getattr(models, name).model_json_schema()


def _describe_jwt_answer(document: dict[str, Any]) -> None:
    """The play and DRM callbacks answer with a compact JWT as text, and the custom key in a header."""
    jwt = r"^[\w-]+\.[\w-]+\.[\w-]+$"
    sample = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJkYXRhIjp7InJlc3VsdCI6MX19.c2lnbmF0dXJl"
    for path in ("/callbacks/kollus/{token}/play", "/callbacks/kollus/{token}/drm"):
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
