"""Reading JSON-RPC positional params, with -32602 errors that name the parameter at fault."""

from __future__ import annotations

from typing import Any

from solders.pubkey import Pubkey
from solders.signature import Signature

from .errors import RpcError

__all__ = [
    "COMMITMENTS",
    "commitment_of",
    "config_at",
    "int_at",
    "pubkey_at",
    "pubkey_from",
    "require",
    "signature_from",
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
        raise RpcError.invalid_params(f"`{name}` must be an integer, got {value!r}")
    if value < minimum:
        raise RpcError.invalid_params(f"`{name}` must be >= {minimum}, got {value}")
    return value


def pubkey_from(value: Any, name: str) -> Pubkey:
    if not isinstance(value, str):
        raise RpcError.invalid_params(f"`{name}` must be a base58 public key string")
    try:
        return Pubkey.from_string(value)
    except ValueError:
        raise RpcError.invalid_params(f"`{name}` is not a valid public key: {value!r}") from None


def pubkey_at(params: list, index: int, name: str) -> Pubkey:
    return pubkey_from(require(params, index, name), name)


def signature_from(value: Any, name: str) -> Signature:
    if not isinstance(value, str):
        raise RpcError.invalid_params(f"`{name}` must be a base58 signature string")
    try:
        return Signature.from_string(value)
    except ValueError:
        raise RpcError.invalid_params(f"`{name}` is not a valid signature: {value!r}") from None


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
    if value in COMMITMENTS:
        return value
    if value in _COMMITMENT_ALIASES:
        return _COMMITMENT_ALIASES[value]
    raise RpcError.invalid_params(
        f"`commitment` must be one of processed, confirmed, finalized; got {value!r}"
    )
