"""The "blocks" RPC family: getBlock, getBlocks, getBlocksWithLimit, getBlockTime,
getRecentPerformanceSamples, answered from the block history (blocks.py).

Reads at confirmed or finalized (finalized unless asked; processed is refused, -32602, as the
validator does). Errors as the validator answers them: a block not yet at the commitment asked
(or past the newest) is -32004 "Block not available for slot N"; a slot with no block
(sandbox_advanceSlots skips slots) -32007 "Slot N was skipped"; a block older than the history
kept -32001 "Block N cleaned up". (-32009, skipped in long-term storage, is BigTable's: this
chain has none.) A block whose transactions' details were dropped (past the producer's
DETAIL_KEEP) answers -32011 for `transactionDetails` full or accounts, as getTransaction does.
"""

from __future__ import annotations

from typing import Any

from solders.message import MessageV0

from .blocks import Block
from .errors import RpcError, shown
from .node import ChainNode
from .params import commitment_of, config_at, int_at, max_supported_version, slot_at
from .records import TxRecord
from .tx_json import meta_json, transaction_json

__all__ = ["MAX_BLOCKS_RANGE", "MAX_PERFORMANCE_SAMPLES", "METHODS"]

MAX_BLOCKS_RANGE = 500_000  # the validator's MAX_GET_CONFIRMED_BLOCKS_RANGE
MAX_PERFORMANCE_SAMPLES = 720
_ENCODINGS = ("json", "jsonParsed", "base64", "base58")
_DETAILS = ("full", "accounts", "signatures", "none")


def _confirmed_commitment(config: dict) -> str:
    commitment = commitment_of(config)
    if commitment == "processed":
        raise RpcError.invalid_params("Method does not support commitment below `confirmed`")
    return commitment


def _missing(node: ChainNode, slot: int) -> RpcError:
    """Why a slot at or below the newest closed one has no block in the history."""
    first = node.producer.blocks.first_slot
    if first is None or slot < first:
        return RpcError.block_cleaned_up(slot, node.producer.slot if first is None else first)
    return RpcError.slot_skipped(slot)


def _block_at(node: ChainNode, slot: int, commitment: str) -> Block:
    producer = node.producer
    if not producer.reached(slot, commitment):
        raise RpcError.block_not_available(slot)
    block = producer.blocks.get(slot)
    if block is None:
        raise _missing(node, slot)
    return block


def _simple_meta(record: TxRecord, decimals_of, rewards: bool) -> dict[str, Any]:
    """The meta of `transactionDetails: accounts`: balances and status, no logs or inner."""
    full = meta_json(record, decimals_of)
    meta = {
        key: full[key]
        for key in (
            "err",
            "fee",
            "postBalances",
            "postTokenBalances",
            "preBalances",
            "preTokenBalances",
            "status",
        )
    }
    if rewards:
        meta["rewards"] = []
    return meta


def _accounts_transaction(record: TxRecord) -> dict[str, Any]:
    message = record.tx.message
    is_v0 = isinstance(message, MessageV0)
    keys = [
        {
            "pubkey": str(key),
            "signer": message.is_signer(i),
            "source": "transaction",
            "writable": message.is_maybe_writable(i) if is_v0 else message.is_writable(i),
        }
        for i, key in enumerate(message.account_keys)
    ]
    return {"accountKeys": keys, "signatures": [str(sig) for sig in record.tx.signatures]}


def _transactions(
    node: ChainNode, block: Block, details: str, encoding: str, max_version, rewards: bool
) -> list[dict[str, Any]]:
    statuses = node.producer.statuses
    records = [statuses.get(sig) for sig in block.signatures]
    if not block.complete or any(r is None or r.tx is None or r.meta is None for r in records):
        raise RpcError.transaction_history_not_available()
    found = []
    for record in records:
        is_v0 = isinstance(record.tx.message, MessageV0)
        if is_v0 and max_version is None:
            raise RpcError.unsupported_transaction_version(0)
        if details == "full":
            entry = {
                "meta": meta_json(record, node.decimals_of),
                "transaction": transaction_json(record.tx, encoding),
            }
            if not rewards:
                entry["meta"].pop("rewards", None)
        else:
            entry = {
                "meta": _simple_meta(record, node.decimals_of, rewards),
                "transaction": _accounts_transaction(record),
            }
        if max_version is not None:
            entry["version"] = 0 if is_v0 else "legacy"
        found.append(entry)
    return found


def get_block(node: ChainNode, params: list) -> dict[str, Any]:
    slot = slot_at(params, 0, "slot")
    raw = params[1] if len(params) > 1 else None
    config = {"encoding": raw} if isinstance(raw, str) else config_at(params, 1)
    commitment = _confirmed_commitment(config)
    encoding = config.get("encoding", "json")
    if encoding not in _ENCODINGS:
        raise RpcError.invalid_params(
            f"`encoding` {shown(encoding)}: use json, jsonParsed, base64 or base58"
        )
    details = config.get("transactionDetails", "full")
    if details not in _DETAILS:
        raise RpcError.invalid_params(
            f"`transactionDetails` {shown(details)}: use full, accounts, signatures or none"
        )
    rewards = config.get("rewards", True)
    if not isinstance(rewards, bool):
        raise RpcError.invalid_params(f"`rewards` must be true or false, got {shown(rewards)}")
    max_version = max_supported_version(config)
    block = _block_at(node, slot, commitment)
    result: dict[str, Any] = {
        "blockHeight": block.height,
        "blockTime": block.time,
        "blockhash": str(block.blockhash),
        "parentSlot": block.parent,
        "previousBlockhash": str(block.previous),
    }
    if details in ("full", "accounts"):
        result["transactions"] = _transactions(node, block, details, encoding, max_version, rewards)
    elif details == "signatures":
        if not block.complete:
            raise RpcError.transaction_history_not_available()
        result["signatures"] = [str(sig) for sig in block.signatures]
    if rewards:
        result["rewards"] = []  # no staking, no fees to validators: nothing is rewarded
    return result


def _reached_slots(node: ChainNode, start: int, end: int, commitment: str, limit=None):
    producer = node.producer
    end = min(end, producer.slot_for(commitment))
    slots = producer.blocks.slots_between(start, end, limit)
    # the late-confirm fault holds back the newest blocks (in slot order)
    while slots and not producer.reached(slots[-1], commitment):
        slots.pop()
    return slots


def get_blocks(node: ChainNode, params: list) -> list[int]:
    start = slot_at(params, 0, "startSlot")
    second = params[1] if len(params) > 1 else None
    if isinstance(second, dict):
        end, config = None, config_at(params, 1)
    else:
        end = slot_at(params, 1, "endSlot") if second is not None else None
        config = config_at(params, 2)
    commitment = _confirmed_commitment(config)
    if end is None:
        end = node.producer.slot_for(commitment)
    if end - start > MAX_BLOCKS_RANGE:
        raise RpcError.invalid_params(
            f"`endSlot`: slot range too large; max {MAX_BLOCKS_RANGE}, got {end - start}"
        )
    return _reached_slots(node, start, end, commitment)


def get_blocks_with_limit(node: ChainNode, params: list) -> list[int]:
    start = slot_at(params, 0, "startSlot")
    limit = int_at(params, 1, "limit")
    if limit > MAX_BLOCKS_RANGE:
        raise RpcError.invalid_params(f"`limit` too large; max {MAX_BLOCKS_RANGE}, got {limit}")
    commitment = _confirmed_commitment(config_at(params, 2))
    if limit == 0:
        return []
    return _reached_slots(node, start, node.producer.slot_for(commitment), commitment, limit)


def get_block_time(node: ChainNode, params: list) -> int | None:
    """The block's time; the open slot answers the clock's time, as the validator's working
    bank does."""
    slot = slot_at(params, 0, "slot")
    producer = node.producer
    if slot > producer.slot:
        raise RpcError.block_not_available(slot)
    if slot == producer.slot:
        return producer.svm.get_clock().unix_timestamp
    block = producer.blocks.get(slot)
    if block is None:
        raise _missing(node, slot)
    return block.time


def get_recent_performance_samples(node: ChainNode, params: list) -> list[dict[str, Any]]:
    limit = MAX_PERFORMANCE_SAMPLES
    if params and params[0] is not None:
        limit = int_at(params, 0, "limit")
        if limit > MAX_PERFORMANCE_SAMPLES:
            raise RpcError.invalid_params(
                f"`limit`: invalid limit; max {MAX_PERFORMANCE_SAMPLES}, got {limit}"
            )
    producer = node.producer
    return producer.blocks.performance_samples(limit, producer.closed_slot)


def get_first_available_block(node: ChainNode, params: list) -> int:
    """The oldest block the history keeps (the next one, before any block closed)."""
    first = node.producer.blocks.first_slot
    return node.producer.slot if first is None else first


METHODS = {
    "getBlock": get_block,
    "getBlocks": get_blocks,
    "getBlocksWithLimit": get_blocks_with_limit,
    "getBlockTime": get_block_time,
    "getRecentPerformanceSamples": get_recent_performance_samples,
    "getFirstAvailableBlock": get_first_available_block,
    "minimumLedgerSlot": get_first_available_block,
}
