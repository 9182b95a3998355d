"""Reading Kollus LMS callbacks: the wire format in, one normalised `Callback` out.

The player posts `application/x-www-form-urlencoded` (UTF-8) bodies built from a URL template the
customer writes, so values arrive as strings, placeholders can stay unsubstituted (`{PLAY_STATUS}`),
and the same variable may be in the query string and the body (the body wins). `json_data`, when
present, is canonical; each field missing from it falls back to the flat variable.
Blocks are 0-based here, as in `json_data`; flat `block_play_N` variables are 1-based.
"""

from __future__ import annotations

import codecs
import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from kollus_bridge.errors import InvalidPayload, PayloadTooLarge, UnsupportedMediaType
from kollus_bridge.settings import Settings

from .form import parse_form
from .values import (
    CONFLICTING,
    MAX_NUMBER,
    ascii_digits,
    is_absent,
    read_count,
    read_integer,
    read_number,
    read_text,
    refuse_conflict,
    refuse_lone_surrogates,
)

#: `start_at` is a session id (unix time, device clock); allow milliseconds too.
MAX_START_AT = 10**13
#: A `start_at` this large is in milliseconds.
MILLISECOND_STAMPS = 10**11
MAX_USERVALUE_LENGTH = 2048

#: `blocks` keys: `b<i>` played flag, `t<i>` seconds, `p<i>` percent; their slot in a block's parts.
_BLOCK_SLOTS = {"b": 0, "t": 1, "p": 2}
#: Block keys already read, e.g. `"t17": (1, 17)`: a callback carries hundreds, the same ones each time.
_BLOCK_KEYS: dict[str, tuple[int, int]] = {}
_BLOCK_KEYS_KEPT = 3 * 20_000
_USERVALUE = re.compile(r"^uservalue([0-9]{1,2})$")


@dataclass(frozen=True)
class RawCallback:
    """What the HTTP layer hands over: the undecoded body, its content type and the raw query string."""

    body: bytes
    content_type: str | None
    query: str = ""


class BlockReport(NamedTuple):
    """One block as the player reported it (a tuple: a callback can carry 10,000 of them)."""

    played: bool
    seconds: float | None = None
    percent: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Callback:
    """A callback, normalised. Numbers are in seconds; `blocks` is keyed by 0-based block index.

    Only `parse_callback` builds one, from values it has read and checked.
    """

    client_user_id: str
    media_content_key: str
    start_at: int
    player_id: str = ""
    hardware_id: str | None = None
    block_count: int
    duration: float | None = None
    blocks: dict[int, BlockReport] = dataclasses.field(default_factory=dict)
    serial: int | None = None
    play_time: float | None = None
    real_play_time: float | None = None
    playtime_percent: float | None = None
    last_play_at: float | None = None
    run_time: float | None = None
    show_time: float | None = None
    play_status: str | None = None
    host_name: str | None = None
    device: str | None = None
    encoding_profile: str | None = None
    channel_key: str | None = None
    uservalues: dict[str, str] = dataclasses.field(default_factory=dict)


def start_at_ms(start_at: int) -> int:
    """A session's `start_at` in epoch milliseconds (players send seconds, some milliseconds)."""
    return start_at if start_at >= MILLISECOND_STAMPS else start_at * 1000


# --- decoding the HTTP body ---------------------------------------------------------------------


def _media_type(content_type: str | None) -> tuple[str, str]:
    """Split a Content-Type header into (media type, charset)."""
    if not content_type:
        return "", "utf-8"
    media, _, params = content_type.partition(";")
    charset = "utf-8"
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')
    return media.strip().lower(), charset


def _codec(charset: str) -> str:
    """A text encoding's name. Python's codec registry also holds byte-to-byte transforms (`base64`,
    `zlib`, `rot13`, ...) that decode no text: those are refused like unknown names."""
    try:
        info = codecs.lookup(charset)
    except LookupError:
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True) or info.name in _NOT_TEXT:
        refused = f"unknown charset {charset[:40]!r}; send utf-8 (or another text encoding such as euc-kr)"
        raise UnsupportedMediaType(refused, field="content-type") from None
    return info.name


#: Codecs that are registered as text encodings but are not character sets a request can declare.
_NOT_TEXT = frozenset({"rot-13", "idna", "punycode", "raw-unicode-escape", "unicode-escape", "undefined"})


def _parse_form(text: str, encoding: str, source: str, max_fields: int) -> dict[str, Any]:
    try:
        pairs = parse_form(text, encoding, max_fields)
    except UnicodeDecodeError:
        raise InvalidPayload(f"the {source} is not valid {encoding} after percent-decoding", field=source) from None
    except ValueError:
        raise InvalidPayload(f"the {source} has more than {max_fields} fields", field=source) from None
    variables: dict[str, Any] = dict(pairs)
    if len(variables) != len(pairs):  # a name given twice: harmless when the values agree
        for name, value in pairs:
            if variables[name] is not CONFLICTING and variables[name] != value:
                variables[name] = CONFLICTING
    return variables


def _reject_constant(name: str) -> Any:
    raise InvalidPayload(f"JSON number {name} is not allowed", field="json_data")


def _load_json(text: str, field: str) -> dict[str, Any]:
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise InvalidPayload(f"{field} is nested too deeply", field=field) from None
    except ValueError as exc:  # JSONDecodeError, and int() refusing thousands of digits
        message = exc.msg if isinstance(exc, json.JSONDecodeError) else "a number is too long"
        raise InvalidPayload(f"{field} is not valid JSON: {message}", field=field) from None
    if not isinstance(value, dict):
        raise InvalidPayload(f"{field} must be a JSON object", field=field)
    refuse_lone_surrogates(text, value, field)
    return value


def decode_request(raw: RawCallback, settings: Settings) -> dict[str, Any]:
    """Decode body and query into one mapping of variables (body wins over query)."""
    if len(raw.body) > settings.max_body_bytes:
        raise PayloadTooLarge(f"body is {len(raw.body)} bytes; the limit is {settings.max_body_bytes}", field="body")
    media, charset = _media_type(raw.content_type)
    max_fields = 2 * settings.max_block_count + 300
    variables: dict[str, Any] = _parse_form(raw.query, "utf-8", "query", max_fields) if raw.query else {}
    if not raw.body.strip():
        if media not in ("", "application/x-www-form-urlencoded", "application/json"):
            raise UnsupportedMediaType(f"content type {media[:80]!r} is not accepted", field="content-type")
        return variables
    encoding = _codec(charset)
    try:
        text = raw.body.decode(encoding)
    except UnicodeDecodeError:
        raise InvalidPayload(f"the body is not valid {encoding}", field="body") from None
    if media == "application/x-www-form-urlencoded":
        variables.update(_parse_form(text, encoding, "body", max_fields))
    elif media == "application/json" or media.endswith("+json"):
        document = _load_json(text, "body")
        if not ("json_data" in document or _FLAT_HINTS & document.keys()) and _JSON_DATA_HINTS & document.keys():
            document = {"json_data": document}  # the body is json_data itself
        variables.update(document)
    else:
        raise UnsupportedMediaType(
            "send application/x-www-form-urlencoded (what the Kollus player sends) or application/json",
            field="content-type",
        )
    return variables


_JSON_DATA_HINTS = {"user_info", "content_info", "block_info"}
_FLAT_HINTS = {"client_user_id", "media_content_key", "start_at", "block_cnt"}


def _section(document: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = document.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidPayload(f"json_data.{key} must be an object", field=f"json_data.{key}")
    return value


# --- building the Callback ----------------------------------------------------------------------


def _json_blocks(block_info: Mapping[str, Any], block_count: int) -> dict[int, BlockReport]:
    blocks = block_info.get("blocks")
    if blocks is None:
        return {}
    if not isinstance(blocks, dict):
        raise InvalidPayload("json_data.block_info.blocks must be an object", field="json_data.block_info.blocks")
    parts: dict[int, list[float | None]] = {}  # block index -> [played flag, seconds, percent]
    for key, value in blocks.items():
        known = _BLOCK_KEYS.get(key)
        if known is None:
            known = _block_key(key)
            if known is None:
                continue  # unknown keys are tolerated for forward compatibility
        slot, index = known
        if index >= block_count:
            raise InvalidPayload(
                f"block {index} is outside the block count {block_count}", field=f"json_data.block_info.blocks.{key}"
            )
        kind = type(value)
        if (kind is float or kind is int) and 0 <= value <= MAX_NUMBER:
            number: float | None = float(value)  # the common case, inline: a callback carries thousands
        else:
            number = read_number(value, f"json_data.block_info.blocks.{key}")
        part = parts.get(index)
        if part is None:
            part = parts[index] = [None, None, None]
        part[slot] = number
    return _block_reports(parts)


def _block_reports(parts: Mapping[int, list[float | None]]) -> dict[int, BlockReport]:
    """Block index -> [played flag, seconds, percent] as reports: played when any of them is non-zero."""
    new = tuple.__new__  # a BlockReport per block, built without a call per block
    return {index: new(BlockReport, (bool(flag or seconds or share), seconds, share))
            for index, (flag, seconds, share) in parts.items()}  # fmt: skip


def _block_key(key: object) -> tuple[int, int] | None:
    """(slot, block index) of a `blocks` key such as `t17`; None for a key that is not one."""
    slot = _BLOCK_SLOTS.get(key[:1]) if isinstance(key, str) else None
    digits = key[1:] if isinstance(key, str) and slot is not None else ""
    if slot is None or not (0 < len(digits) <= 6 and digits.isascii() and digits.isdigit()):
        return None
    known = (slot, int(digits))
    if len(_BLOCK_KEYS) < _BLOCK_KEYS_KEPT:
        _BLOCK_KEYS[key] = known  # type: ignore[index]
    return known


def _flat_blocks(variables: Mapping[str, Any], settings: Settings, block_count: int) -> dict[int, BlockReport]:
    prefixes = {
        _BLOCK_SLOTS["b"]: settings.field_name("block_play_"),
        _BLOCK_SLOTS["t"]: settings.field_name("block_time_"),
    }
    parts: dict[int, list[float | None]] = {}  # as in `_json_blocks`
    for slot, prefix in prefixes.items():
        for key, value in variables.items():
            if not key.startswith(prefix):
                continue
            suffix = key[len(prefix) :]
            if not ascii_digits(suffix) or len(suffix) > 6:
                continue
            number = int(suffix)
            if number < 1 or number > block_count:
                raise InvalidPayload(
                    f"{key} is outside the block count {block_count} (flat blocks are 1-based)", field=key
                )
            parts.setdefault(number - 1, [None, None, None])[slot] = read_number(value, key)
    return _block_reports(parts)


def _uservalues(variables: Mapping[str, Any], json_values: Mapping[str, Any], settings: Settings) -> dict[str, str]:
    prefix = settings.field_name("uservalue")
    values: dict[str, str] = {}
    for key, value in variables.items():
        if key.startswith(prefix) and ascii_digits(key[len(prefix) :]) and int(key[len(prefix) :]) <= 99:
            text = read_text(value, key, MAX_USERVALUE_LENGTH)
            if text is not None:
                values[f"uservalue{int(key[len(prefix) :])}"] = text
    for key, value in json_values.items():
        match = _USERVALUE.match(key)
        if match:
            text = read_text(value, f"json_data.uservalues.{key}", MAX_USERVALUE_LENGTH)
            if text is not None:
                values[f"uservalue{int(match.group(1))}"] = text
    return values


def parse_callback(raw: RawCallback, settings: Settings) -> Callback:
    """Parse one callback request. Raises `InvalidPayload` (and friends) with the offending field."""
    variables = decode_request(raw, settings)
    flat = settings.field_name
    document: Mapping[str, Any] = {}
    json_data = variables.get(flat("json_data"))
    refuse_conflict(json_data, "json_data")
    if isinstance(json_data, dict):
        document = json_data
    elif not is_absent(json_data):
        if not isinstance(json_data, str):
            raise InvalidPayload("json_data must be a JSON object", field="json_data")
        document = _load_json(json_data, "json_data")
    user = _section(document, "user_info")
    content = _section(document, "content_info")
    block_info = _section(document, "block_info")

    def pick(section: Mapping[str, Any], json_key: str, flat_key: str) -> tuple[Any, str]:
        value = section.get(json_key)
        if not is_absent(value):
            return value, f"json_data.{json_key}"
        return variables.get(flat(flat_key)), flat(flat_key)

    def required_text(section: Mapping[str, Any], json_key: str, flat_key: str) -> str:
        value, field = pick(section, json_key, flat_key)
        text = read_text(value, field)
        if not text:
            raise InvalidPayload(f"{flat(flat_key)} is required", field=flat(flat_key))
        return text

    client_user_id = required_text(user, "client_user_id", "client_user_id")
    media_content_key = required_text(content, "media_content_key", "media_content_key")
    start_at = read_integer(*pick(content, "start_at", "start_at"), limit=MAX_START_AT)
    if start_at is None:
        raise InvalidPayload(f"{flat('start_at')} is required", field=flat("start_at"))
    block_count = read_count(*pick(block_info, "block_count", "block_cnt"))
    if block_count is None:
        raise InvalidPayload(f"{flat('block_cnt')} (or json_data block_count) is required", field=flat("block_cnt"))
    if not 1 <= block_count <= settings.max_block_count:
        raise InvalidPayload(
            f"block count {block_count} is outside 1..{settings.max_block_count}", field=flat("block_cnt")
        )
    duration = read_number(*pick(content, "duration", "duration"))

    blocks = _json_blocks(block_info, block_count) if block_info.get("blocks") is not None else {}
    if not blocks:
        blocks = _flat_blocks(variables, settings, block_count)

    device_value = user.get("device") if not is_absent(user.get("device")) else user.get("device_name")
    json_uservalues = document.get("uservalues") or {}
    if not isinstance(json_uservalues, dict):
        raise InvalidPayload("json_data.uservalues must be an object", field="json_data.uservalues")

    return Callback(
        client_user_id=client_user_id,
        media_content_key=media_content_key,
        start_at=start_at,
        player_id=read_text(*pick(user, "player_id", "player_id")) or "",
        hardware_id=read_text(*pick(user, "hardware_id", "hardware_id")),
        block_count=block_count,
        duration=duration or None,  # 0 means "no usable duration"
        blocks=blocks,
        serial=read_integer(content.get("serial"), "json_data.serial"),
        play_time=read_number(*pick(content, "playtime", "play_time")),
        real_play_time=read_number(*pick(content, "real_playtime", "real_playtime")),
        playtime_percent=read_number(*pick(content, "playtime_percent", "playtime_percent")),
        last_play_at=read_number(*pick(content, "last_play_at", "last_play_at")),
        run_time=read_number(*pick(content, "runtime", "run_time")),
        show_time=read_number(*pick(content, "showtime", "show_time")),
        play_status=read_text(variables.get(flat("play_status")), flat("play_status")),
        host_name=read_text(*pick(user, "host_name", "host_name")),
        device=read_text(device_value, "json_data.device"),
        encoding_profile=read_text(*pick(content, "encoding_profile", "encoding_profile_key")),
        channel_key=read_text(content.get("channel_key"), "json_data.channel_key"),
        uservalues=_uservalues(variables, json_uservalues, settings),
    )
