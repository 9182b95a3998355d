"""How raw callback bodies are kept in the table: deflated against a preset dictionary.

A callback is a few kilobytes of the same percent-encoded names (`%22block_count%22%3A`, `b17`,
`t17`, ...). Plain zlib has to spell them out once per body; a preset dictionary of a typical callback
lets the first occurrence be a back-reference too. That keeps a session snapshot within one DynamoDB
write unit (1 KB): the benchmark's callbacks deflate to a median of 168 bytes instead of zlib's 598.

Format: a blob starting with byte 0x01 is raw deflate against `DICTIONARY_V1`; anything else is a
zlib stream (how bodies were kept before, and what `unpack` still reads). The dictionary is frozen:
stored blobs depend on every byte of it (a test pins its digest). A better one is a new version byte.
"""

from __future__ import annotations

import json
import zlib
from urllib.parse import quote, quote_plus

_V1 = b"\x01"
_RAW_DEFLATE = -15  # wbits: no zlib header or checksum (DynamoDB keeps the bytes intact)


def _dictionary_v1() -> bytes:
    # A typical callback in its wire forms, the most common last (deflate reaches nearer bytes more
    # cheaply): flat variables, a JSON body, then `json_data` form-encoded as the player sends it.
    blocks: dict[str, int | float] = {}
    for block in range(100):
        blocks.update({f"b{block}": 1, f"t{block}": 6.0, f"p{block}": 100})
    document = {
        "user_info": {
            "content_provider_key": "",
            "client_user_id": "",
            "player_id": "",
            "hardware_id": "",
            "host_name": ".video.kr.kollus.com",
            "device": "PC",
        },
        "content_info": {
            "media_content_key": "",
            "channel_key": "",
            "encoding_profile": "",
            "duration": 600.0,
            "start_at": 1700000000,
            "serial": 1,
            "playtime": 0.0,
            "real_playtime": 0.0,
            "playtime_percent": 0,
            "last_play_at": 0.0,
            "runtime": 0.0,
            "showtime": 0.0,
        },
        "block_info": {
            "block_count": 100,
            "blocks": blocks,
            "sessions": [{"block": 0, "start_time": 0, "play_time": 60}],
        },
        "uservalues": {"uservalue0": "", "uservalue99": ""},
    }
    flat = "&".join(
        [f"{name}=" for name in ("client_user_id", "media_content_key", "start_at", "player_id", "duration")]
        + [f"block_play_{block}=1&block_time_{block}=6" for block in range(1, 101)]
        + ["block_cnt=100", "play_time=", "real_playtime=", "last_play_at=", "run_time=", "show_time=", "uservalue0="]
    )
    spaced, compact = json.dumps(document), json.dumps(document, separators=(",", ":"))
    # JSON with and without spaces, percent-encoded with `+` or `%20` for a space.
    encoded = [quote_plus(spaced, safe=""), quote(spaced, safe=""), quote(compact, safe="")]
    return (flat + compact + "".join("json_data=" + text for text in encoded)).encode()


DICTIONARY_V1 = _dictionary_v1()


def pack(body: bytes) -> bytes:
    """A body as kept in the table."""
    deflate = zlib.compressobj(6, zlib.DEFLATED, _RAW_DEFLATE, zdict=DICTIONARY_V1)
    return _V1 + deflate.compress(body) + deflate.flush()


def unpack(blob: bytes) -> bytes:
    """The body `pack` kept (or a zlib stream kept before the dictionary)."""
    if blob[:1] == _V1:
        inflate = zlib.decompressobj(_RAW_DEFLATE, zdict=DICTIONARY_V1)
        return inflate.decompress(blob[1:]) + inflate.flush()
    return zlib.decompress(blob)
