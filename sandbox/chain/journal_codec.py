"""The journal's JSON forms of accounts and transaction records, and replaying a frame.

A record is a list, to keep frames small and fast: [signature, slot, height, err, block time,
transaction, metadata, pre balances, post balances, pre token heads, post token heads], binary
fields base64 (a record past the producer's DETAIL_KEEP has no transaction or metadata: null).
An account is [pubkey, lamports, owner, executable, rent epoch, data], or [pubkey] once gone.
A block is [slot, height, time, transaction count, parent slot, previous height] (blocks.py).
"""

from __future__ import annotations

from base64 import b64decode, b64encode
from typing import TYPE_CHECKING, Any

from solders.account import Account
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction
from solders.transaction_metadata import TransactionMetadata

from .records import TxRecord

if TYPE_CHECKING:
    from .producer import BlockProducer

__all__ = ["account_json", "apply_frame", "history_payload", "record_json"]


def _b64(raw: bytes) -> str:
    return b64encode(raw).decode()


def _tokens_json(tokens: list) -> list:
    return [[index, str(program), _b64(head)] for index, program, head in tokens]


def _tokens_from(values: list) -> list:
    return [
        (index, Pubkey.from_string(program), b64decode(head)) for index, program, head in values
    ]


def record_json(sig: Signature, record: TxRecord) -> list[Any]:
    tx, meta = record.tx, record.meta
    return [
        _b64(bytes(sig)),
        record.slot,
        record.height,
        record.err,
        record.block_time,
        None if tx is None else _b64(bytes(tx)),
        None if meta is None else _b64(bytes(meta)),
        record.pre_balances,
        record.post_balances,
        _tokens_json(record.pre_tokens),
        _tokens_json(record.post_tokens),
    ]


def record_from(value: list[Any]) -> tuple[Signature, TxRecord]:
    sig = Signature.from_bytes(b64decode(value[0]))
    record = TxRecord(value[1], value[2], value[3])
    record.block_time = value[4]
    if value[5] is not None:
        record.tx = VersionedTransaction.from_bytes(b64decode(value[5]))
    if value[6] is not None:
        record.meta = TransactionMetadata.from_bytes(b64decode(value[6]))
    record.pre_balances, record.post_balances = value[7], value[8]
    record.pre_tokens, record.post_tokens = _tokens_from(value[9]), _tokens_from(value[10])
    return sig, record


def account_json(key: Pubkey, account: Account | None) -> list[Any]:
    if account is None:
        return [str(key)]
    return [
        str(key),
        account.lamports,
        str(account.owner),
        account.executable,
        account.rent_epoch,
        _b64(bytes(account.data)),
    ]


def _account_from(value: list[Any]) -> tuple[Pubkey, Account]:
    key = Pubkey.from_string(value[0])
    if len(value) == 1:  # gone: an empty system account reads as absent
        return key, Account(lamports=0, data=b"", owner=Pubkey.default())
    return key, Account(
        lamports=value[1],
        data=b64decode(value[5]),
        owner=Pubkey.from_string(value[2]),
        executable=value[3],
        rent_epoch=value[4],
    )


def apply_frame(producer: BlockProducer, frame: dict[str, Any]) -> tuple[int, int, int]:
    """Replay one frame's accounts and history into the producer; returns its clocks
    (closed slot, block height, transaction count), restored once after the last frame."""
    for value in frame.get("accounts", ()):
        key, account = _account_from(value)
        producer.set_account(key, account)
    blocks, statuses = producer.blocks, producer.statuses
    for value in frame.get("txs", ()):
        sig, record = record_from(value)
        if sig not in statuses:
            producer.restore_record(sig, record)
            blocks.attach(sig, record.slot)
    for value in frame.get("blocks", ()):
        blocks.restore(value, producer.seed)
    return frame["closed"], frame["height"], frame["count"]


def history_payload(producer: BlockProducer) -> dict[str, Any]:
    """The frame a checkpoint starts the new journal with: every record still kept."""
    statuses = producer.statuses
    return {
        "seed": producer.seed.hex(),
        "slot": producer.slot,
        "closed": producer.closed_slot,
        "height": producer.block_height,
        "count": producer.stats["transactions"],
        "txs": [record_json(sig, record) for sig, record in statuses.items()],  # oldest first
        "accounts": [],
        "blocks": producer.blocks.history_json(),
    }
