"""Hostile JSON for the fuzzers: values of every shape, nesting 250-1,100 deep, and mutations of
a valid message (fields replaced, deleted or added anywhere in it), plus the ways its text or
its base64 can be broken.

Hypothesis runs the examples and hands each one a `random.Random` seeded under its control
(`st.randoms(use_true_random=True)`: derandomized, the same inputs on every run); `Hostile`
builds the input from it. Drawing every leaf through hypothesis strategies costs 2-5 ms an input,
more than the HTTP round trip, and 10,000 inputs a fuzzer would not fit the time budget.

Encoding goes through the standard library (it writes integers of any size, which orjson does
not), with the recursion limit the fuzz conftest raises for the deep values.
"""

from __future__ import annotations

import base64
import copy
import json
import random
from typing import Any

from hypothesis import strategies as st

RANDOMS = st.randoms(use_true_random=True)

# Keys of x402 messages: an unknown field is as likely as a known one in the wrong place.
KEYS = [
    "x402Version", "paymentPayload", "paymentRequirements", "accepted", "payload", "resource",
    "scheme", "network", "amount", "asset", "payTo", "maxTimeoutSeconds", "extra", "transaction",
    "maxAmountRequired", "extensions", "feePayer", "memo", "url", "description", "mimeType",
    "outputSchema", "isValid", "success", "unknownField", "a", "",
]  # fmt: skip
WORDS = [
    "", " ", "exact", "upto", "solana-devnet", "solana", "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1",
    "eip155:8453", "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU", "1111111111111111111111111111",
    "\x00", "\ufeff", "%s%n", "null", "true", "NaN", "-1", "1e309", "0x10", "\u202e", "é", "💸",
    "\ud800", "\udfff", "a\nb", "\\", '"', "<script>", "../../etc/passwd",
]  # fmt: skip
MAX_HEADER_TEXT = 48_000  # header values stay under the servers' 64 KB header limit


class Hostile:
    """Hostile JSON values drawn from one seeded `random.Random`."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def integer(self) -> int:
        r = self.rng
        return r.choice(
            [
                lambda: r.randint(-10, 10),
                lambda: r.randint(-(2**31), 2**31),
                lambda: (
                    r.choice([2**53, 2**53 + 1, 2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63)])
                    + r.randint(-2, 2)
                ),
                lambda: r.randint(10**20, 10**400),  # past u64, past any float
                lambda: -(10 ** r.randint(1_000, 4_000)),  # up to 4,001 digits
            ]
        )()

    def number(self) -> float | int:
        r = self.rng
        if r.random() < 0.6:
            return self.integer()
        return r.choice([0.5, -0.0, 1e308, -1e308, 5e-324, 1.5, 1e16, r.uniform(-1e9, 1e9)])

    def text(self) -> str:
        r = self.rng
        kind = r.randrange(8)
        if kind == 0:
            return "".join(r.choice(WORDS) for _ in range(r.randint(1, 3)))
        if kind == 1:  # digits of any length ("amounts", 79+ digits included)
            return "".join(r.choice("0123456789") for _ in range(r.randint(1, 120)))
        if kind == 2:
            return r.choice("9é\x00 ") * r.randint(500, 6_000)
        if kind == 3:  # any code point but surrogates, including controls and astral planes
            return "".join(chr(r.choice([r.randint(0, 0xD7FF), r.randint(0xE000, 0x10FFFF)]))
                           for _ in range(r.randint(0, 16)))  # fmt: skip
        return "".join(r.choice("abcxyzABC019_-.:/+= ") for _ in range(r.randint(0, 24)))

    def scalar(self) -> Any:
        r = self.rng
        kind = r.randrange(6)
        if kind == 0:
            return r.choice([None, True, False])
        if kind in (1, 2):
            return self.number()
        return self.text()

    def value(self, budget: int = 10) -> Any:
        """Any JSON value: a scalar, or objects and arrays with up to `budget` nodes."""
        r = self.rng
        roll = r.random()
        if roll < 0.08:
            return self.deep()
        if budget <= 1 or roll < 0.55:
            return self.scalar()
        size = r.randint(0, min(4, budget))
        share = max(1, (budget - 1) // max(size, 1))
        if r.random() < 0.5:
            return [self.value(share) for _ in range(size)]
        return {self.key(): self.value(share) for _ in range(size)}

    def key(self) -> str:
        return self.rng.choice(KEYS) if self.rng.random() < 0.7 else self.text()[:40]

    def deep(self) -> Any:
        """A value nested 250-1,100 deep: objects, arrays or both, around the limits of
        pydantic's serializer (~255), orjson's writer (~254) and orjson's parser (1,024)."""
        r = self.rng
        depth = r.choice([r.randint(250, 260), r.randint(300, 1_000), r.randint(1_020, 1_100)])
        kind = r.choice(["object", "array", "mixed"])
        value = r.choice([1, {}, [], "x", None, 2**70])
        key = r.choice(KEYS)
        for level in range(depth):
            as_object = kind == "object" or (kind == "mixed" and level % 2)
            value = {key: value} if as_object else [value]
        return value

    def shaped(self) -> dict:
        """An object with the keys of an x402 message (some of them), each holding anything."""
        r = self.rng
        value = {key: self.value() for key in r.sample(KEYS, r.randint(0, 8))}
        if r.random() < 0.5:
            value["x402Version"] = r.choice([1, 2])
        if r.random() < 0.3:
            for key in ("paymentPayload", "accepted", "paymentRequirements", "payload"):
                if key in value:
                    value[key] = self.shaped()
        return value

    def mutated(self, valid: Any) -> Any:
        """`valid` with one to three fields replaced, deleted or added, anywhere in it."""
        r = self.rng
        value = copy.deepcopy(valid)
        for _ in range(r.randint(1, 3)):
            path = r.choice(paths(value))
            action = r.choice(["replace", "replace", "delete", "add", "add", "deep"])
            new = self.deep() if action == "deep" else self.value()
            if not path:
                if action == "replace":
                    value = new
                elif isinstance(value, dict):
                    value[self.key()] = new
                continue
            parent = value
            for key in path[:-1]:
                parent = parent[key]
            target = parent[path[-1]]
            if action == "delete":
                del parent[path[-1]]
            elif action in ("add", "deep") and isinstance(target, dict):
                target[self.key()] = new
            elif action in ("add", "deep") and isinstance(target, list):
                target.insert(r.randint(0, len(target)), new)
            else:
                parent[path[-1]] = new
        return value

    def with_deep_field(self, valid: dict) -> dict:
        """`valid` with one value nested 250-1,100 deep put in one of its objects."""
        value = copy.deepcopy(valid)
        objects = [p for p in paths(value) if isinstance(_at(value, p), dict)]
        target = _at(value, self.rng.choice(objects))
        target[self.rng.choice(["unknownField", "a", *target])] = self.deep()
        return value

    def broken_base64(self, raw: bytes) -> bytes:
        """A header value from `raw` (JSON text) that is not clean standard base64."""
        r = self.rng
        encoded = base64.b64encode(raw)
        kind = r.choice(
            ["urlsafe", "unpadded", "spaces", "truncate", "flip", "non-ascii", "bytes", "plain"]
        )
        at = r.randint(0, len(encoded))
        if kind == "urlsafe":
            value = base64.urlsafe_b64encode(raw)
        elif kind == "unpadded":
            value = encoded.rstrip(b"=")
        elif kind == "spaces":
            value = encoded[:at] + r.choice([b" ", b"\t", b" \t ", b"=="]) + encoded[at:]
        elif kind == "truncate":
            value = encoded[:at]
        elif kind == "flip":
            value = encoded[:at] + bytes([r.choice(b"+/=-_.*!A0")]) + encoded[at + 1 :]
        elif kind == "non-ascii":
            value = encoded[:at] + bytes(r.randint(0x80, 0xFF) for _ in range(3)) + encoded[at:]
        elif kind == "bytes":
            value = bytes(r.choice(_HEADER_BYTES) for _ in range(r.randint(1, 200)))
        else:
            value = raw
        return header_safe(value)

    def body_bytes(self, raw: bytes) -> bytes:
        """A request body from `raw` (JSON text) broken as text: cut, bytes changed, BOM,
        invalid UTF-8, trailing data, or replaced by other bytes."""
        r = self.rng
        at = r.randint(0, len(raw))
        kind = r.randrange(7)
        if kind == 0:
            return raw[:at]
        if kind == 1:
            changed = bytearray(raw)
            for _ in range(r.randint(1, 4)):
                if changed:
                    changed[r.randrange(len(changed))] = r.randrange(256)
            return bytes(changed)
        if kind == 2:
            return b"\xef\xbb\xbf" + raw
        if kind == 3:
            return raw[:at] + r.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00"]) + raw[at:]
        if kind == 4:
            return raw + r.choice([b" x", b"}", b"{}", b"\n\n", b"]"])
        if kind == 5:
            return bytes(r.randrange(256) for _ in range(r.randint(0, 300)))
        return r.choice([b"", b"null", b"[]", b"0", b'"x"', b"{", b"{}" * 1000, b"[" * 5000])

    def transaction(self, transaction_b64: str) -> str:
        """The transaction with bytes changed, cut short or extended (base64 kept valid)."""
        r = self.rng
        raw = bytearray(base64.b64decode(transaction_b64))
        kind = r.choice(["bytes", "bytes", "bytes", "cut", "extend", "header"])
        if kind == "cut":
            raw = raw[: r.randint(0, len(raw) - 1)]
        elif kind == "extend":
            raw += bytes(r.randrange(256) for _ in range(r.randint(1, 64)))
        elif kind == "header":  # signature count and message header, where parsers trip
            raw[0] = r.choice([0, 1, 3, 0x7F, 0x80, 0xFF])
        else:
            for _ in range(r.randint(1, 3)):
                raw[r.randrange(len(raw))] = r.randrange(256)
        return base64.b64encode(bytes(raw)).decode("ascii")


_HEADER_BYTES = [9, *range(0x20, 0x7F), *range(0x80, 0x100)]


def header_safe(raw: bytes) -> bytes:
    """`raw` as a header value can carry it: no controls but tab, no outer whitespace, not
    empty, under the header size limit."""
    value = bytes(b for b in raw if b == 9 or 0x20 <= b != 0x7F).strip()
    return value[:MAX_HEADER_TEXT] or b"!"


def paths(value: Any, prefix: tuple = (), depth: int = 8) -> list[tuple]:
    """The paths of a JSON value's nodes down to `depth` levels (the root is ()): deep values
    already added are not walked to their bottom."""
    found = [prefix]
    if len(prefix) >= depth:
        return found
    if isinstance(value, dict):
        for key, inner in value.items():
            found += paths(inner, (*prefix, key), depth)
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            found += paths(inner, (*prefix, i), depth)
    return found


def _at(value: Any, path: tuple) -> Any:
    for key in path:
        value = value[key]
    return value


def dumps(value: Any) -> bytes:
    """JSON text: integers of any size, non-ASCII as UTF-8 (escaped when it holds lone
    surrogates, which UTF-8 cannot carry)."""
    text = json.dumps(value, ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value).encode("ascii")


def b64(raw: bytes) -> bytes:
    """Standard base64, cut to the header size limit (a cut value is just one more bad one)."""
    return base64.b64encode(raw)[:MAX_HEADER_TEXT]
