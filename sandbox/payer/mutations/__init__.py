"""Deliberately broken payments, for facilitator tests, scenarios and attack drills.

Each function takes the same inputs as `build_payment` (requirements, owner keypair, mint facts,
blockhash, optional resource) plus its own knobs, and returns a `Payment` whose `description`
says what is wrong. Everything not named stays exactly as a correct payment would be. `MUTATIONS`
maps a name to each function so a scenario can run them all.
"""

from __future__ import annotations

from sandbox.payer.mutations._build import Mutation
from sandbox.payer.mutations.create_ata import CREATE_ATA_PINS, create_ata_pin
from sandbox.payer.mutations.payload import (
    VERSION_MIXUPS,
    accepted_mismatch,
    version_mixup,
    wrong_network,
)
from sandbox.payer.mutations.transaction import (
    INSTRUCTION_NAMES,
    bad_signature,
    compute_limit_too_high,
    compute_price_too_high,
    extra_instruction,
    fee_payer_as_authority,
    fee_payer_in_instruction,
    flight_instructions,
    lighthouse_instruction,
    missing_instruction,
    reused_memo,
    stale_blockhash,
    wrong_amount,
    wrong_mint,
    wrong_recipient,
)

__all__ = [
    "CREATE_ATA_PINS",
    "INSTRUCTION_NAMES",
    "MUTATIONS",
    "VERSION_MIXUPS",
    "Mutation",
    "accepted_mismatch",
    "bad_signature",
    "compute_limit_too_high",
    "compute_price_too_high",
    "create_ata_pin",
    "extra_instruction",
    "fee_payer_as_authority",
    "fee_payer_in_instruction",
    "flight_instructions",
    "lighthouse_instruction",
    "missing_instruction",
    "reused_memo",
    "stale_blockhash",
    "version_mixup",
    "wrong_amount",
    "wrong_mint",
    "wrong_network",
    "wrong_recipient",
]

MUTATIONS: dict[str, Mutation] = {
    "wrong_amount": wrong_amount,
    "wrong_mint": wrong_mint,
    "wrong_recipient": wrong_recipient,
    "missing_instruction": missing_instruction,
    "extra_instruction": extra_instruction,
    "lighthouse_instruction": lighthouse_instruction,
    "flight_instructions": flight_instructions,
    "fee_payer_as_authority": fee_payer_as_authority,
    "fee_payer_in_instruction": fee_payer_in_instruction,
    "compute_price_too_high": compute_price_too_high,
    "compute_limit_too_high": compute_limit_too_high,
    "stale_blockhash": stale_blockhash,
    "bad_signature": bad_signature,
    "reused_memo": reused_memo,
    "wrong_network": wrong_network,
    "accepted_mismatch": accepted_mismatch,
    "version_mixup": version_mixup,
    "create_ata_pin": create_ata_pin,
}
