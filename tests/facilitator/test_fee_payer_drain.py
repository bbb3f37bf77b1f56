"""The drain race against a real chain and a real facilitator process (issue 16, point 3).

One wallet holds the price of one payment and fires 32 different payments at /settle at once.
Before guard.py every one passed its simulation, was co-signed and sent without preflight, and
31 landed failing, each paid for by the fee payer. Now exactly one settles, the fee payer loses
at most the fees of one successful and one failed transaction, and the other 31 are refused
with a reason (insufficient_funds from their simulation, or payer_temporarily_refused).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
from solders.hash import Hash
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from sandbox.facilitator.guard import fee_lamports
from sandbox.facilitator.testing import devnet_usdc_offer
from sandbox.payer import MintInfo, build_payment
from sandbox.protocol import reasons
from sandbox.protocol.networks import USDC_DEVNET_MINT
from sandbox.protocol.programs import associated_token_address

PAYMENTS = 32
AMOUNT = 10_000
MINT = MintInfo(Pubkey.from_string(USDC_DEVNET_MINT), 6)


def test_one_wallet_with_one_price_cannot_make_the_fee_payer_pay_for_32_payments(
    chain0, fac, fee_payer_party
):
    fee_payer = fee_payer_party.p.fee_payer
    client, pay_to = Keypair(), Keypair().pubkey()
    chain0.rpc("sandbox_mintTo", str(client.pubkey()), AMOUNT)  # exactly one price
    chain0.rpc("sandbox_mintTo", str(pay_to), 0)
    requirements = devnet_usdc_offer(pay_to, fee_payer, AMOUNT)
    answer = chain0.rpc("getLatestBlockhash", {"commitment": "confirmed"})
    blockhash = Hash.from_string(answer["value"]["blockhash"])
    payments = [build_payment(requirements, client, MINT, blockhash) for _ in range(PAYMENTS)]
    assert len({p.transaction.signatures[1] for p in payments}) == PAYMENTS  # all different
    fee = fee_lamports(payments[0].transaction)

    def sol() -> int:
        return chain0.rpc("getBalance", str(fee_payer.pubkey()), {"commitment": "processed"})[
            "value"
        ]

    before = sol()
    with httpx.Client(timeout=60, limits=httpx.Limits(max_connections=PAYMENTS)) as http:

        def settle(body: dict) -> dict:
            response = http.post(f"{fac.url}/settle", json=body)
            assert response.status_code == 200, response.text
            return response.json()

        with ThreadPoolExecutor(PAYMENTS) as pool:
            answers = list(pool.map(settle, [p.facilitator_body() for p in payments]))

    settled = [a for a in answers if a["success"]]
    refused = [a for a in answers if not a["success"]]
    assert len(settled) == 1, answers
    assert all(a.get("errorReason") for a in refused), refused
    assert {a["errorReason"] for a in refused} <= {
        reasons.INSUFFICIENT_FUNDS,
        reasons.PAYER_TEMPORARILY_REFUSED,
        reasons.TRANSACTION_FAILED,
    }, refused
    lost = before - sol()  # every answer is in: whatever was sent has landed or never will
    assert fee <= lost <= 2 * fee, f"the fee payer lost {lost} lamports (one fee: {fee})"
    ata = associated_token_address(pay_to, MINT.address)
    received = chain0.rpc("getTokenAccountBalance", str(ata), {"commitment": "confirmed"})
    assert int(received["value"]["amount"]) == AMOUNT
