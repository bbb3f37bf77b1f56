"""The "bank data" RPC family: blockhashes, fees, rent, prioritization fees."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import base58
from solders.hash import Hash
from solders.message import from_bytes_versioned

from sandbox.protocol.programs import COMPUTE_BUDGET_PROGRAM_ID

from .errors import RpcError, shown
from .node import ChainNode
from .params import commitment_of, config_at, int_at, require, str_at

__all__ = ["METHODS", "fee_for_message"]

LAMPORTS_PER_SIGNATURE = 5000
DEFAULT_UNITS_PER_INSTRUCTION = 200_000
MAX_UNITS = 1_400_000


def get_latest_blockhash(node: ChainNode, params: list) -> dict[str, Any]:
    commitment = commitment_of(config_at(params, 0))
    producer = node.producer
    blockhash = producer.blockhash_for(commitment)  # the newest of a block at that level
    return {
        "context": node.context(commitment),
        "value": {
            "blockhash": str(blockhash),
            "lastValidBlockHeight": producer.last_valid_block_height(blockhash),
        },
    }


def _hash_at(params: list, index: int, name: str) -> Hash:
    value = str_at(params, index, name)
    try:
        if len(value) > 44 or len(base58.b58decode(value)) != 32:
            raise ValueError("not 32 bytes")
        return Hash.from_string(value)
    except ValueError:
        raise RpcError.invalid_params(
            f"`{name}` is not a valid base58 hash: {shown(value)}"
        ) from None


def is_blockhash_valid(node: ChainNode, params: list) -> dict[str, Any]:
    blockhash = _hash_at(params, 0, "blockhash")
    commitment = commitment_of(config_at(params, 1))
    return {"context": node.context(commitment), "value": node.producer.is_live(blockhash)}


def fee_for_message(message) -> int:
    """Base fee per signature plus the prioritization fee the compute-budget instructions ask."""
    keys = message.account_keys
    unit_limit = None
    unit_price = 0
    others = 0
    for ix in message.instructions:
        data = bytes(ix.data)
        if keys[ix.program_id_index] == COMPUTE_BUDGET_PROGRAM_ID and data:
            if data[0] == 2 and len(data) >= 5:
                unit_limit = int.from_bytes(data[1:5], "little")
            elif data[0] == 3 and len(data) >= 9:
                unit_price = int.from_bytes(data[1:9], "little")
        else:
            others += 1
    if unit_limit is None:
        unit_limit = min(DEFAULT_UNITS_PER_INSTRUCTION * others, MAX_UNITS)
    priority = -(-unit_price * min(unit_limit, MAX_UNITS) // 1_000_000)
    return LAMPORTS_PER_SIGNATURE * message.header.num_required_signatures + priority


def get_fee_for_message(node: ChainNode, params: list) -> dict[str, Any]:
    encoded = str_at(params, 0, "message")
    commitment = commitment_of(config_at(params, 1))
    try:
        message = from_bytes_versioned(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise RpcError.invalid_params(
            f"`message` is not a base64 serialized message: {exc}"
        ) from None
    value = fee_for_message(message) if node.producer.is_live(message.recent_blockhash) else None
    return {"context": node.context(commitment), "value": value}


def get_minimum_balance_for_rent_exemption(node: ChainNode, params: list) -> int:
    size = int_at(params, 0, "dataLength")
    if size > 10 * 1024 * 1024:
        raise RpcError.invalid_params("`dataLength` at most 10 MiB")
    config_at(params, 1)
    return node.producer.svm.minimum_balance_for_rent_exemption(size)


def get_recent_prioritization_fees(node: ChainNode, params: list) -> list[dict[str, int]]:
    if params and params[0] is not None:
        addresses = require(params, 0, "addresses")
        if not isinstance(addresses, list) or len(addresses) > 128:
            raise RpcError.invalid_params("`addresses` must be an array of at most 128 keys")
    # A quiet local chain: nobody outbids anybody, so every recent slot's minimum fee is 0.
    top = node.producer.closed_slot
    return [{"slot": slot, "prioritizationFee": 0} for slot in range(max(top - 149, 0), top + 1)]


METHODS = {
    "getLatestBlockhash": get_latest_blockhash,
    "isBlockhashValid": is_blockhash_valid,
    "getFeeForMessage": get_fee_for_message,
    "getMinimumBalanceForRentExemption": get_minimum_balance_for_rent_exemption,
    "getRecentPrioritizationFees": get_recent_prioritization_fees,
}
