"""Hand-built exact-SVM payments for the facilitator tests (no chain needed to build them).

`Parties` holds the keys; `instructions()` gives the four instructions the official client sends;
`body()` wraps a signed transaction into a /verify or /settle request body (v1 or v2).
Tests change one thing at a time to exercise one rule.
"""

from __future__ import annotations

import base64
import os
import struct
from dataclasses import dataclass, field

from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import MessageV0, to_bytes_versioned
from solders.null_signer import NullSigner
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from sandbox.protocol.networks import SOLANA_DEVNET, USDC_DEVNET_MINT
from sandbox.protocol.programs import (
    COMPUTE_BUDGET_PROGRAM_ID,
    MEMO_PROGRAM_ID,
    TOKEN_PROGRAM_ID,
    associated_token_address,
)


@dataclass
class Parties:
    fee_payer: Keypair = field(default_factory=Keypair)
    client: Keypair = field(default_factory=Keypair)
    pay_to: Pubkey = field(default_factory=lambda: Keypair().pubkey())
    mint: Pubkey = field(default_factory=lambda: Pubkey.from_string(USDC_DEVNET_MINT))
    network: str = SOLANA_DEVNET
    program: Pubkey = TOKEN_PROGRAM_ID
    decimals: int = 6


def compute_limit(units: int = 20_000) -> Instruction:
    return Instruction(COMPUTE_BUDGET_PROGRAM_ID, bytes([2]) + struct.pack("<I", units), [])


def compute_price(microlamports: int = 1) -> Instruction:
    return Instruction(COMPUTE_BUDGET_PROGRAM_ID, bytes([3]) + struct.pack("<Q", microlamports), [])


def transfer(
    p: Parties,
    amount: int,
    *,
    source: Pubkey | None = None,
    destination: Pubkey | None = None,
    authority: Pubkey | None = None,
    mint: Pubkey | None = None,
    program: Pubkey | None = None,
) -> Instruction:
    program = program or p.program
    mint = mint or p.mint
    authority = authority or p.client.pubkey()
    source = source or associated_token_address(authority, mint, program)
    destination = destination or associated_token_address(p.pay_to, mint, program)
    return Instruction(
        program,
        bytes([12]) + struct.pack("<QB", amount, p.decimals),
        [
            AccountMeta(source, False, True),
            AccountMeta(mint, False, False),
            AccountMeta(destination, False, True),
            AccountMeta(authority, True, False),
        ],
    )


def memo(text: str | bytes | None = None) -> Instruction:
    data = text.encode() if isinstance(text, str) else (text or os.urandom(16).hex().encode())
    return Instruction(MEMO_PROGRAM_ID, data, [])


def instructions(p: Parties, amount: int, memo_text: str | None = None) -> list[Instruction]:
    return [compute_limit(), compute_price(), transfer(p, amount), memo(memo_text)]


def sign(
    p: Parties,
    ixs: list[Instruction],
    blockhash: Hash | None = None,
    *,
    signers: list[Keypair] | None = None,
    payer_key: Pubkey | None = None,
) -> VersionedTransaction:
    """Compile with the fee payer as account 0 and sign every slot but the fee payer's."""
    payer_key = payer_key or p.fee_payer.pubkey()
    message = MessageV0.try_compile(payer_key, ixs, [], blockhash or Hash.new_unique())
    signers = signers if signers is not None else [p.client]
    by_key = {kp.pubkey(): kp for kp in signers}
    required = message.header.num_required_signatures
    message_bytes = to_bytes_versioned(message)
    signatures = []
    for key in message.account_keys[:required]:
        keypair = by_key.get(key)
        signatures.append(keypair.sign_message(message_bytes) if keypair else Signature.default())
    return VersionedTransaction.populate(message, signatures)


def sign_with_null(p: Parties, ixs: list[Instruction], blockhash: Hash) -> VersionedTransaction:
    message = MessageV0.try_compile(p.fee_payer.pubkey(), ixs, [], blockhash)
    return VersionedTransaction(message, [NullSigner(p.fee_payer.pubkey()), p.client])


def b64(tx: VersionedTransaction | bytes) -> str:
    return base64.b64encode(bytes(tx)).decode()


def requirements(p: Parties, amount: int, **extra) -> dict:
    return {
        "scheme": "exact",
        "network": p.network,
        "amount": str(amount),
        "asset": str(p.mint),
        "payTo": str(p.pay_to),
        "maxTimeoutSeconds": 60,
        "extra": {"feePayer": str(p.fee_payer.pubkey()), **extra},
    }


def body(tx: VersionedTransaction | str, req: dict, version: int = 2) -> dict:
    transaction = tx if isinstance(tx, str) else b64(tx)
    if version == 1:
        v1_req = {
            "scheme": req["scheme"],
            "network": "solana-devnet" if req["network"] == SOLANA_DEVNET else req["network"],
            "maxAmountRequired": req["amount"],
            "resource": "http://127.0.0.1:4021/api/premium-content",
            "description": "",
            "mimeType": "application/json",
            "payTo": req["payTo"],
            "maxTimeoutSeconds": req["maxTimeoutSeconds"],
            "asset": req["asset"],
            "extra": req.get("extra"),
        }
        return {
            "x402Version": 1,
            "paymentPayload": {
                "x402Version": 1,
                "scheme": v1_req["scheme"],
                "network": v1_req["network"],
                "payload": {"transaction": transaction},
            },
            "paymentRequirements": v1_req,
        }
    return {
        "x402Version": 2,
        "paymentPayload": {
            "x402Version": 2,
            "resource": {"url": "http://127.0.0.1:4021/api/premium-content"},
            "accepted": req,
            "payload": {"transaction": transaction},
        },
        "paymentRequirements": req,
    }


def valid_body(p: Parties, amount: int = 10_000, blockhash: Hash | None = None, **kw) -> dict:
    req = requirements(p, amount)
    return body(sign(p, instructions(p, amount), blockhash), req, **kw)
