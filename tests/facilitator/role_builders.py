"""Payments in the role-based layout (`layout="role-based"`), and one case per rule of it.

`create_ata()` builds the CreateAssociatedTokenIdempotent a client prepends for a merchant with no
token account (every pin right unless told otherwise); `ROLE_RULES` is one (reason, build, policy)
case per rule of `layouts.check_roles` and `layouts.check_create_ata`, shared by the role-based
tests and the reason-enum test.
"""

from __future__ import annotations

from facilitator_builders import (
    Parties,
    body,
    compute_limit,
    compute_price,
    memo,
    requirements,
    sign,
    transfer,
)
from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from sandbox.protocol import reasons
from sandbox.protocol.programs import (
    ASSOCIATED_TOKEN_PROGRAM_ID,
    COMPUTE_BUDGET_PROGRAM_ID,
    LIGHTHOUSE_PROGRAM_ID,
    SYSTEM_PROGRAM_ID,
    TOKEN_2022_PROGRAM_ID,
    associated_token_address,
)

AMOUNT = 10_000
ROLE = {"layout": "role-based"}
CREATE = {"layout": "role-based", "allow_create_ata": True}
LIGHTHOUSE = Instruction(LIGHTHOUSE_PROGRAM_ID, b"\x00", [])
STRANGER = Instruction(Pubkey.new_unique(), b"", [])  # a program no payment calls
PREFLIGHT = Pubkey.new_unique()  # an operator's program, allow-listed in some policies
POSTFLIGHT = Pubkey.new_unique()


def create_ata(
    p: Parties,
    *,
    data: bytes = b"\x01",
    funder: Pubkey | None = None,
    account: Pubkey | None = None,
    owner: Pubkey | None = None,
    mint: Pubkey | None = None,
    system: Pubkey = SYSTEM_PROGRAM_ID,
    token: Pubkey | None = None,
    more: int = 0,
) -> Instruction:
    """payTo's associated token account created idempotently, its rent paid by the fee payer."""
    token = token or p.program
    keys = [
        AccountMeta(funder or p.fee_payer.pubkey(), True, True),
        AccountMeta(account or associated_token_address(p.pay_to, p.mint, p.program), False, True),
        AccountMeta(owner or p.pay_to, False, False),
        AccountMeta(mint or p.mint, False, False),
        AccountMeta(system, False, False),
        AccountMeta(token, False, False),
    ]
    keys += [AccountMeta(Pubkey.new_unique(), False, False) for _ in range(more)]
    return Instruction(ASSOCIATED_TOKEN_PROGRAM_ID, data, keys)


def with_create(p: Parties, amount: int = AMOUNT, **pins) -> list[Instruction]:
    """The create-ATA layout: limit, price, create-ATA (index 2), transfer, memo."""
    return [compute_limit(), compute_price(), create_ata(p, **pins), transfer(p, amount), memo()]


def flight(program: Pubkey, account: Pubkey | None = None) -> Instruction:
    accounts = [AccountMeta(account, False, False)] if account else []
    return Instruction(program, b"\x07", accounts)


def pay(p: Parties, ixs, req: dict | None = None, **kw) -> dict:
    return body(sign(p, ixs, **kw), req or requirements(p, AMOUNT))


def _base(p: Parties) -> list[Instruction]:
    return [compute_limit(), compute_price(), transfer(p, AMOUNT)]


def _not_a_transfer(p: Parties) -> Instruction:
    ix = transfer(p, AMOUNT)
    return Instruction(ix.program_id, bytes([3]) + ix.data[1:9], ix.accounts[:3])


def _short_transfer(p: Parties) -> Instruction:
    ix = transfer(p, AMOUNT)
    return Instruction(ix.program_id, ix.data, ix.accounts[:3])


def _compute_other() -> Instruction:
    return Instruction(COMPUTE_BUDGET_PROGRAM_ID, b"\x01", [])  # RequestHeapFrame-like


def _with_fee_payer(p: Parties, program: Pubkey) -> Instruction:
    return flight(program, p.fee_payer.pubkey())


# (reason, build the /verify body, the policy's changes)
ROLE_RULES = [
    (reasons.SVM_INSTRUCTIONS_LENGTH, lambda p: pay(p, [*_base(p), *[LIGHTHOUSE] * 5]), ROLE),
    (
        reasons.SVM_FLIGHT_FEE_PAYER_NOT_ISOLATED,
        lambda p: pay(p, [_with_fee_payer(p, PREFLIGHT), *_base(p)]),
        {**ROLE, "preflight_allow": frozenset([PREFLIGHT])},
    ),
    (
        reasons.SVM_FLIGHT_FEE_PAYER_NOT_ISOLATED,
        lambda p: pay(p, [*_base(p), LIGHTHOUSE, _with_fee_payer(p, POSTFLIGHT)]),
        {**ROLE, "postflight_allow": frozenset([POSTFLIGHT])},
    ),
    (reasons.SVM_UNKNOWN_INSTRUCTION, lambda p: pay(p, [STRANGER, *_base(p)]), ROLE),
    (reasons.SVM_UNKNOWN_INSTRUCTION, lambda p: pay(p, with_create(p)), ROLE),
    (
        reasons.SVM_UNKNOWN_INSTRUCTION,
        lambda p: pay(p, [*_base(p)[:2], _not_a_transfer(p), transfer(p, AMOUNT)]),
        ROLE,
    ),
    (
        reasons.SVM_UNKNOWN_INSTRUCTION,
        lambda p: pay(p, [compute_limit(), _compute_other(), *_base(p)[1:]]),
        ROLE,
    ),
    (
        reasons.SVM_INSTRUCTIONS_ORDER,
        lambda p: pay(p, [compute_price(), compute_limit(), transfer(p, AMOUNT)]),
        ROLE,
    ),
    (
        reasons.SVM_INSTRUCTIONS_ORDER,
        lambda p: pay(p, [*_base(p)[:2], memo(), *_base(p)[2:]]),
        ROLE,
    ),
    (reasons.SVM_INSTRUCTIONS_ORDER, lambda p: pay(p, [*_base(p), transfer(p, AMOUNT)]), ROLE),
    (reasons.SVM_INSTRUCTIONS_ORDER, lambda p: pay(p, [*_base(p), create_ata(p)]), CREATE),
    (reasons.SVM_INSTRUCTIONS_ORDER, lambda p: pay(p, [*_base(p)[:1], *_base(p)]), ROLE),
    (
        reasons.SVM_COMPUTE_LIMIT_TOO_HIGH,
        lambda p: pay(p, [compute_limit(1_400_000), *_base(p)[1:]]),
        ROLE,
    ),
    (
        reasons.SVM_COMPUTE_PRICE_TOO_HIGH,
        lambda p: pay(p, [compute_limit(), compute_price(5_000_001), *_base(p)[2:]]),
        ROLE,
    ),
    (reasons.SVM_COMPUTE_LIMIT_INSTRUCTION, lambda p: pay(p, [LIGHTHOUSE] * 3), ROLE),
    (
        reasons.SVM_COMPUTE_PRICE_INSTRUCTION,
        lambda p: pay(p, [compute_limit(), LIGHTHOUSE, LIGHTHOUSE]),
        ROLE,
    ),
    (reasons.SVM_NO_TRANSFER_INSTRUCTION, lambda p: pay(p, [*_base(p)[:2], LIGHTHOUSE]), ROLE),
    (
        reasons.SVM_NO_TRANSFER_INSTRUCTION,
        lambda p: pay(p, [*_base(p)[:2], _short_transfer(p)]),
        ROLE,
    ),
    # the create-ATA's pins, each with its own reason
    (reasons.SVM_CREATE_ATA_NOT_IDEMPOTENT, lambda p: pay(p, with_create(p, data=b"")), CREATE),
    (reasons.SVM_CREATE_ATA_NOT_IDEMPOTENT, lambda p: pay(p, with_create(p, data=b"\x00")), CREATE),
    (reasons.SVM_CREATE_ATA_ACCOUNT_COUNT, lambda p: pay(p, with_create(p, more=1)), CREATE),
    (
        reasons.SVM_CREATE_ATA_FUNDER_MISMATCH,
        lambda p: pay(p, with_create(p, funder=p.client.pubkey())),
        CREATE,
    ),
    (
        reasons.SVM_CREATE_ATA_OWNER_MISMATCH,
        lambda p: pay(p, with_create(p, owner=Pubkey.new_unique())),
        CREATE,
    ),
    (
        reasons.SVM_CREATE_ATA_MINT_MISMATCH,
        lambda p: pay(p, with_create(p, mint=Pubkey.new_unique())),
        CREATE,
    ),
    (
        reasons.SVM_CREATE_ATA_SYSTEM_PROGRAM_MISMATCH,
        lambda p: pay(p, with_create(p, system=Pubkey.new_unique())),
        CREATE,
    ),
    (
        reasons.SVM_CREATE_ATA_TOKEN_PROGRAM_MISMATCH,
        lambda p: pay(p, with_create(p, token=TOKEN_2022_PROGRAM_ID)),
        CREATE,
    ),
    (
        reasons.SVM_CREATE_ATA_DESTINATION_MISMATCH,
        lambda p: pay(p, with_create(p, account=Pubkey.new_unique())),
        CREATE,
    ),
    # memo rules of the role-based layout
    (
        reasons.SVM_MEMO_COUNT,
        lambda p: pay(p, [*_base(p), memo("a"), memo("a")], requirements(p, AMOUNT, memo="a")),
        ROLE,
    ),
    (
        reasons.SVM_MEMO_MISMATCH,
        lambda p: pay(p, [*_base(p), memo("b"), LIGHTHOUSE], requirements(p, AMOUNT, memo="a")),
        ROLE,
    ),
    (reasons.SVM_MEMO_MISMATCH, lambda p: pay(p, [*_base(p), memo(), memo("m" * 257)]), ROLE),
]
