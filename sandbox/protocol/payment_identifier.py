"""The `payment-identifier` extension (specs/extensions/payment_identifier.md): an idempotency key
a client puts in its payment, so that a resend after a lost answer gets that answer back instead
of a second charge.

    402        extensions["payment-identifier"] = {"info": {"required": bool}, "schema": {...}}
    payment    extensions["payment-identifier"]["info"]["id"]: 16-128 chars of [A-Za-z0-9_-]

A server or facilitator binds an id to the exact payload that first carried it
(`payload_fingerprint`): the same payload again is a resend (the first answer), another payload
with that id is a conflict (409). The stores live with their components (sandbox/payment_ids.py).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

import orjson

from sandbox.protocol import reasons
from sandbox.protocol.errors import ProtocolError, short_repr

__all__ = [
    "EXTENSION",
    "ID_RULE",
    "SCHEMA",
    "declaration",
    "new_payment_id",
    "payload_fingerprint",
    "read_payment_id",
    "valid_payment_id",
    "with_payment_id",
]

EXTENSION = "payment-identifier"
ID_RULE = "16 to 128 characters, each a letter, a digit, '-' or '_'"
_ID = re.compile(r"[A-Za-z0-9_-]{16,128}")

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "required": {"type": "boolean"},
        "id": {"type": "string", "minLength": 16, "maxLength": 128, "pattern": "^[A-Za-z0-9_-]+$"},
    },
    "required": ["required"],
}


def declaration(required: bool) -> dict[str, Any]:
    """What a 402 puts under extensions["payment-identifier"]."""
    return {"info": {"required": required}, "schema": SCHEMA}


def new_payment_id() -> str:
    """A fresh id, as the spec recommends: a prefixed UUID v4 (36 characters)."""
    return f"pay_{uuid.uuid4().hex}"


def valid_payment_id(value: str) -> bool:
    return bool(_ID.fullmatch(value))


def read_payment_id(extensions: Any) -> str | None:
    """The id a payment's `extensions` carries, None when it carries none; ProtocolError (400)
    when the extension is there but malformed, naming what is wrong."""
    if extensions is None:
        return None
    if not isinstance(extensions, dict):
        raise _bad(f"extensions must be an object, got {short_repr(extensions)}")
    entry = extensions.get(EXTENSION)
    if entry is None:
        return None
    if not isinstance(entry, dict) or not isinstance(entry.get("info"), dict):
        raise _bad(f'extensions["{EXTENSION}"] must be an object with an "info" object')
    value = entry["info"].get("id")
    if value is None:
        return None
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise _bad(f'extensions["{EXTENSION}"].info.id must be {ID_RULE}; got {short_repr(value)}')
    return value


def with_payment_id(extensions: dict | None, payment_id: str, required: bool = False) -> dict:
    """A payment's `extensions` with the id added (the client's side): the 402's declaration
    echoed with `info.id` set; other extensions kept as they are."""
    if not _ID.fullmatch(payment_id):
        raise ValueError(f"a payment id must be {ID_RULE}; got {short_repr(payment_id)}")
    out = dict(extensions or {})
    out[EXTENSION] = {"info": {"required": required, "id": payment_id}, "schema": SCHEMA}
    return out


def payload_fingerprint(wire: dict[str, Any]) -> str:
    """SHA-256 of the payload's canonical JSON (sorted keys): the same payment re-encoded has
    the same fingerprint; any change to it (another transaction, other terms) does not."""
    return hashlib.sha256(orjson.dumps(wire, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _bad(message: str) -> ProtocolError:
    return ProtocolError(message, reason=reasons.INVALID_PAYMENT_IDENTIFIER)
