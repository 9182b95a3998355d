"""Builders for Kollus callback bodies in both wire forms, and HTTP API events that carry them."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

FORM = "application/x-www-form-urlencoded"
CALLBACK_TOKEN = "local-callback-token"  # the local stack's documented defaults, one per door
PLAY_TOKEN = "local-play-token"
DRM_TOKEN = "local-drm-token"
PLATFORM_TOKEN = "local-platform-token"
API_TOKEN = "local-api-token"


@dataclass
class Snapshot:
    """What one callback reports: a session's cumulative state. `block_times` is 0-based."""

    client_user_id: str = "learner-1"
    media_content_key: str = "content-1"
    start_at: int = 1_710_395_296
    player_id: str = "khp"
    block_count: int = 10
    duration: float | None = 600
    block_times: dict[int, float] = field(default_factory=dict)
    serial: int | None = 0
    play_time: float = 0
    real_play_time: float = 0
    last_play_at: float = 0
    run_time: float = 0
    uservalues: dict[str, str] = field(default_factory=dict)

    def json_data(self) -> dict[str, Any]:
        blocks: dict[str, Any] = {}
        for index, seconds in sorted(self.block_times.items()):
            blocks[f"b{index}"] = 1 if seconds > 0 else 0
            blocks[f"t{index}"] = seconds
        content: dict[str, Any] = {
            "media_content_key": self.media_content_key,
            "duration": self.duration,
            "start_at": self.start_at,
            "playtime": self.play_time,
            "real_playtime": self.real_play_time,
            "last_play_at": self.last_play_at,
            "runtime": self.run_time,
            "showtime": None,
        }
        if self.serial is not None:
            content["serial"] = self.serial
        return {
            "user_info": {"client_user_id": self.client_user_id, "player_id": self.player_id, "device_name": "PC"},
            "content_info": content,
            "block_info": {"block_count": self.block_count, "blocks": blocks},
            "uservalues": dict(self.uservalues),
        }

    def flat(self) -> dict[str, str]:
        """The flat variables (1-based blocks), as a URL template of every variable would send them."""
        variables = {
            "client_user_id": self.client_user_id,
            "media_content_key": self.media_content_key,
            "start_at": str(self.start_at),
            "player_id": self.player_id,
            "block_cnt": str(self.block_count),
            "duration": "" if self.duration is None else str(self.duration),
            "play_time": str(self.play_time),
            "real_playtime": str(self.real_play_time),
            "last_play_at": str(self.last_play_at),
            "run_time": str(self.run_time),
            "show_time": "{SHOW_TIME}",
            "play_status": "{PLAY_STATUS}",
        }
        for index in range(self.block_count):
            seconds = self.block_times.get(index, 0)
            variables[f"block_play_{index + 1}"] = "1" if seconds > 0 else "0"
            variables[f"block_time_{index + 1}"] = str(seconds)
        variables.update(self.uservalues)
        return variables

    def form_body(self) -> bytes:
        """The usual template: `json_data={JSON_DATA}` plus a few flat variables."""
        return urlencode(
            {"json_data": json.dumps(self.json_data()), "client_user_id": self.client_user_id, "play_status": "pause"}
        ).encode()

    def flat_body(self) -> bytes:
        return urlencode(self.flat()).encode()


def flat_form(
    learner: str, content: str, start_at: int, block_count: int, blocks: Mapping[int, float | None], **fields: object
) -> bytes:
    """A flat form callback as a forger writes it: `blocks` 0-based, None for a played flag without a
    block time; only the fields given (plus `player_id=khp`, the HTML5 player's)."""
    form: dict[str, object] = {
        "client_user_id": learner, "media_content_key": content, "start_at": start_at, "player_id": "khp",
        "block_cnt": block_count, **fields,
    }  # fmt: skip
    for index, seconds in blocks.items():
        form[f"block_play_{index + 1}"] = 1
        if seconds is not None:
            form[f"block_time_{index + 1}"] = seconds
    return urlencode(form).encode()


def http_event(
    method: str,
    path: str,
    route_key: str,
    body: bytes | None = None,
    content_type: str | None = FORM,
    query: str = "",
    headers: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
    base64_body: bool = True,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event."""
    all_headers = {"host": "api.example.com", "user-agent": "KollusPlayer", **(headers or {})}
    if content_type:
        all_headers["content-type"] = content_type
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.example.com",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.9",
                "userAgent": "KollusPlayer",
            },
            "requestId": "request-1",
            "routeKey": route_key,
            "stage": "$default",
            "time": "22/Nov/2026:00:00:00 +0000",
            "timeEpoch": 1_795_305_600_000,
        },
        "isBase64Encoded": False,
    }
    if query:
        # API Gateway hands over the parameters decoded (several values of one name comma-joined).
        decoded: dict[str, list[str]] = {}
        for key, value in parse_qsl(query, keep_blank_values=True):
            decoded.setdefault(key, []).append(value)
        event["queryStringParameters"] = {key: ",".join(values) for key, values in decoded.items()}
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body is not None:
        if base64_body:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
        else:
            event["body"] = body.decode("utf-8")
    return event


def callback_event(
    body: bytes | None, token: str = CALLBACK_TOKEN, content_type: str | None = FORM, query: str = ""
) -> dict[str, Any]:
    return http_event(
        "POST",
        f"/callbacks/kollus/{token}",
        "POST /callbacks/kollus/{token}",
        body=body,
        content_type=content_type,
        query=query,
        path_parameters={"token": token},
    )


def progress_event(query: str, token: str | None = API_TOKEN) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return http_event("GET", "/v1/progress", "GET /v1/progress", content_type=None, query=query, headers=headers)
