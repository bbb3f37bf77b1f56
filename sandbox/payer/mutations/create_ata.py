"""The create-ATA layout (a merchant with no token account yet) with one pin of its
CreateAssociatedTokenIdempotent wrong: the facilitator must refuse each with its own reason
(`--layout role-based --allow-create-ata`), and its fee payer must fund nothing."""

from __future__ import annotations

from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from sandbox.payer.errors import PaymentBuildError
from sandbox.payer.mutations._build import assemble
from sandbox.payer.payment import payment_instructions, transfer_spec
from sandbox.protocol.programs import TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID

__all__ = ["CREATE_ATA_PINS", "create_ata_pin"]

# pin -> what is wrong (the account index it edits, or None for data / count)
CREATE_ATA_PINS = {
    "not_idempotent": "Create (empty data) instead of CreateIdempotent",
    "account_count": "a seventh account",
    "funder": "the client, not the fee payer, as funder",
    "destination": "another account than payTo's associated token account",
    "owner": "another owner than payTo",
    "mint": "another mint than the asset",
    "system_program": "another program than the System Program",
    "token_program": "the other token program than the transfer's",
}
_ACCOUNT = {"funder": 0, "destination": 1, "owner": 2, "mint": 3, "system_program": 4}


def _wrong(ix: Instruction, pin: str, owner: Pubkey) -> Instruction:
    accounts = list(ix.accounts)
    if pin == "not_idempotent":
        return Instruction(ix.program_id, b"", accounts)
    if pin == "account_count":
        return Instruction(
            ix.program_id, ix.data, [*accounts, AccountMeta(Pubkey.new_unique(), False, False)]
        )
    index = 5 if pin == "token_program" else _ACCOUNT[pin]
    if pin == "funder":
        key = owner
    elif pin == "token_program":
        token = accounts[5].pubkey
        key = TOKEN_2022_PROGRAM_ID if token == TOKEN_PROGRAM_ID else TOKEN_PROGRAM_ID
    else:
        key = Pubkey.new_unique()
    old = accounts[index]
    accounts[index] = AccountMeta(key, old.is_signer, old.is_writable)
    return Instruction(ix.program_id, ix.data, accounts)


def create_ata_pin(
    requirements, owner, mint, blockhash=None, *, resource=None, pin: str = "funder"
):
    """The create-ATA layout with the create-ATA's `pin` wrong (one of CREATE_ATA_PINS)."""
    if pin not in CREATE_ATA_PINS:
        raise PaymentBuildError(f"pin must be one of {', '.join(CREATE_ATA_PINS)}, not {pin!r}")
    spec = transfer_spec(requirements, owner.pubkey(), mint, blockhash, None, create_ata=True)
    instructions = payment_instructions(spec)
    instructions[2] = _wrong(instructions[2], pin, owner.pubkey())
    description = f"create-ATA with {CREATE_ATA_PINS[pin]}"
    return assemble(requirements, spec, instructions, [owner], resource, description)
