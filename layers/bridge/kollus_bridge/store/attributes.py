"""DynamoDB attribute values to Python values and back, as boto3's `TypeSerializer` and
`TypeDeserializer` map them (numbers as `Decimal` in DynamoDB's number context, sets as sets; binary
is read back as plain bytes, where boto3 wraps it), without importing boto3: boto3 pulls in
s3transfer and a session of its own, which the callback and play functions' cold start would pay for
nothing (docs/benchmarks.md). The client itself is botocore's. A test holds both directions equal to
boto3's on generated values.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from decimal import Clamped, Context, Decimal, Inexact, Overflow, Rounded, Underflow
from typing import Any

#: DynamoDB's numbers: 38 digits, exponents -128..126; an inexact or rounded number is refused.
NUMBER_CONTEXT = Context(Emin=-128, Emax=126, prec=38, traps=[Clamped, Overflow, Inexact, Rounded, Underflow])


def _number(value: Any) -> str:
    if isinstance(value, float):
        raise TypeError("Float types are not supported. Use Decimal types instead.")
    return str(NUMBER_CONTEXT.create_decimal(value))


def serialize(value: Any) -> dict[str, Any]:
    """One Python value as a typed attribute value."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, Decimal, float)):
        return {"N": _number(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, (bytes, bytearray)):
        return {"B": bytes(value)}
    if isinstance(value, Set):
        return _set(value)
    if isinstance(value, Mapping):
        return {"M": {str(name): serialize(item) for name, item in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [serialize(item) for item in value]}
    raise TypeError(f"Unsupported type {type(value)!r} for value {value!r}")


def _set(values: Set[Any]) -> dict[str, Any]:
    if not values:  # as boto3 has it (DynamoDB refuses an empty set on write)
        return {"NS": []}
    if all(isinstance(item, (int, Decimal)) and not isinstance(item, bool) for item in values):
        return {"NS": [_number(item) for item in values]}
    if all(isinstance(item, str) for item in values):
        return {"SS": list(values)}
    if all(isinstance(item, (bytes, bytearray)) for item in values):
        return {"BS": [bytes(item) for item in values]}
    raise TypeError(f"Unsupported set {values!r}: a set holds numbers, strings or binary")


def deserialize(value: Mapping[str, Any]) -> Any:
    """One typed attribute value as a Python value."""
    if len(value) != 1:
        raise TypeError(f"an attribute value has exactly one type, not {sorted(value)}")
    [(kind, data)] = value.items()
    if kind == "NULL":
        return None
    if kind in ("S", "BOOL"):
        return data
    if kind == "N":
        return NUMBER_CONTEXT.create_decimal(data)
    if kind == "B":
        return bytes(data)
    if kind == "SS":
        return set(data)
    if kind == "NS":
        return {NUMBER_CONTEXT.create_decimal(item) for item in data}
    if kind == "BS":
        return {bytes(item) for item in data}
    if kind == "L":
        return [deserialize(item) for item in data]
    if kind == "M":
        return {name: deserialize(item) for name, item in data.items()}
    raise TypeError(f"DynamoDB type {kind!r} is not supported")
