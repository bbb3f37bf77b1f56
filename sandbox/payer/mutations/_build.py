"""What every mutation shares: the correct transfer's facts, and a Payment assembled from an
edited instruction list (compiled, signed by the given keys, wrapped as v1 or v2)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from solders.hash import Hash
from solders.instruction import Instruction
from solders.keypair import Keypair

from sandbox.payer.payment import (
    Payment,
    payment_instructions,
    sign_partial,
    transfer_spec,
    wrap_transaction,
)
from sandbox.protocol import AnyRequirements, PaymentRequirementsV1
from sandbox.protocol.exact_svm.client import MintInfo, TransferSpec, compile_message

Resource = Any
Mutation = Callable[..., Payment]  # (requirements, owner, mint, blockhash, *, resource, ...)


def version_of(requirements: AnyRequirements) -> int:
    return 1 if isinstance(requirements, PaymentRequirementsV1) else 2


def assemble(
    requirements: AnyRequirements,
    spec: TransferSpec,
    instructions: Sequence[Instruction],
    signers: Sequence[Keypair],
    resource: Resource,
    description: str,
    blockhash: Hash | None = None,
) -> Payment:
    message = compile_message(spec.fee_payer, instructions, blockhash or spec.blockhash)
    transaction = sign_partial(message, signers)
    wire = wrap_transaction(transaction, requirements, resource)
    memo = spec.memo.decode("utf-8", "replace")
    return Payment(version_of(requirements), wire, requirements, transaction, memo, description)


def spec_for(
    requirements: AnyRequirements,
    owner: Keypair,
    mint: MintInfo,
    blockhash: Hash | str | None,
    memo: str | bytes | None = None,
) -> TransferSpec:
    return transfer_spec(requirements, owner.pubkey(), mint, blockhash, memo)


def correct_payment(requirements, owner, mint, blockhash, resource) -> Payment:
    spec = spec_for(requirements, owner, mint, blockhash)
    return assemble(requirements, spec, payment_instructions(spec), [owner], resource, "")
