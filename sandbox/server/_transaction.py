"""What the server reads in a payment's Solana transaction: its memos, its identity, and whether a
signature the facilitator reports really signs it.

The server does not judge the transfer (the facilitator does); it reads the memo to bind a v1
payment to its route, and checks a settlement receipt against the transaction so that a
facilitator reporting success with someone else's signature is caught.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from solders.message import to_bytes_versioned
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from sandbox.protocol import MEMO_PROGRAM_ID, MEMO_V1_PROGRAM_ID, ProtocolError, reasons

__all__ = ["PaymentTransaction", "read_transaction"]

_MEMO_PROGRAMS = (MEMO_PROGRAM_ID, MEMO_V1_PROGRAM_ID)


@dataclass(frozen=True)
class PaymentTransaction:
    key: str  # SHA-256 of the message bytes: the payment's identity (signatures are mutable)
    message: bytes
    fee_payer: Pubkey
    memos: tuple[str, ...]

    def signed_by_fee_payer(self, signature: str) -> bool:
        """True when `signature` (base58) is the fee payer's valid signature of this message."""
        try:
            parsed = Signature.from_string(signature)
        except (ValueError, TypeError):
            return False
        return parsed.verify(self.fee_payer, self.message)


def read_transaction(encoded: object, header: str) -> PaymentTransaction:
    """Decode `payload.transaction` (base64 wire transaction); ProtocolError names the problem."""
    if not isinstance(encoded, str) or not encoded:
        raise ProtocolError(f"{header}: missing field 'payload.transaction' (base64 transaction)")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError(f"{header}: payload.transaction is not valid base64") from None
    try:
        tx = VersionedTransaction.from_bytes(raw)
        message = tx.message
        keys = message.account_keys
        message_bytes = to_bytes_versioned(message)
    except Exception:  # solders raises its own error types for every malformation
        raise ProtocolError(
            f"{header}: payload.transaction is not a Solana transaction",
            reason=reasons.SVM_NOT_DECODABLE,
        ) from None
    if not keys:
        raise ProtocolError(
            f"{header}: payload.transaction has no accounts", reason=reasons.SVM_NOT_DECODABLE
        )
    memos = []
    for instruction in message.instructions:
        index = instruction.program_id_index
        if index < len(keys) and keys[index] in _MEMO_PROGRAMS:
            memos.append(bytes(instruction.data).decode("utf-8", errors="replace"))
    return PaymentTransaction(
        key=hashlib.sha256(message_bytes).hexdigest(),
        message=message_bytes,
        fee_payer=keys[0],
        memos=tuple(memos),
    )
