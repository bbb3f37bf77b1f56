"""The protocol's two error types: a malformed x402 message, and a payment that cannot be built.

    ProtocolError (ValueError)       a header or body that cannot be read as an x402 message;
                                     `.reason` is the x402 reason string, `.message` says what
                                     was wrong (bad base64, bad JSON, missing field, wrong type)
    BuildError (ValueError)          requirements the exact-SVM client (exact_svm/client.py)
                                     cannot turn into a transaction (no extra.feePayer, a bad
                                     address, a memo too long, ...); the payer raises it as its
                                     own PaymentBuildError (a subclass)

Checks that fail on a well-formed message are not exceptions: they are VerifyResponse values.
"""

from __future__ import annotations

import reprlib
from typing import Any

from pydantic import ValidationError

from sandbox.protocol import reasons


class ProtocolError(ValueError):
    def __init__(self, message: str, reason: str = reasons.INVALID_PAYLOAD) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class BuildError(ValueError):
    """A payment the exact-SVM client cannot build; the message names what is wrong."""


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlong = 40
_REPR.maxlevel = 2


def short_repr(value: Any) -> str:
    """repr() for error messages: a client's value, cut short (a 5,000-digit string or a
    nested object is not echoed back whole)."""
    try:
        return _REPR.repr(value)
    except (ValueError, RecursionError):  # an int past Python's 4,300-digit str() limit
        return f"<{type(value).__name__}>"


def _location(loc: tuple) -> str:
    return ".".join(str(part) for part in loc) or "(root)"


def describe_validation_error(error: ValidationError, what: str) -> str:
    """Turn pydantic's report into one line naming the first few problems by field path."""
    parts = []
    for item in error.errors(include_url=False)[:3]:
        where = _location(item["loc"])
        kind = item["type"]
        if kind == "missing":
            parts.append(f"missing field '{where}'")
        elif kind == "literal_error":
            parts.append(f"unsupported value at '{where}': {item['msg']}")
        elif kind.endswith("_type") or kind in ("model_type", "dict_type", "list_type"):
            parts.append(f"wrong type at '{where}': {item['msg']}")
        else:
            parts.append(f"invalid '{where}': {item['msg']}")
    more = len(error.errors()) - len(parts)
    suffix = f" (and {more} more)" if more > 0 else ""
    return f"{what}: " + "; ".join(parts) + suffix
