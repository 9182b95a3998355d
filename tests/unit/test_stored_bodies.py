"""Raw bodies as kept in the table: deflated against a frozen preset dictionary."""

from __future__ import annotations

import hashlib
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kollus_bridge.store.bodies import DICTIONARY_V1, pack, unpack

from tests.payloads import Snapshot

DICTIONARY_V1_SHA256 = "06627d262d6a7df4295ba112b2d5a29f8575e30b4937124b23a07fbc77a5625f"


@given(st.binary(max_size=20_000))
def test_any_body_comes_back_byte_for_byte(body: bytes) -> None:
    assert unpack(pack(body)) == body


def test_bodies_kept_as_zlib_streams_are_still_read() -> None:
    body = Snapshot(block_times={0: 60}).form_body()
    assert unpack(zlib.compress(body)) == body


def test_the_dictionary_is_frozen() -> None:
    # Every stored blob depends on every byte of it: a change makes them unreadable. Add a version instead.
    assert hashlib.sha256(DICTIONARY_V1).hexdigest() == DICTIONARY_V1_SHA256


@pytest.mark.parametrize("form", ["json_data", "flat"])
def test_a_full_hundred_block_callback_fits_one_write_unit(form: str) -> None:
    snapshot = Snapshot(block_count=100, duration=600, block_times={block: 6.0 + block % 7 for block in range(100)})
    body = snapshot.form_body() if form == "json_data" else snapshot.flat_body()
    assert len(body) > 2_000
    assert len(pack(body)) < min(len(zlib.compress(body)), 1024 - 200)  # the rest of the item keeps under 200 bytes
