"""Typed attribute values without boto3: both directions equal to boto3's own on generated values."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from hypothesis import given
from hypothesis import strategies as st
from kollus_bridge.store.attributes import deserialize, serialize

numbers = st.one_of(
    st.integers(-(10**37), 10**37),
    st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-(10**20), max_value=10**20),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=20), st.binary(max_size=20))
values = st.recursive(
    st.one_of(
        scalars,
        st.frozensets(st.text(max_size=5), min_size=1, max_size=4).map(set),
        st.frozensets(st.integers(-1000, 1000), min_size=1, max_size=4).map(set),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)


def plain(value: Any) -> Any:
    """boto3's read-back values in plain terms (it wraps binary in a class of its own)."""
    if isinstance(value, dict):
        return {name: plain(item) for name, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, set):
        return {plain(item) for item in value}
    return value.value if hasattr(value, "value") and not isinstance(value, (str, bytes, Decimal)) else value


@given(values)
def test_both_directions_match_boto3(value: Any) -> None:
    typed = TypeSerializer().serialize(value)
    ours, theirs = serialize(value), dict[str, Any](typed)
    if isinstance(value, set):  # a set's members may come in any order
        members: dict[str, set[Any]] = {kind: set(items) for kind, items in ours.items()}
        assert members == {kind: set(items) for kind, items in theirs.items()}
    else:
        assert ours == theirs
    assert deserialize(theirs) == plain(TypeDeserializer().deserialize(typed))


def test_what_dynamodb_cannot_hold_is_refused_as_boto3_refuses_it() -> None:
    inexact = Decimal("0.1234567890123456789012345678901234567891")  # 40 digits
    refused: list[tuple[Any, type[Exception]]] = [
        (1.5, TypeError), ({1, "a"}, TypeError), (object(), TypeError),
        (Decimal("1e200"), ArithmeticError), (inexact, ArithmeticError),
    ]  # fmt: skip
    for bad, refusal in refused:
        with pytest.raises(refusal):
            serialize(bad)
        with pytest.raises(refusal):
            TypeSerializer().serialize(bad)
    assert serialize(set()) == TypeSerializer().serialize(set())
    with pytest.raises(TypeError, match="exactly one type"):
        deserialize({"S": "a", "N": "1"})
