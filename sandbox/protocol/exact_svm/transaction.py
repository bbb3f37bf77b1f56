"""An exact-SVM payment's Solana transaction: decoding, identity, memos, instructions, limits.

Pure, no I/O. The scheme's numbers are stated here once; the client builds with them, the
facilitator checks against them, the server reads with them.

    decode_transaction(b64) -> VersionedTransaction   strict, as the facilitator judges it;
                                                      ProtocolError names the reason
    read_transaction(b64, header) -> PaymentTransaction   what the server reads (memos,
                                                      identity, fee payer), more lenient
    payment_identity(message_bytes)                   SHA-256 of the message: the payment's
                                                      identity (signatures are mutable)
    compute_unit_limit / compute_unit_price / transfer_checked / associated_token_create /
    is_memo / is_trailing_allowed                     decoders of one compiled instruction:
                                                      a small value, or None when it is not
                                                      that instruction
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from solders.instruction import CompiledInstruction
from solders.message import to_bytes_versioned
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from sandbox.protocol import reasons
from sandbox.protocol.errors import ProtocolError
from sandbox.protocol.programs import (
    ASSOCIATED_TOKEN_PROGRAM_ID,
    COMPUTE_BUDGET_PROGRAM_ID,
    LIGHTHOUSE_PROGRAM_ID,
    MEMO_PROGRAM_ID,
    MEMO_V1_PROGRAM_ID,
    SET_COMPUTE_UNIT_LIMIT,
    SET_COMPUTE_UNIT_PRICE,
    TOKEN_PROGRAMS,
    TRANSFER_CHECKED,
)

__all__ = [
    "COMPUTE_UNIT_LIMIT",
    "COMPUTE_UNIT_PRICE_MICROLAMPORTS",
    "DEFAULT_MAX_COMPUTE_UNIT_LIMIT",
    "DEFAULT_MAX_COMPUTE_UNIT_PRICE",
    "DEFAULT_MAX_INSTRUCTIONS",
    "MAX_MEMO_BYTES",
    "MAX_TRANSACTION_BYTES",
    "MEMO_PROGRAMS",
    "MIN_INSTRUCTIONS",
    "RUNTIME_MAX_COMPUTE_UNIT_LIMIT",
    "SCHEME",
    "TRAILING_PROGRAMS",
    "U64_MAX",
    "AssociatedTokenCreate",
    "PaymentTransaction",
    "TransferChecked",
    "associated_token_create",
    "compute_unit_limit",
    "compute_unit_price",
    "decode_transaction",
    "is_memo",
    "is_trailing_allowed",
    "memo_texts",
    "ordinal",
    "payment_identity",
    "program_of",
    "read_transaction",
    "transfer_authority",
    "transfer_checked",
]

# ---------------------------------------------------------------- the scheme's numbers

SCHEME = "exact"  # the x402 scheme name these modules implement (on Solana: exact-SVM)
MAX_TRANSACTION_BYTES = 1232  # Solana's packet limit
MAX_MEMO_BYTES = 256  # a memo (extra.memo or the client's nonce) is at most this long
COMPUTE_UNIT_LIMIT = 20_000  # what the client asks for: an x402 transfer needs ~20,000
COMPUTE_UNIT_PRICE_MICROLAMPORTS = 1  # what the client offers per unit
DEFAULT_MAX_COMPUTE_UNIT_LIMIT = 200_000  # the facilitator's default cap
DEFAULT_MAX_COMPUTE_UNIT_PRICE = 5_000_000  # microlamports per unit, as the SDKs cap it
RUNTIME_MAX_COMPUTE_UNIT_LIMIT = 1_400_000  # the runtime's maximum per transaction
MIN_INSTRUCTIONS = 3  # compute limit, compute price, transfer
DEFAULT_MAX_INSTRUCTIONS = 7  # the TypeScript SDK's limit (the Python SDK's is 6)
U64_MAX = 2**64 - 1

MEMO_PROGRAMS = (MEMO_PROGRAM_ID, MEMO_V1_PROGRAM_ID)
# Programs allowed after the transfer: memos, and Lighthouse (wallets such as Phantom inject it).
TRAILING_PROGRAMS = (*MEMO_PROGRAMS, LIGHTHOUSE_PROGRAM_ID)

_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth")


def ordinal(index: int) -> str:
    """'first' for index 0, ...: for messages (reasons come from reasons.unknown_instruction)."""
    return _ORDINALS[index] if index < len(_ORDINALS) else f"{index + 1}th"


# ---------------------------------------------------------------- decoding


def decode_transaction(transaction: object) -> VersionedTransaction:
    """A wire transaction (base64) as the facilitator accepts it: canonical bytes within the
    packet limit, sanitized, one signature per required signer. ProtocolError otherwise."""
    if not isinstance(transaction, str) or not transaction:
        raise ProtocolError(
            "paymentPayload.payload.transaction must be a non-empty base64 string",
            reasons.SVM_PAYLOAD,
        )
    if len(transaction) > 4 * MAX_TRANSACTION_BYTES:
        raise ProtocolError("transaction is larger than 1232 bytes", reasons.SVM_NOT_DECODABLE)
    try:
        raw = base64.b64decode(transaction, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError("transaction is not valid base64", reasons.SVM_NOT_DECODABLE) from None
    if len(raw) > MAX_TRANSACTION_BYTES:
        raise ProtocolError("transaction is larger than 1232 bytes", reasons.SVM_NOT_DECODABLE)
    try:
        tx = VersionedTransaction.from_bytes(raw)
        tx.sanitize()
    except Exception as exc:  # solders raises its own error types for every malformation
        raise ProtocolError(
            f"transaction bytes are not a valid Solana transaction ({type(exc).__name__})",
            reasons.SVM_NOT_DECODABLE,
        ) from None
    if bytes(tx) != raw:
        raise ProtocolError(
            "transaction has trailing or non-canonical bytes", reasons.SVM_NOT_DECODABLE
        )
    required = tx.message.header.num_required_signatures
    if len(tx.signatures) != required:
        raise ProtocolError(
            f"transaction carries {len(tx.signatures)} signatures for {required} required signers",
            reasons.SVM_NOT_DECODABLE,
        )
    return tx


def payment_identity(message_bytes: bytes) -> bytes:
    """SHA-256 of the serialized message: the payment's identity (signatures are mutable)."""
    return hashlib.sha256(message_bytes).digest()


def memo_texts(message, keys) -> tuple[str, ...]:
    """The data of every Memo instruction in the message, as text (invalid UTF-8 replaced)."""
    return tuple(
        bytes(ix.data).decode("utf-8", errors="replace")
        for ix in message.instructions
        if ix.program_id_index < len(keys) and keys[ix.program_id_index] in MEMO_PROGRAMS
    )


@dataclass(frozen=True)
class PaymentTransaction:
    """What a paid server reads in a payment's transaction (it does not judge the transfer)."""

    key: str  # payment_identity as hex
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
    """Decode `payload.transaction` as the server reads it; ProtocolError names the problem
    (the strict rules are the facilitator's, which the server asks next)."""
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
    return PaymentTransaction(
        key=payment_identity(message_bytes).hex(),
        message=message_bytes,
        fee_payer=keys[0],
        memos=memo_texts(message, keys),
    )


def transfer_authority(encoded: object) -> str | None:
    """Best effort: the 4th account of the first token instruction of a wire transaction, the
    payer of a rejected payment, for records only (never trusted); None when unreadable."""
    if not isinstance(encoded, str) or len(encoded) > 2000:
        return None
    try:
        tx = VersionedTransaction.from_bytes(base64.b64decode(encoded))
        keys = tx.message.account_keys
        for ix in tx.message.instructions:
            if keys[ix.program_id_index] in TOKEN_PROGRAMS and len(ix.accounts) >= 4:
                return str(keys[ix.accounts[3]])
    except Exception:  # the payment is already rejected; this is only a label
        return None
    return None


# ---------------------------------------------------------------- instruction decoders


@dataclass(frozen=True, slots=True)
class TransferChecked:
    program: Pubkey
    source: Pubkey
    mint: Pubkey
    destination: Pubkey
    authority: Pubkey
    amount: int
    decimals: int


@dataclass(frozen=True, slots=True)
class AssociatedTokenCreate:
    """Create (or CreateIdempotent) of an associated token account."""

    payer: Pubkey
    account: Pubkey
    owner: Pubkey
    mint: Pubkey
    token_program: Pubkey
    idempotent: bool


def program_of(ix: CompiledInstruction, keys: list[Pubkey]) -> Pubkey | None:
    index = ix.program_id_index
    return keys[index] if index < len(keys) else None


def compute_unit_limit(ix: CompiledInstruction, keys: list[Pubkey]) -> int | None:
    data = ix.data
    if program_of(ix, keys) != COMPUTE_BUDGET_PROGRAM_ID or len(data) != 5:
        return None
    if data[0] != SET_COMPUTE_UNIT_LIMIT:
        return None
    return struct.unpack_from("<I", data, 1)[0]


def compute_unit_price(ix: CompiledInstruction, keys: list[Pubkey]) -> int | None:
    data = ix.data
    if program_of(ix, keys) != COMPUTE_BUDGET_PROGRAM_ID or len(data) != 9:
        return None
    if data[0] != SET_COMPUTE_UNIT_PRICE:
        return None
    return struct.unpack_from("<Q", data, 1)[0]


def transfer_checked(ix: CompiledInstruction, keys: list[Pubkey]) -> TransferChecked | None:
    """A TransferChecked of SPL Token or Token-2022 with exactly its four accounts.

    Extra accounts (multisig co-signers) are refused: a payment has one owner, the client.
    """
    program = program_of(ix, keys)
    data = ix.data
    if program not in TOKEN_PROGRAMS or len(data) != 10 or data[0] != TRANSFER_CHECKED:
        return None
    accounts = bytes(ix.accounts)
    if len(accounts) != 4 or any(index >= len(keys) for index in accounts):
        return None
    amount, decimals = struct.unpack_from("<QB", data, 1)
    return TransferChecked(
        program=program,
        source=keys[accounts[0]],
        mint=keys[accounts[1]],
        destination=keys[accounts[2]],
        authority=keys[accounts[3]],
        amount=amount,
        decimals=decimals,
    )


def associated_token_create(
    ix: CompiledInstruction, keys: list[Pubkey]
) -> AssociatedTokenCreate | None:
    """The associated token program's Create (data empty or [0]) or CreateIdempotent ([1]),
    with its six accounts: payer, account, owner, mint, system program, token program."""
    if program_of(ix, keys) != ASSOCIATED_TOKEN_PROGRAM_ID:
        return None
    data = bytes(ix.data)
    if data not in (b"", b"\x00", b"\x01"):
        return None
    accounts = bytes(ix.accounts)
    if len(accounts) != 6 or any(index >= len(keys) for index in accounts):
        return None
    return AssociatedTokenCreate(
        payer=keys[accounts[0]],
        account=keys[accounts[1]],
        owner=keys[accounts[2]],
        mint=keys[accounts[3]],
        token_program=keys[accounts[5]],
        idempotent=data == b"\x01",
    )


def is_memo(ix: CompiledInstruction, keys: list[Pubkey]) -> bool:
    return program_of(ix, keys) in MEMO_PROGRAMS


def is_trailing_allowed(ix: CompiledInstruction, keys: list[Pubkey]) -> bool:
    return program_of(ix, keys) in TRAILING_PROGRAMS
