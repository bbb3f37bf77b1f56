"""Reading JSON-RPC positional params, with -32602 errors that name the parameter at fault."""

from __future__ import annotations

from typing import Any

from solders.pubkey import Pubkey
from solders.signature import Signature

from .errors import RpcError, shown

__all__ = [
    "COMMITMENTS",
    "commitment_of",
    "config_at",
    "int_at",
    "max_supported_version",
    "min_context_slot",
    "nested_deeper_than",
    "pubkey_at",
    "pubkey_from",
    "require",
    "signature_from",
    "slot_at",
    "str_at",
]

COMMITMENTS = ("processed", "confirmed", "finalized")
# Older names still sent by some clients.
_COMMITMENT_ALIASES = {
    "recent": "processed",
    "single": "confirmed",
    "singleGossip": "confirmed",
    "root": "finalized",
    "max": "finalized",
}


def require(params: list, index: int, name: str) -> Any:
    if index >= len(params) or params[index] is None:
        raise RpcError.invalid_params(f"missing parameter `{name}` (position {index})")
    return params[index]


def str_at(params: list, index: int, name: str) -> str:
    value = require(params, index, name)
    if not isinstance(value, str):
        raise RpcError.invalid_params(f"`{name}` must be a string, got {type(value).__name__}")
    return value


def int_at(params: list, index: int, name: str, *, minimum: int = 0) -> int:
    value = require(params, index, name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise RpcError.invalid_params(f"`{name}` must be an integer, got {shown(value)}")
    if value < minimum:
        raise RpcError.invalid_params(f"`{name}` must be >= {minimum}, got {value}")
    return value


def pubkey_from(value: Any, name: str) -> Pubkey:
    if not isinstance(value, str):
        raise RpcError.invalid_params(f"`{name}` must be a base58 public key string")
    try:
        return Pubkey.from_string(value)
    except ValueError:
        raise RpcError.invalid_params(
            f"`{name}` is not a valid public key: {shown(value)}"
        ) from None


def pubkey_at(params: list, index: int, name: str) -> Pubkey:
    return pubkey_from(require(params, index, name), name)


def signature_from(value: Any, name: str) -> Signature:
    if not isinstance(value, str):
        raise RpcError.invalid_params(f"`{name}` must be a base58 signature string")
    try:
        return Signature.from_string(value)
    except ValueError:
        raise RpcError.invalid_params(
            f"`{name}` is not a valid signature: {shown(value)}"
        ) from None


def config_at(params: list, index: int) -> dict:
    """The optional trailing config object (absent or null means defaults)."""
    if index >= len(params) or params[index] is None:
        return {}
    value = params[index]
    if not isinstance(value, dict):
        raise RpcError.invalid_params(f"`config` (position {index}) must be an object")
    return value


def commitment_of(config: dict, default: str = "finalized") -> str:
    value = config.get("commitment")
    if value is None:
        return default
    if isinstance(value, str):
        if value in COMMITMENTS:
            return value
        if value in _COMMITMENT_ALIASES:
            return _COMMITMENT_ALIASES[value]
    raise RpcError.invalid_params(
        f"`commitment` must be one of processed, confirmed, finalized; got {shown(value)}"
    )


def min_context_slot(config: dict) -> int | None:
    """`minContextSlot` from a config object: None when absent, else a slot (u64) number."""
    value = config.get("minContextSlot")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**64:
        raise RpcError.invalid_params(
            f"`minContextSlot` must be a slot number (integer >= 0), got {shown(value)}"
        )
    return value


def max_supported_version(config: dict) -> int | None:
    """`maxSupportedTransactionVersion`: None when absent, else a version number (u8)."""
    value = config.get("maxSupportedTransactionVersion")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 255:
        raise RpcError.invalid_params(
            f"`maxSupportedTransactionVersion` must be a version number (0), got {shown(value)}"
        )
    return value


def slot_at(params: list, index: int, name: str) -> int:
    """A slot number (u64) at `index`."""
    value = int_at(params, index, name)
    if value >= 2**64:
        raise RpcError.invalid_params(f"`{name}` must be a slot number (u64), got {shown(value)}")
    return value


def nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether `value` (parsed JSON) holds arrays or objects nested more than `limit` deep."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = item.values()
        elif not isinstance(item, list):
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in item if isinstance(child, list | dict))
    return False
