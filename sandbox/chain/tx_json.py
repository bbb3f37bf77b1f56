"""Transactions and their metadata in the RPC's UI form (getTransaction, simulate, statuses)."""

from __future__ import annotations

import base64
from typing import Any

import base58
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction
from solders.transaction_metadata import TransactionMetadata

from sandbox.protocol.programs import MEMO_PROGRAM_ID, MEMO_V1_PROGRAM_ID

from .accounts import token_amount
from .records import TxRecord

__all__ = [
    "inner_instructions_json",
    "memo_of",
    "meta_json",
    "return_data_json",
    "status_json",
    "transaction_json",
]

_MEMO_PROGRAMS = (MEMO_PROGRAM_ID, MEMO_V1_PROGRAM_ID)


def status_json(err: object) -> dict[str, Any]:
    return {"Ok": None} if err is None else {"Err": err}


def _header(message) -> dict[str, int]:
    header = message.header
    return {
        "numReadonlySignedAccounts": header.num_readonly_signed_accounts,
        "numReadonlyUnsignedAccounts": header.num_readonly_unsigned_accounts,
        "numRequiredSignatures": header.num_required_signatures,
    }


def _compiled(ix, stack_height: int | None = None) -> dict[str, Any]:
    return {
        "accounts": list(bytes(ix.accounts)),
        "data": base58.b58encode(bytes(ix.data)).decode(),
        "programIdIndex": ix.program_id_index,
        "stackHeight": stack_height,
    }


def _lookups(message) -> list[dict[str, Any]]:
    return [
        {
            "accountKey": str(lookup.account_key),
            "readonlyIndexes": list(bytes(lookup.readonly_indexes)),
            "writableIndexes": list(bytes(lookup.writable_indexes)),
        }
        for lookup in message.address_table_lookups
    ]


def _parsed_keys(message) -> list[dict[str, Any]]:
    keys = message.account_keys
    return [
        {
            "pubkey": str(key),
            "signer": message.is_signer(i),
            "source": "transaction",
            "writable": message.is_maybe_writable(i)
            if isinstance(message, MessageV0)
            else message.is_writable(i),
        }
        for i, key in enumerate(keys)
    ]


def transaction_json(tx: VersionedTransaction, encoding: str) -> Any:
    """The `transaction` field in the requested encoding (json, jsonParsed, base64, base58)."""
    if encoding == "base64":
        return [base64.b64encode(bytes(tx)).decode(), "base64"]
    if encoding == "base58":
        return [base58.b58encode(bytes(tx)).decode(), "base58"]
    message = tx.message
    is_v0 = isinstance(message, MessageV0)
    keys = message.account_keys
    if encoding == "jsonParsed":
        instructions = [
            {
                "accounts": [str(keys[i]) for i in bytes(ix.accounts)],
                "data": base58.b58encode(bytes(ix.data)).decode(),
                "programId": str(keys[ix.program_id_index]),
                "stackHeight": None,
            }
            for ix in message.instructions
        ]
        ui_message: dict[str, Any] = {
            "accountKeys": _parsed_keys(message),
            "instructions": instructions,
            "recentBlockhash": str(message.recent_blockhash),
        }
    else:
        ui_message = {
            "accountKeys": [str(key) for key in keys],
            "header": _header(message),
            "instructions": [_compiled(ix) for ix in message.instructions],
            "recentBlockhash": str(message.recent_blockhash),
        }
    if is_v0:
        ui_message["addressTableLookups"] = _lookups(message)
    return {"message": ui_message, "signatures": [str(sig) for sig in tx.signatures]}


def inner_instructions_json(meta: TransactionMetadata) -> list[dict[str, Any]]:
    out = []
    for index, inner in enumerate(meta.inner_instructions()):
        if inner:
            out.append(
                {
                    "index": index,
                    # solders exposes both as methods, not attributes.
                    "instructions": [
                        _compiled(item.instruction(), item.stack_height()) for item in inner
                    ],
                }
            )
    return out


def return_data_json(meta: TransactionMetadata) -> dict[str, Any] | None:
    returned = meta.return_data()
    data = bytes(returned.data)
    if not data:
        return None
    return {
        "data": [base64.b64encode(data).decode(), "base64"],
        "programId": str(returned.program_id),
    }


def _token_balances(entries: list, decimals_of) -> list[dict[str, Any]]:
    balances = []
    for index, program, head in entries:
        mint = Pubkey(head[:32])
        decimals = decimals_of(mint)
        if decimals is None:
            continue
        balances.append(
            {
                "accountIndex": index,
                "mint": str(mint),
                "owner": str(Pubkey(head[32:64])),
                "programId": str(program),
                "uiTokenAmount": token_amount(int.from_bytes(head[64:72], "little"), decimals),
            }
        )
    return balances


def meta_json(record: TxRecord, decimals_of) -> dict[str, Any]:
    meta = record.meta
    result: dict[str, Any] = {
        "computeUnitsConsumed": meta.compute_units_consumed(),
        "err": record.err,
        "fee": meta.fee(),
        "innerInstructions": inner_instructions_json(meta),
        "loadedAddresses": {"readonly": [], "writable": []},
        "logMessages": list(meta.logs()),
        "postBalances": record.post_balances,
        "postTokenBalances": _token_balances(record.post_tokens, decimals_of),
        "preBalances": record.pre_balances,
        "preTokenBalances": _token_balances(record.pre_tokens, decimals_of),
        "rewards": [],
        "status": status_json(record.err),
    }
    returned = return_data_json(meta)
    if returned is not None:
        result["returnData"] = returned
    return result


def memo_of(tx: VersionedTransaction | None) -> str | None:
    """The `memo` field of getSignaturesForAddress: "[len] text" per memo, joined by "; "."""
    if tx is None:
        return None
    message = tx.message
    keys = message.account_keys
    memos = []
    for ix in message.instructions:
        if keys[ix.program_id_index] in _MEMO_PROGRAMS:
            data = bytes(ix.data)
            memos.append(f"[{len(data)}] {data.decode('utf-8', 'replace')}")
    return "; ".join(memos) if memos else None
