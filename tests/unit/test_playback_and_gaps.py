"""Signed playback URLs (Kollus Unified JWT), the session nonce, "why not complete", plausibility."""

from __future__ import annotations

import base64
import hashlib
import hmac
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from kollus_bridge.kollus.callback import BlockReport, Callback
from kollus_bridge.kollus.playback import (
    NonceWindow,
    PlaybackRequest,
    claims,
    jwt_hs256,
    playback_url,
    read_nonce,
    sign_nonce,
)
from kollus_bridge.progress.rule import ProgressView, blocks_needed, implausible, missing_ranges

KEY = "kollus-security-key-of-32-bytes!!"
REGISTERED = {"exp", "iat", "nbf", "iss", "aud", "sub", "jti"}


def test_jwt_claims_decode_with_pyjwt_and_carry_no_registered_claim() -> None:
    request = PlaybackRequest("learner-1", "nY3CaQtl", expires_at=1_795_309_200, seek=False, seekable_end=120)
    token = jwt_hs256(claims(request), KEY)
    decoded = jwt.decode(token, KEY, algorithms=["HS256"], options={"verify_exp": False})
    assert decoded == {
        "cuid": "learner-1",
        "expt": 1_795_309_200,
        "mc": [{"mckey": "nY3CaQtl", "seek": False, "seekable_end": 120}],
    }
    assert not REGISTERED & decoded.keys()
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another key that is 32 bytes long", algorithms=["HS256"])


def test_optional_media_claims_appear_only_when_asked() -> None:
    assert claims(PlaybackRequest("u", "m", 1)) == {"cuid": "u", "expt": 1, "mc": [{"mckey": "m"}]}
    assert claims(PlaybackRequest("u", "m", 1, disable_playrate=True))["mc"] == [
        {"mckey": "m", "disable_playrate": True}
    ]


def test_playback_url_shape() -> None:
    url = playback_url("v.kr.kollus.com", "a.b.c", "custom", {"uservalue10": "x", "uservalue2": "course 7"}, 406.7)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "v.kr.kollus.com", "/s")
    assert parse_qs(parts.query) == {
        "jwt": ["a.b.c"], "custom_key": ["custom"], "uservalue2": ["course 7"], "uservalue10": ["x"], "t": ["406"],
    }  # fmt: skip
    assert "t" not in parse_qs(urlsplit(playback_url("h", "a.b.c", "k", {}, None)).query)


def test_nonce_binds_learner_content_and_validity() -> None:
    nonce = sign_nonce("ours", "learner-1", "content-1", issued_at=1000, expires_at=4600)
    assert nonce.startswith("v3.1000.4600.")
    assert sign_nonce("ours", "learner-1", "content-1", 1000, 4600) != nonce  # each page load its own
    assert read_nonce(["ours"], "learner-1", "content-1", nonce, now=5000) == NonceWindow(1000, 4600)
    assert read_nonce(["new", "ours"], "learner-1", "content-1", nonce, now=5000)  # during key rotation
    assert read_nonce(["ours"], "learner-2", "content-1", nonce, now=5000) is None
    assert read_nonce(["ours"], "learner-1", "content-2", nonce, now=5000) is None
    assert read_nonce(["other"], "learner-1", "content-1", nonce, now=5000) is None
    assert read_nonce(["ours"], "learner-1", "content-1", nonce, now=0) is None  # issued in the future
    longer = nonce.replace(".4600.", ".99999.")  # a longer validity than signed
    earlier = nonce.replace("v3.1000.", "v3.999.")
    renamed = ".".join([*nonce.split(".")[:3], "AAAAAAAAAAAA", nonce.split(".")[4]])  # another page load's id
    for bad in (
        longer,
        earlier,
        renamed,
        "",
        "v2",
        "v2.1000.x",
        "v2.x.y.z",
        "v2.1000.900.x",
        "v2.1000.4600.%%%",
        nonce[:-2],
    ):
        assert read_nonce(["ours"], "learner-1", "content-1", bad, now=5000) is None


def test_a_v2_nonce_without_an_id_is_still_read() -> None:
    message = b'["learner-1","content-1",1000,4600]'
    mac = base64.urlsafe_b64encode(hmac.new(b"ours", message, hashlib.sha256).digest()[:18]).decode().rstrip("=")
    assert read_nonce(["ours"], "learner-1", "content-1", f"v2.1000.4600.{mac}", now=5000) == NonceWindow(1000, 4600)


def test_a_v1_nonce_is_valid_for_the_longest_url() -> None:
    """Nonces issued before they carried their expiry: `v1.<issued_at>.<mac>`, the MAC over
    [learner, content, issued_at], 18 bytes of HMAC-SHA256, base64url without padding."""
    message = b'["learner-1","content-1",1000]'
    mac = base64.urlsafe_b64encode(hmac.new(b"ours", message, hashlib.sha256).digest()[:18]).decode().rstrip("=")
    window = read_nonce(["ours"], "learner-1", "content-1", f"v1.1000.{mac}", now=5000)
    assert window == NonceWindow(1000, 1000 + 86_400)
    assert read_nonce(["ours"], "learner-2", "content-1", f"v1.1000.{mac}", now=5000) is None
    assert read_nonce(["ours"], "learner-1", "content-1", f"v1.1001.{mac}", now=5000) is None


def view(watched: set[int], block_count: int = 10, duration: float | None = 600.0) -> ProgressView:
    return ProgressView(
        block_count=block_count, duration=duration, watched_blocks=len(watched),
        progress=Decimal(10000 * len(watched) // block_count) / 100, completed=False, completed_at=None,
        last_position=None, play_time=0, real_play_time=0, sessions=1, updated_at=None, watched=frozenset(watched),
    )  # fmt: skip


def test_missing_ranges_are_merged_in_content_time() -> None:
    assert missing_ranges(view({0, 1, 5, 6, 7})) == [(120.0, 300.0), (480.0, 600.0)]
    assert missing_ranges(view(set(range(10)))) == []
    assert missing_ranges(view(set(), block_count=3, duration=10.0)) == [(0.0, 10.0)]
    assert missing_ranges(view({1}, block_count=3, duration=10.0)) == [(0.0, 3.333), (6.667, 10.0)]
    assert missing_ranges(view({0}, duration=None)) is None


def test_blocks_needed_reaches_the_threshold_exactly() -> None:
    assert blocks_needed(view({0, 1, 2}), 90) == 6
    assert blocks_needed(view(set(range(9))), 90) == 0
    assert blocks_needed(view(set(), block_count=3), 66.67) == 3  # 2 of 3 is 66.66: one more is needed
    assert blocks_needed(view(set(), block_count=3), 66.66) == 2
    assert blocks_needed(view(set(), block_count=7), 100) == 7


def test_implausibly_fast_sessions_are_flagged() -> None:
    def callback(play_time: float | None, run_time: float | None) -> Callback:
        return Callback(
            client_user_id="u", media_content_key="m", start_at=1, block_count=1,
            play_time=play_time, run_time=run_time, blocks={0: BlockReport(True)},
        )  # fmt: skip

    assert not implausible(callback(600, 300), 2.0)  # 2x for five minutes
    assert not implausible(callback(650, 300), 2.0)  # within the slack
    assert implausible(callback(3600, 300), 2.0)  # an hour of content in five minutes
    assert not implausible(callback(3600, None), 2.0)  # no wall-clock time: no judgement
