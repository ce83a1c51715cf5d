"""The compiled core's RFC 8785 canonical JSON gives the `rfc8785` package's bytes, byte for
byte, on 100,000 generated documents, and refuses what it refuses.

The documents are drawn (seeded, so a failure repeats) from where canonicalisers go wrong:
doubles from random bit patterns and at the ends of ECMAScript's plain and exponent forms,
integers at and beyond ±(2^53 - 1), strings with control characters, quotes, backslashes,
characters around U+E000 and beyond the BMP (which sort differently in UTF-16 than in code
points), nested objects and arrays, and tuples and `str` enums as the gate's own code passes.
"""

from __future__ import annotations

import enum
import math
import random
import struct
from typing import Any

import pytest
import rfc8785
import sluicegate_native

DOCUMENTS = 100_000
SAFE = 2**53 - 1
# Characters where escaping and UTF-16 ordering go wrong.
CHARACTERS = (
    [chr(c) for c in range(0x20)]
    + ['"', "\\", "/", "\x7f", "é", "€", "\u2028", "\ud7ff", "\ue000", "\ue001", "\uffff"]
    + ["\U00010000", "\U0001f600", "\U0010ffff", "a", "b", "z", "A", " ", "0"]
)
FLOAT_EDGES = (
    0.0, -0.0, 1.0, -1.0, 0.1, 0.2, 0.3, 1e21, 1e20, 9.999999999999999e20, 1e-6, 1e-7,
    9.99999e-7, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 333333333.3333333,
    2.0**53, 2.0**53 + 2, -(2.0**53), 4.35, 0.000001, 123456789012345680000.0,
)  # fmt: skip


class Colour(enum.StrEnum):
    RED = "red"


def _float(rng: random.Random) -> float:
    pick = rng.random()
    if pick < 0.3:
        return rng.choice(FLOAT_EDGES)
    if pick < 0.6:  # any finite double
        while True:
            value: float = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
            if math.isfinite(value):
                return value
    if pick < 0.8:  # around the switch between plain and exponent forms
        return rng.choice((1, -1)) * rng.random() * 10.0 ** rng.randint(-9, 23)
    return round(rng.uniform(-1e6, 1e6), rng.randint(0, 6))


def _integer(rng: random.Random) -> int:
    if rng.random() < 0.5:
        return rng.choice((1, -1)) * (SAFE - rng.randint(0, 3))
    return rng.randint(-(10**12), 10**12)


def _string(rng: random.Random) -> str:
    return "".join(rng.choice(CHARACTERS) for _ in range(rng.randint(0, 8)))


def _container(rng: random.Random, depth: int) -> Any:
    items = [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    shape = rng.choice(("list", "tuple", "dict", "dict"))
    if shape == "list":
        return items
    if shape == "tuple":
        return tuple(items)
    return {_string(rng): item for item in items}


SCALARS = (
    lambda rng: None,
    lambda rng: rng.random() < 0.5,
    _integer,
    _float,
    _string,
    lambda rng: Colour.RED,
)


def _value(rng: random.Random, depth: int) -> Any:
    if depth < 4 and rng.random() < 0.4:
        return _container(rng, depth)
    return rng.choice(SCALARS)(rng)


def test_the_bytes_equal_rfc8785s_on_generated_documents() -> None:
    rng = random.Random(28)
    for number in range(DOCUMENTS):
        document = _value(rng, 0)
        expected = rfc8785.dumps(document)
        assert sluicegate_native.canonical_json(document) == expected, (number, document)


@pytest.mark.parametrize(
    "value",
    [
        SAFE + 1,
        -SAFE - 1,
        2**64,
        math.nan,
        math.inf,
        -math.inf,
        "\ud800",
        {1: "key not a string"},
        {"nested": [{"bad": math.nan}]},
        b"bytes",
        {1, 2},
    ],
    ids=repr,
)
def test_what_rfc8785_refuses_is_refused(value: Any) -> None:
    with pytest.raises(rfc8785.CanonicalizationError):
        rfc8785.dumps(value)
    with pytest.raises(sluicegate_native.CanonicalizationError):
        sluicegate_native.canonical_json(value)


def test_a_refusal_is_a_value_error() -> None:
    assert issubclass(sluicegate_native.CanonicalizationError, ValueError)
