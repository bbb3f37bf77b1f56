"""A transaction as a person reads it: each instruction named and decoded, each account with its
role, amounts in token units. Built from the chain's base64 `getTransaction` answer with the
scheme's own instruction readers (protocol/exact_svm/transaction.py), so the dashboard shows
exactly what the facilitator checks.
"""

from __future__ import annotations

import base64
from typing import Any

from solders.transaction import VersionedTransaction

from sandbox.protocol.exact_svm.transaction import (
    associated_token_create,
    compute_unit_limit,
    compute_unit_price,
    is_memo,
    program_of,
    transfer_checked,
)
from sandbox.protocol.programs import (
    ASSOCIATED_TOKEN_PROGRAM_ID,
    COMPUTE_BUDGET_PROGRAM_ID,
    LIGHTHOUSE_PROGRAM_ID,
    MEMO_PROGRAM_ID,
    MEMO_V1_PROGRAM_ID,
    SYSTEM_PROGRAM_ID,
    TOKEN_2022_PROGRAM_ID,
    TOKEN_PROGRAM_ID,
)

__all__ = ["PROGRAM_NAMES", "decode_instructions", "describe_transaction"]

PROGRAM_NAMES = {
    str(COMPUTE_BUDGET_PROGRAM_ID): "Compute Budget",
    str(TOKEN_PROGRAM_ID): "SPL Token",
    str(TOKEN_2022_PROGRAM_ID): "Token-2022",
    str(ASSOCIATED_TOKEN_PROGRAM_ID): "Associated Token Account",
    str(MEMO_PROGRAM_ID): "Memo",
    str(MEMO_V1_PROGRAM_ID): "Memo (v1)",
    str(LIGHTHOUSE_PROGRAM_ID): "Lighthouse",
    str(SYSTEM_PROGRAM_ID): "System",
}


def _units(amount: int, decimals: int) -> str:
    return f"{amount / 10**decimals:,.{decimals}f}".rstrip("0").rstrip(".")


def decode_instructions(tx: VersionedTransaction) -> list[dict[str, Any]]:
    """One dict per instruction: program, its name, what it does (`kind`), decoded fields."""
    message = tx.message
    keys = list(message.account_keys)
    decoded = []
    for index, ix in enumerate(message.instructions):
        program = program_of(ix, keys)
        entry: dict[str, Any] = {
            "index": index,
            "program": str(program) if program else None,
            "programName": PROGRAM_NAMES.get(str(program), "unknown program"),
            "kind": "unknown",
            "accounts": [str(keys[i]) for i in bytes(ix.accounts) if i < len(keys)],
            "data": base64.b64encode(bytes(ix.data)).decode(),
        }
        if (limit := compute_unit_limit(ix, keys)) is not None:
            entry.update(kind="SetComputeUnitLimit", units=limit)
        elif (price := compute_unit_price(ix, keys)) is not None:
            entry.update(kind="SetComputeUnitPrice", microLamports=price)
        elif (transfer := transfer_checked(ix, keys)) is not None:
            entry.update(
                kind="TransferChecked",
                amount=str(transfer.amount),
                decimals=transfer.decimals,
                uiAmount=_units(transfer.amount, transfer.decimals),
                source=str(transfer.source),
                mint=str(transfer.mint),
                destination=str(transfer.destination),
                authority=str(transfer.authority),
            )
        elif (create := associated_token_create(ix, keys)) is not None:
            entry.update(
                kind="CreateIdempotent" if create.idempotent else "Create",
                funder=str(create.payer),
                account=str(create.account),
                owner=str(create.owner),
                mint=str(create.mint),
            )
        elif is_memo(ix, keys):
            entry.update(kind="Memo", memo=bytes(ix.data).decode("utf-8", errors="replace"))
        decoded.append(entry)
    return decoded


def describe_transaction(answer: dict[str, Any]) -> dict[str, Any]:
    """The dashboard's view of a `getTransaction` answer (encoding base64)."""
    encoded = answer["transaction"][0]
    tx = VersionedTransaction.from_bytes(base64.b64decode(encoded))
    keys = [str(key) for key in tx.message.account_keys]
    header = tx.message.header
    meta = answer.get("meta") or {}
    signers = header.num_required_signatures
    return {
        "signature": str(tx.signatures[0]),
        "slot": answer.get("slot"),
        "blockTime": answer.get("blockTime"),
        "feePayer": keys[0],
        "signers": keys[:signers],
        "accounts": keys,
        "fee": meta.get("fee"),
        "err": meta.get("err"),
        "computeUnitsConsumed": meta.get("computeUnitsConsumed"),
        "logMessages": meta.get("logMessages") or [],
        "preTokenBalances": meta.get("preTokenBalances") or [],
        "postTokenBalances": meta.get("postTokenBalances") or [],
        "instructions": decode_instructions(tx),
    }
