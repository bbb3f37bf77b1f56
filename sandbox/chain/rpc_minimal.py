"""The "minimal" RPC family: health, version, identity, slots, heights, epochs, genesis (the
first available block is rpc_blocks.py's)."""

from __future__ import annotations

from typing import Any

from .node import API_VERSION, FEATURE_SET, ChainNode
from .params import commitment_of, config_at

__all__ = ["METHODS", "SLOTS_PER_EPOCH"]

SLOTS_PER_EPOCH = 432_000


def get_health(node: ChainNode, params: list) -> str:
    return "ok"


def get_version(node: ChainNode, params: list) -> dict[str, Any]:
    return {"solana-core": API_VERSION, "feature-set": FEATURE_SET}


def get_identity(node: ChainNode, params: list) -> dict[str, Any]:
    return {"identity": str(node.twin.authority.pubkey())}


def get_genesis_hash(node: ChainNode, params: list) -> str:
    return node.settings.genesis_hash


def get_slot(node: ChainNode, params: list) -> int:
    return node.producer.slot_for(commitment_of(config_at(params, 0)))


def get_block_height(node: ChainNode, params: list) -> int:
    return node.producer.height_for(commitment_of(config_at(params, 0)))


def get_transaction_count(node: ChainNode, params: list) -> int:
    return node.producer.transaction_count_for(commitment_of(config_at(params, 0)))


def get_epoch_info(node: ChainNode, params: list) -> dict[str, Any]:
    commitment = commitment_of(config_at(params, 0))
    producer = node.producer
    slot = producer.slot_for(commitment)
    return {
        "absoluteSlot": slot,
        "blockHeight": producer.height_for(commitment),
        "epoch": slot // SLOTS_PER_EPOCH,
        "slotIndex": slot % SLOTS_PER_EPOCH,
        "slotsInEpoch": SLOTS_PER_EPOCH,
        "transactionCount": producer.transaction_count_for(commitment),
    }


def get_epoch_schedule(node: ChainNode, params: list) -> dict[str, Any]:
    return {
        "firstNormalEpoch": 0,
        "firstNormalSlot": 0,
        "leaderScheduleSlotOffset": SLOTS_PER_EPOCH,
        "slotsPerEpoch": SLOTS_PER_EPOCH,
        "warmup": False,
    }


METHODS = {
    "getHealth": get_health,
    "getVersion": get_version,
    "getIdentity": get_identity,
    "getGenesisHash": get_genesis_hash,
    "getSlot": get_slot,
    "getBlockHeight": get_block_height,
    "getTransactionCount": get_transaction_count,
    "getEpochInfo": get_epoch_info,
    "getEpochSchedule": get_epoch_schedule,
}
