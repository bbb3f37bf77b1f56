"""Minimal payments for the middleware's unit tests: a v0 transaction carrying the challenge's
memo, fee payer = the facilitator's key, signed by the payer only. (The transfer itself is the
facilitator's business; the integration tests pay real ones with the payer package.)"""

from __future__ import annotations

import base64

from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import MessageV0, to_bytes_versioned
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from sandbox.protocol import (
    MEMO_PROGRAM_ID,
    decode_payment_required,
    decode_payment_required_v1,
    encode_json_header,
)


def memo_transaction(payer: Keypair, fee_payer: str, memo: str) -> str:
    instruction = Instruction(
        MEMO_PROGRAM_ID, memo.encode(), [AccountMeta(payer.pubkey(), True, False)]
    )
    message = MessageV0.try_compile(
        Pubkey.from_string(fee_payer), [instruction], [], Hash.new_unique()
    )
    signature = payer.sign_message(to_bytes_versioned(message))
    tx = VersionedTransaction.populate(message, [Signature.default(), signature])
    return base64.b64encode(bytes(tx)).decode()


def pay_v2(response, payer: Keypair, memo: str | None = None) -> dict[str, str]:
    """PAYMENT-SIGNATURE header paying the v2 challenge of a 402 response."""
    required = decode_payment_required(response.headers["PAYMENT-REQUIRED"])
    accepted = required.accepts[0]
    tx = memo_transaction(payer, accepted.fee_payer, memo or accepted.memo)
    payload = {
        "x402Version": 2,
        "resource": required.resource.to_wire(),
        "accepted": accepted.to_wire(),
        "payload": {"transaction": tx},
    }
    return {"PAYMENT-SIGNATURE": encode_json_header(payload)}


def pay_v1(response, payer: Keypair, memo: str | None = None) -> dict[str, str]:
    """X-PAYMENT header paying the v1 challenge (the JSON body) of a 402 response."""
    required = decode_payment_required_v1(response.content)
    accepted = required.accepts[0]
    tx = memo_transaction(payer, accepted.fee_payer, memo or accepted.memo)
    payload = {
        "x402Version": 1,
        "scheme": accepted.scheme,
        "network": accepted.network,
        "payload": {"transaction": tx},
    }
    return {"X-PAYMENT": encode_json_header(payload)}
