"""The role-based instruction layout of an exact-SVM payment (`--layout role-based`): each
instruction judged by what it is, not where it sits, as the reference verifier on the x402 main
branch does. Pure, no I/O; `check_payment` (facilitator.py) calls `check_roles` in place of its
positional rule and then runs every other rule unchanged.

    ComputeBudget SetComputeUnitLimit     in this relative order, each once (memos aside)
    ComputeBudget SetComputeUnitPrice
    [CreateAssociatedTokenIdempotent]     only with --allow-create-ata; index 2 when neither a
                                          preflight nor Lighthouse comes before it
    TransferChecked
    Memo ...                              several when extra.memo is unset (facilitator.py)
    Lighthouse                            anywhere: wallet guards assert, they move nothing
    preflight / postflight                instructions of operator-allowed programs
                                          (--preflight-allow / --postflight-allow) in one block
                                          before the payment / after it, none using a fee payer

Anything else is an unknown instruction. The create-ATA is funded by the fee payer, so every
account of it is pinned, each pin with its reason (`check_create_ata`): it can only create the
associated token account of payTo for the asset paid, under the transfer's token program.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from solders.pubkey import Pubkey

from sandbox.protocol import reasons
from sandbox.protocol.exact_svm import transaction as ixs
from sandbox.protocol.exact_svm.transaction import MAX_MEMO_BYTES, MEMO_PROGRAMS, TransferChecked
from sandbox.protocol.programs import (
    ASSOCIATED_TOKEN_PROGRAM_ID,
    COMPUTE_BUDGET_PROGRAM_ID,
    LIGHTHOUSE_PROGRAM_ID,
    SYSTEM_PROGRAM_ID,
    TOKEN_PROGRAMS,
    TRANSFER_CHECKED,
    associated_token_address,
)

if TYPE_CHECKING:
    from sandbox.protocol.exact_svm.facilitator import VerifyPolicy

__all__ = [
    "CREATE_ATA_IDEMPOTENT",
    "LAYOUTS",
    "RESERVED_PROGRAMS",
    "Layout",
    "Rejection",
    "Roles",
    "check_create_ata",
    "check_memos",
    "check_roles",
]

Layout = Literal["positional", "role-based"]
LAYOUTS: tuple[Layout, ...] = ("positional", "role-based")
CREATE_ATA_IDEMPOTENT = b"\x01"  # the ATA program's CreateIdempotent; Create is b"" or b"\x00"
# Programs whose instructions have a role of their own: never allow-listed as pre/postflight.
RESERVED_PROGRAMS = frozenset(
    {
        COMPUTE_BUDGET_PROGRAM_ID,
        *TOKEN_PROGRAMS,
        *MEMO_PROGRAMS,
        ASSOCIATED_TOKEN_PROGRAM_ID,
        LIGHTHOUSE_PROGRAM_ID,
    }
)

# Stages of the payment, in their order.
_NONE, _LIMIT, _PRICE, _CREATE, _TRANSFER = range(5)
_ROLE = {
    _LIMIT: "compute limit",
    _PRICE: "compute price",
    _CREATE: "create-ATA",
    _TRANSFER: "transfer",
}


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: str  # a reasons.Reason, or an injected fault's own string
    message: str


@dataclass(frozen=True, slots=True)
class Roles:
    """The payment's instructions found by role."""

    transfer: TransferChecked
    transfer_index: int
    memos: list[bytes]
    create_ata_index: int | None  # its funder (account 0) is the fee payer, by its pin


def _order(index: int, what: str, after: int) -> Rejection:
    where = "before any compute limit" if after == _NONE else f"after the {_ROLE[after]}"
    return Rejection(
        reasons.SVM_INSTRUCTIONS_ORDER,
        f"the {ixs.ordinal(index)} instruction, a {what}, comes {where}: a payment is compute "
        "limit, compute price, [create-ATA], transfer, then memos, each of the others once",
    )


def _flight_blocks(instructions, programs: list, keys, policy: VerifyPolicy):
    """(start, end) of the payment between the preflight and postflight blocks, or a Rejection
    when an instruction of a block uses a fee payer."""
    count = len(programs)
    start, end = 0, count
    if policy.preflight_allow:
        index = 0
        while index < count and (
            programs[index] == LIGHTHOUSE_PROGRAM_ID or programs[index] in policy.preflight_allow
        ):
            if programs[index] != LIGHTHOUSE_PROGRAM_ID:
                start = index + 1
            index += 1
    if policy.postflight_allow:
        index = count - 1
        while index >= start and (
            programs[index] == LIGHTHOUSE_PROGRAM_ID or programs[index] in policy.postflight_allow
        ):
            if programs[index] != LIGHTHOUSE_PROGRAM_ID:
                end = index
            index -= 1
    managed = policy.fee_payers
    for index in (*range(start), *range(end, count)):
        ix = instructions[index]
        used = [keys[i] for i in bytes(ix.accounts) if i < len(keys)] + [programs[index]]
        if any(key in managed for key in used):
            block = "preflight" if index < start else "postflight"
            return Rejection(
                reasons.SVM_FLIGHT_FEE_PAYER_NOT_ISOLATED,
                f"the {ixs.ordinal(index)} instruction (allow-listed {block}, program "
                f"{programs[index]}) uses the facilitator's fee payer",
            )
    return start, end


def check_roles(instructions, keys, policy: VerifyPolicy) -> Roles | Rejection:
    """The role-based layout (see the module docstring), count and compute caps included."""
    count = len(instructions)
    if not policy.min_instructions <= count <= policy.max_instructions:
        return Rejection(
            reasons.SVM_INSTRUCTIONS_LENGTH,
            f"the transaction has {count} instructions; this facilitator takes "
            f"{policy.min_instructions} to {policy.max_instructions} (--max-instructions)",
        )
    programs = [ixs.program_of(ix, keys) for ix in instructions]
    blocks = _flight_blocks(instructions, programs, keys, policy)
    if isinstance(blocks, Rejection):
        return blocks
    start, end = blocks
    stage = _NONE
    transfer: TransferChecked | None = None
    transfer_index = create_index = None
    memos: list[bytes] = []
    for index in range(start, end):
        ix, program = instructions[index], programs[index]
        if program == LIGHTHOUSE_PROGRAM_ID:
            continue
        if program in MEMO_PROGRAMS:
            if stage != _TRANSFER:
                return _order(index, "memo", stage)
            memos.append(ix.data)
        elif program == COMPUTE_BUDGET_PROGRAM_ID:
            limit = ixs.compute_unit_limit(ix, keys)
            price = None if limit is not None else ixs.compute_unit_price(ix, keys)
            if limit is not None:
                if stage != _NONE:
                    return _order(index, "compute limit", stage)
                if limit > policy.max_compute_unit_limit:
                    return Rejection(
                        reasons.SVM_COMPUTE_LIMIT_TOO_HIGH,
                        f"compute unit limit {limit} exceeds this facilitator's cap of "
                        f"{policy.max_compute_unit_limit}",
                    )
                stage = _LIMIT
            elif price is not None:
                if stage != _LIMIT:
                    return _order(index, "compute price", stage)
                if price > policy.max_compute_unit_price:
                    return Rejection(
                        reasons.SVM_COMPUTE_PRICE_TOO_HIGH,
                        f"compute unit price {price} microlamports exceeds this facilitator's "
                        f"cap of {policy.max_compute_unit_price}",
                    )
                stage = _PRICE
            else:
                return _unknown(index, "a ComputeBudget instruction of neither role")
        elif program in TOKEN_PROGRAMS:
            found = ixs.transfer_checked(ix, keys)
            if found is None:
                if bytes(ix.data[:1]) == bytes([TRANSFER_CHECKED]):
                    return Rejection(
                        reasons.SVM_NO_TRANSFER_INSTRUCTION,
                        f"the {ixs.ordinal(index)} instruction is a TransferChecked without "
                        "exactly its four accounts (source, mint, destination, owner) or data",
                    )
                return _unknown(index, f"a {program} instruction other than TransferChecked")
            if stage not in (_PRICE, _CREATE):
                return _order(index, "transfer", stage)
            stage, transfer, transfer_index = _TRANSFER, found, index
        elif program == ASSOCIATED_TOKEN_PROGRAM_ID and policy.allow_create_ata:
            if stage != _PRICE:
                return _order(index, "create-ATA", stage)
            stage, create_index = _CREATE, index
        else:
            hint = (
                " (a create-ATA needs --allow-create-ata)"
                if program == ASSOCIATED_TOKEN_PROGRAM_ID
                else ""
            )
            return _unknown(index, f"program {program}, which no payment calls{hint}")
    if stage < _LIMIT:
        return Rejection(
            reasons.SVM_COMPUTE_LIMIT_INSTRUCTION,
            "the payment has no ComputeBudget SetComputeUnitLimit before its transfer",
        )
    if stage < _PRICE:
        return Rejection(
            reasons.SVM_COMPUTE_PRICE_INSTRUCTION,
            "the payment has no ComputeBudget SetComputeUnitPrice after its compute limit",
        )
    if transfer is None or transfer_index is None:
        return Rejection(
            reasons.SVM_NO_TRANSFER_INSTRUCTION,
            "the payment has no TransferChecked of SPL Token or Token-2022",
        )
    return Roles(transfer, transfer_index, memos, create_index)


def _unknown(index: int, what: str) -> Rejection:
    return Rejection(
        reasons.SVM_UNKNOWN_INSTRUCTION,
        f"the {ixs.ordinal(index)} instruction is {what}: only the payment's instructions, "
        "Lighthouse and the allow-listed preflight and postflight programs may appear",
    )


def check_create_ata(
    ix, keys, transfer: TransferChecked, fee_payer: Pubkey, asset: Pubkey, pay_to: Pubkey
) -> Rejection | None:
    """Every pin of the create-ATA the fee payer funds, each with its own reason."""
    data = bytes(ix.data)
    if data != CREATE_ATA_IDEMPOTENT:
        return Rejection(
            reasons.SVM_CREATE_ATA_NOT_IDEMPOTENT,
            f"the create-ATA's data is {data.hex() or 'empty'}: only CreateIdempotent (01) may "
            "be funded by the fee payer",
        )
    accounts = bytes(ix.accounts)
    if len(accounts) != 6 or any(index >= len(keys) for index in accounts):
        return Rejection(
            reasons.SVM_CREATE_ATA_ACCOUNT_COUNT,
            f"the create-ATA has {len(accounts)} accounts; CreateIdempotent has six (funder, "
            "account, owner, mint, System Program, token program)",
        )
    funder, account, owner, mint, system, token = (keys[index] for index in accounts)
    expected = associated_token_address(pay_to, asset, transfer.program)
    pins = (
        (funder, fee_payer, reasons.SVM_CREATE_ATA_FUNDER_MISMATCH, "funder", "extra.feePayer"),
        (owner, pay_to, reasons.SVM_CREATE_ATA_OWNER_MISMATCH, "owner", "payTo"),
        (mint, asset, reasons.SVM_CREATE_ATA_MINT_MISMATCH, "mint", "the asset"),
        (
            system,
            SYSTEM_PROGRAM_ID,
            reasons.SVM_CREATE_ATA_SYSTEM_PROGRAM_MISMATCH,
            "system program",
            "the System Program",
        ),
        (
            token,
            transfer.program,
            reasons.SVM_CREATE_ATA_TOKEN_PROGRAM_MISMATCH,
            "token program",
            "the transfer's token program",
        ),
        (
            account,
            expected,
            reasons.SVM_CREATE_ATA_DESTINATION_MISMATCH,
            "account",
            "payTo's associated token account for the asset",
        ),
    )
    for got, wanted, reason, what, name in pins:
        if got != wanted:
            return Rejection(reason, f"the create-ATA's {what} is {got}, not {name} {wanted}")
    return None


def check_memos(memos: list[bytes], extra: dict, several: bool = False):
    """The memo rules of both layouts; `several`: more than one memo is allowed when extra.memo
    is unset (role-based). An empty extra.memo is unset, as the reference verifier reads it.
    Answers (rejection, None) or (None, the memo or None)."""
    wanted = extra.get("memo")
    if wanted == "":
        wanted = None
    if wanted is not None and not isinstance(wanted, str):
        return Rejection(reasons.INVALID_PAYMENT_REQUIREMENTS, "extra.memo must be a string"), None
    if wanted is not None:
        if len(memos) != 1:
            message = (
                f"extra.memo is set, so the transaction needs exactly one memo; it has {len(memos)}"
            )
            return Rejection(reasons.SVM_MEMO_COUNT, message), None
        if memos[0] != wanted.encode():
            message = f"the memo {memos[0][:64]!r} differs from extra.memo {wanted[:64]!r}"
            return Rejection(reasons.SVM_MEMO_MISMATCH, message), None
    if len(memos) > 1 and not several:
        message = f"the transaction has {len(memos)} memos; a payment carries at most one"
        return Rejection(reasons.SVM_MEMO_COUNT, message), None
    if any(len(memo) > MAX_MEMO_BYTES for memo in memos):
        message = f"a memo is longer than {MAX_MEMO_BYTES} bytes"
        return Rejection(reasons.SVM_MEMO_MISMATCH, message), None
    # Several memos (role-based, extra.memo unset): no single one is the client's nonce.
    return None, memos[0] if len(memos) == 1 else None
