"""The client role: an exact-SVM payment transaction built from plain facts. Pure, no I/O.

Layout (shared/reference/x402-solana.md section 3, as the official clients build it):
    0 ComputeBudget SetComputeUnitLimit   [2, u32 units]
    1 ComputeBudget SetComputeUnitPrice   [3, u64 microlamports]
    2 Token/Token-2022 TransferChecked    [12, u64 amount, u8 decimals]
                                          accounts: source ATA (w), mint, destination ATA (w),
                                          owner (signer)
    3 Memo                                extra.memo, or 16 random bytes as hex
With `create_ata` (for a merchant with no token account yet, accepted by a facilitator running
`--layout role-based --allow-create-ata`), CreateAssociatedTokenIdempotent [1] comes at index 2,
its rent paid by the fee payer: accounts funder = extra.feePayer (w, signer), payTo's associated
token account (w), payTo, mint, System Program, token program; the transfer moves to index 3.
Message v0, fee payer (account 0) = extra.feePayer. Only the owner signs here; the fee payer's
slot stays the default (all-zero) signature until the facilitator signs.

    transfer_spec(requirements, owner, mint, blockhash) -> TransferSpec   checks the terms
    build_transaction(spec, owner_keypair) -> VersionedTransaction        owner-signed

Requirements that cannot be built raise `BuildError` (the payer raises its PaymentBuildError).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from solders.hash import Hash, ParseHashError
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import MessageV0, to_bytes_versioned
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from sandbox.protocol.errors import BuildError
from sandbox.protocol.exact_svm.transaction import (
    COMPUTE_UNIT_LIMIT,
    COMPUTE_UNIT_PRICE_MICROLAMPORTS,
    MAX_MEMO_BYTES,
    SCHEME,
    U64_MAX,
)
from sandbox.protocol.models import AnyRequirements
from sandbox.protocol.programs import (
    ASSOCIATED_TOKEN_PROGRAM_ID,
    COMPUTE_BUDGET_PROGRAM_ID,
    MEMO_PROGRAM_ID,
    SET_COMPUTE_UNIT_LIMIT,
    SET_COMPUTE_UNIT_PRICE,
    SYSTEM_PROGRAM_ID,
    TOKEN_PROGRAM_ID,
    TRANSFER_CHECKED,
    associated_token_address,
)

__all__ = [
    "COMPUTE_UNIT_LIMIT",
    "COMPUTE_UNIT_PRICE_MICROLAMPORTS",
    "CREATE_ATA_COMPUTE_UNIT_LIMIT",
    "MAX_MEMO_BYTES",
    "PAYMENT_INSTRUCTIONS",
    "BuildError",
    "MintInfo",
    "TransferSpec",
    "as_hash",
    "blockhash_hint",
    "build_transaction",
    "compile_message",
    "compute_limit_instruction",
    "compute_price_instruction",
    "create_ata_instruction",
    "memo_bytes",
    "memo_instruction",
    "parse_pubkey",
    "payment_instructions",
    "random_memo",
    "sign_partial",
    "transfer_checked_instruction",
    "transfer_spec",
]

# The names of payment_instructions' four instructions, in their order.
PAYMENT_INSTRUCTIONS = ("compute_limit", "compute_price", "transfer", "memo")


@dataclass(frozen=True)
class MintInfo:
    """What the chain says about a mint: its decimals and which token program owns it."""

    address: Pubkey
    decimals: int
    token_program: Pubkey = TOKEN_PROGRAM_ID


@dataclass(frozen=True)
class TransferSpec:
    """Everything that goes into one payment transaction."""

    owner: Pubkey
    fee_payer: Pubkey
    pay_to: Pubkey
    mint: MintInfo
    amount: int
    memo: bytes
    blockhash: Hash
    compute_limit: int = COMPUTE_UNIT_LIMIT
    compute_price: int = COMPUTE_UNIT_PRICE_MICROLAMPORTS
    create_ata: bool = False  # CreateAssociatedTokenIdempotent of payTo's account at index 2

    @property
    def source(self) -> Pubkey:
        return associated_token_address(self.owner, self.mint.address, self.mint.token_program)

    @property
    def destination(self) -> Pubkey:
        return associated_token_address(self.pay_to, self.mint.address, self.mint.token_program)


# ---------------------------------------------------------------- instructions


CREATE_ATA_COMPUTE_UNIT_LIMIT = 80_000  # the create-ATA layout (under the facilitator's cap)


def compute_limit_instruction(units: int = COMPUTE_UNIT_LIMIT) -> Instruction:
    return Instruction(
        COMPUTE_BUDGET_PROGRAM_ID, struct.pack("<BI", SET_COMPUTE_UNIT_LIMIT, units), []
    )


def compute_price_instruction(microlamports: int = COMPUTE_UNIT_PRICE_MICROLAMPORTS) -> Instruction:
    return Instruction(
        COMPUTE_BUDGET_PROGRAM_ID, struct.pack("<BQ", SET_COMPUTE_UNIT_PRICE, microlamports), []
    )


def transfer_checked_instruction(
    source: Pubkey,
    mint: Pubkey,
    destination: Pubkey,
    authority: Pubkey,
    amount: int,
    decimals: int,
    token_program: Pubkey = TOKEN_PROGRAM_ID,
) -> Instruction:
    if not 0 <= amount <= U64_MAX:
        raise BuildError(f"amount {amount} does not fit a u64")
    if not 0 <= decimals <= 255:
        raise BuildError(f"decimals {decimals} do not fit a u8")
    return Instruction(
        token_program,
        struct.pack("<BQB", TRANSFER_CHECKED, amount, decimals),
        [
            AccountMeta(source, is_signer=False, is_writable=True),
            AccountMeta(mint, is_signer=False, is_writable=False),
            AccountMeta(destination, is_signer=False, is_writable=True),
            AccountMeta(authority, is_signer=True, is_writable=False),
        ],
    )


def create_ata_instruction(
    funder: Pubkey, owner: Pubkey, mint: Pubkey, token_program: Pubkey = TOKEN_PROGRAM_ID
) -> Instruction:
    """CreateAssociatedTokenIdempotent of `owner`'s account for `mint`, rent paid by `funder`."""
    return Instruction(
        ASSOCIATED_TOKEN_PROGRAM_ID,
        b"\x01",
        [
            AccountMeta(funder, is_signer=True, is_writable=True),
            AccountMeta(
                associated_token_address(owner, mint, token_program),
                is_signer=False,
                is_writable=True,
            ),
            AccountMeta(owner, is_signer=False, is_writable=False),
            AccountMeta(mint, is_signer=False, is_writable=False),
            AccountMeta(SYSTEM_PROGRAM_ID, is_signer=False, is_writable=False),
            AccountMeta(token_program, is_signer=False, is_writable=False),
        ],
    )


def memo_instruction(memo: bytes, signers: Sequence[Pubkey] = ()) -> Instruction:
    accounts = [AccountMeta(key, is_signer=True, is_writable=False) for key in signers]
    return Instruction(MEMO_PROGRAM_ID, memo, accounts)


def random_memo() -> bytes:
    """16 random bytes as 32 hex characters: makes every payment's message unique."""
    return os.urandom(16).hex().encode("ascii")


def memo_bytes(memo: str) -> bytes:
    data = memo.encode("utf-8")
    if len(data) > MAX_MEMO_BYTES:
        raise BuildError(f"extra.memo is {len(data)} bytes; at most {MAX_MEMO_BYTES}")
    return data


def payment_instructions(spec: TransferSpec) -> list[Instruction]:
    """The four instructions of an exact-SVM payment, in order (PAYMENT_INSTRUCTIONS), and the
    create-ATA at index 2 when `spec.create_ata`."""
    instructions = [
        compute_limit_instruction(spec.compute_limit),
        compute_price_instruction(spec.compute_price),
        transfer_checked_instruction(
            spec.source,
            spec.mint.address,
            spec.destination,
            spec.owner,
            spec.amount,
            spec.mint.decimals,
            spec.mint.token_program,
        ),
        memo_instruction(spec.memo),
    ]
    if spec.create_ata:
        mint = spec.mint
        ata = create_ata_instruction(spec.fee_payer, spec.pay_to, mint.address, mint.token_program)
        instructions.insert(2, ata)
    return instructions


# ---------------------------------------------------------------- message and signatures


def compile_message(
    fee_payer: Pubkey, instructions: Sequence[Instruction], blockhash: Hash
) -> MessageV0:
    return MessageV0.try_compile(fee_payer, list(instructions), [], blockhash)


def sign_partial(message: MessageV0, signers: Sequence[Keypair]) -> VersionedTransaction:
    """Sign the slots of `signers`; every other required signature stays all-zero.

    `populate` with signatures made here is much faster than the constructor that signs, and
    it lets a required signer (the fee payer) be left for the facilitator.
    """
    required = message.header.num_required_signatures
    keys = list(message.account_keys[:required])
    signatures = [Signature.default()] * required
    if signers:
        message_bytes = to_bytes_versioned(message)
        for keypair in signers:
            try:
                slot = keys.index(keypair.pubkey())
            except ValueError:
                raise BuildError(
                    f"{keypair.pubkey()} is not a required signer of this message"
                ) from None
            signatures[slot] = keypair.sign_message(message_bytes)
    return VersionedTransaction.populate(message, signatures)


def build_transaction(spec: TransferSpec, owner: Keypair) -> VersionedTransaction:
    """The payment transaction for `spec`, signed by `owner` only."""
    if owner.pubkey() != spec.owner:
        raise BuildError("the keypair does not match the transfer owner")
    message = compile_message(spec.fee_payer, payment_instructions(spec), spec.blockhash)
    return sign_partial(message, [owner])


# ---------------------------------------------------------------- from requirements


def parse_pubkey(value: object, what: str) -> Pubkey:
    if not isinstance(value, str):
        raise BuildError(f"{what} is missing or not a string")
    try:
        return Pubkey.from_string(value)
    except ValueError:
        raise BuildError(f"{what} {value!r} is not a base58 Solana address") from None


def blockhash_hint(requirements: AnyRequirements) -> Hash | None:
    """`extra.recentBlockhash` when the server supplied one (saves an RPC call)."""
    value = (requirements.extra or {}).get("recentBlockhash")
    if not isinstance(value, str):
        return None
    try:
        return Hash.from_string(value)
    except (ValueError, ParseHashError):
        raise BuildError(f"extra.recentBlockhash {value!r} is not a base58 hash") from None


def as_hash(value: Hash | str) -> Hash:
    if isinstance(value, Hash):
        return value
    try:
        return Hash.from_string(value)
    except (ValueError, ParseHashError):
        raise BuildError(f"blockhash {value!r} is not a base58 hash") from None


def transfer_spec(
    requirements: AnyRequirements,
    owner: Pubkey,
    mint: MintInfo,
    blockhash: Hash | str | None = None,
    memo: str | bytes | None = None,
    compute_limit: int = COMPUTE_UNIT_LIMIT,
    compute_price: int = COMPUTE_UNIT_PRICE_MICROLAMPORTS,
    create_ata: bool = False,
) -> TransferSpec:
    """Check the requirements and turn them into the facts of one transfer.

    blockhash: None uses `extra.recentBlockhash`; memo: None uses `extra.memo`, else a random
    nonce; create_ata: prepend payTo's CreateAssociatedTokenIdempotent (see the docstring)."""
    if requirements.scheme != SCHEME:
        raise BuildError(f"scheme {requirements.scheme!r} is not supported (only 'exact')")
    extra = requirements.extra or {}
    if "feePayer" not in extra:
        raise BuildError("requirements carry no extra.feePayer (the facilitator's key)")
    fee_payer = parse_pubkey(extra["feePayer"], "extra.feePayer")
    pay_to = parse_pubkey(requirements.pay_to, "payTo")
    asset = parse_pubkey(requirements.asset, "asset")
    if asset != mint.address:
        raise BuildError(f"mint facts are for {mint.address}, the asset is {asset}")
    if blockhash is None:
        blockhash = blockhash_hint(requirements)
        if blockhash is None:
            raise BuildError("no blockhash: pass one or put extra.recentBlockhash")
    if memo is None:
        server_memo = extra.get("memo")
        memo_data = memo_bytes(server_memo) if isinstance(server_memo, str) else random_memo()
    else:
        memo_data = memo if isinstance(memo, bytes) else memo_bytes(memo)
    return TransferSpec(
        owner=owner,
        fee_payer=fee_payer,
        pay_to=pay_to,
        mint=mint,
        amount=requirements.atomic_amount,
        memo=memo_data,
        blockhash=as_hash(blockhash),
        # Creating the account costs more than the transfer, and a varying amount (the
        # program searches payTo's account address, a few thousand units a try): 20,000
        # units failed now and then with "exceeded CUs meter".
        compute_limit=max(compute_limit, CREATE_ATA_COMPUTE_UNIT_LIMIT)
        if create_ata
        else compute_limit,
        compute_price=compute_price,
        create_ata=create_ata,
    )
