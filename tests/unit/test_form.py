"""The fast form decoder reads exactly what the standard library reads, error for error."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kollus_bridge.kollus.form import parse_form

FORM_ALPHABET = st.sampled_from([*list('ab=&%+ \r\n_.~-019AFafgz{}":,'), "%3D", "%2", "%e2%82%ac", "%ff", "é", "€"])


def standard(text: str, encoding: str = "utf-8", max_fields: int = 1000) -> object:
    try:
        return parse_qsl(text, keep_blank_values=True, encoding=encoding, errors="strict", max_num_fields=max_fields)
    except (UnicodeDecodeError, ValueError) as error:
        return type(error)


def ours(text: str, encoding: str = "utf-8", max_fields: int = 1000) -> object:
    try:
        return parse_form(text, encoding, max_fields)
    except (UnicodeDecodeError, ValueError) as error:
        return type(error)


@settings(max_examples=500)
@given(st.lists(FORM_ALPHABET, max_size=60).map("".join))
def test_any_text_reads_the_same(text: str) -> None:
    assert ours(text) == standard(text)


@settings(max_examples=300)
@given(st.lists(st.tuples(st.text(max_size=20), st.text(max_size=80)), max_size=8))
def test_encoded_forms_read_the_same(pairs: list[tuple[str, str]]) -> None:
    text = "&".join(f"{quote_plus(name)}={quote_plus(value)}" for name, value in pairs)
    assert ours(text) == standard(text) == pairs  # every pair is at least "=": none is dropped


@pytest.mark.parametrize("text", ["a=1&b=2&c=3", "a=%FF", "a=%zz", "json_data=%7B%22a%22%3A1%7D", "x=%e2%82%ac&y=+"])
def test_examples_and_bounds(text: str) -> None:
    assert ours(text) == standard(text)
    assert ours(text, max_fields=2) == standard(text, max_fields=2)
    assert ours(text, encoding="euc-kr") == standard(text, encoding="euc-kr")
