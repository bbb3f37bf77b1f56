"""A first-time merchant (no token account yet) paid through create-ATA, on real processes: a
chain and a facilitator run with `--layout role-based --allow-create-ata`, the payment built by
the payer's `create_ata=True`. The account exists afterwards and the fee payer's SOL fell by
exactly the rent plus the fee, which /metrics counts; each create-ATA pin wrong is refused and
costs it nothing. Created accounts count against the fee-payer protections: once the merchant
closes its account (taking the rent), a create-ATA for it is refused, and so is one beyond
`--max-created-accounts-per-minute`, each costing the fee payer nothing."""

from __future__ import annotations

import base64
import time

import httpx
import pytest
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from sandbox.chain.testing import start_chain
from sandbox.facilitator.testing import devnet_usdc_offer, start_facilitator
from sandbox.payer import MintInfo, build_payment
from sandbox.payer.payment import wrap_transaction
from sandbox.protocol import reasons
from sandbox.protocol.exact_svm import client
from sandbox.protocol.networks import USDC_DEVNET_MINT
from sandbox.protocol.programs import (
    TOKEN_2022_PROGRAM_ID,
    TOKEN_PROGRAM_ID,
    associated_token_address,
)
from sandbox.scenario_runner.context import max_fee

pytestmark = pytest.mark.slow

AMOUNT = 10_000
MINT = MintInfo(Pubkey.from_string(USDC_DEVNET_MINT), 6)
TOKEN_ACCOUNT_BYTES = 165
# one new account a minute: the second first-time merchant of this test is over the limit
ROLE_BASED = [
    "--layout", "role-based", "--allow-create-ata", "--max-created-accounts-per-minute", "1",
]  # fmt: skip
CLOSE_ACCOUNT = 9  # the token program's CloseAccount


def _pins(fee_payer: Pubkey, pay_to: Pubkey, owner: Keypair) -> dict[str, object]:
    """reason -> the create-ATA with that one pin wrong."""
    ata = client.create_ata_instruction(fee_payer, pay_to, MINT.address)
    accounts = list(ata.accounts)

    def changed(index: int, key: Pubkey) -> Instruction:
        edited = list(accounts)
        edited[index] = AccountMeta(key, edited[index].is_signer, edited[index].is_writable)
        return Instruction(ata.program_id, ata.data, edited)

    return {
        reasons.SVM_CREATE_ATA_NOT_IDEMPOTENT: Instruction(ata.program_id, b"", accounts),
        reasons.SVM_CREATE_ATA_ACCOUNT_COUNT: Instruction(
            ata.program_id, ata.data, [*accounts, AccountMeta(Pubkey.new_unique(), False, False)]
        ),
        reasons.SVM_CREATE_ATA_FUNDER_MISMATCH: changed(0, owner.pubkey()),
        reasons.SVM_CREATE_ATA_DESTINATION_MISMATCH: changed(1, Pubkey.new_unique()),
        reasons.SVM_CREATE_ATA_OWNER_MISMATCH: changed(2, Pubkey.new_unique()),
        reasons.SVM_CREATE_ATA_MINT_MISMATCH: changed(3, Pubkey.new_unique()),
        reasons.SVM_CREATE_ATA_SYSTEM_PROGRAM_MISMATCH: changed(4, Pubkey.new_unique()),
        reasons.SVM_CREATE_ATA_TOKEN_PROGRAM_MISMATCH: changed(5, TOKEN_2022_PROGRAM_ID),
    }


def test_first_time_merchant_paid_through_create_ata() -> None:
    with start_chain(slot_ms=0) as chain:
        fee_payer, owner, merchant_key = Keypair(), Keypair(), Keypair()
        merchant = merchant_key.pubkey()
        chain.rpc("requestAirdrop", str(fee_payer.pubkey()), 10_000_000_000)
        chain.rpc("requestAirdrop", str(merchant), 1_000_000_000)
        chain.rpc("requestAirdrop", str(owner.pubkey()), 1_000_000_000)
        chain.rpc("sandbox_mintTo", str(owner.pubkey()), 1_000_000)
        requirements = devnet_usdc_offer(merchant, fee_payer, AMOUNT)
        ata = associated_token_address(merchant, MINT.address, TOKEN_PROGRAM_ID)

        def account(key: Pubkey):
            return chain.rpc("getAccountInfo", str(key), {"encoding": "base64"})["value"]

        def sol() -> int:
            return chain.rpc("getBalance", str(fee_payer.pubkey()))["value"]

        def blockhash() -> Hash:
            answer = chain.rpc("getLatestBlockhash", {"commitment": "confirmed"})
            return Hash.from_string(answer["value"]["blockhash"])

        assert account(ata) is None  # a first-time merchant: no token account
        rent = chain.rpc("getMinimumBalanceForRentExemption", TOKEN_ACCOUNT_BYTES)
        with start_facilitator(chain.rpc_url, [fee_payer], ROLE_BASED, ws_url=chain.ws_url) as fac:
            health = httpx.get(f"{fac.url}/health", timeout=10).json()
            assert health["verification"]["layout"] == "role-based"
            assert health["verification"]["allowCreateAta"] is True

            # Each pin wrong: refused with its own reason, the fee payer's SOL untouched.
            for reason, wrong in _pins(fee_payer.pubkey(), merchant, owner).items():
                spec = client.transfer_spec(
                    requirements, owner.pubkey(), MINT, blockhash(), create_ata=True
                )
                instructions = client.payment_instructions(spec)
                instructions[2] = wrong
                message = client.compile_message(spec.fee_payer, instructions, spec.blockhash)
                signers = [owner]
                tx = client.sign_partial(message, signers)
                body = {
                    "x402Version": 2,
                    "paymentPayload": wrap_transaction(tx, requirements),
                    "paymentRequirements": requirements.to_wire(),
                }
                before = sol()
                answer = httpx.post(f"{fac.url}/settle", json=body, timeout=30).json()
                assert answer["success"] is False and answer["errorReason"] == reason, answer
                assert sol() == before, f"{reason}: the fee payer's SOL moved"
            assert account(ata) is None

            payment = build_payment(requirements, owner, MINT, blockhash(), create_ata=True)
            verdict = httpx.post(f"{fac.url}/verify", json=payment.facilitator_body(), timeout=30)
            assert verdict.json()["isValid"] is True, verdict.json()
            before = sol()
            settled = httpx.post(f"{fac.url}/settle", json=payment.facilitator_body(), timeout=30)
            receipt = settled.json()
            assert receipt["success"] is True, receipt
            landed = chain.rpc(
                "getTransaction",
                receipt["transaction"],
                {
                    "encoding": "json",
                    "commitment": "confirmed",
                    "maxSupportedTransactionVersion": 0,
                },
            )
            fee = landed["meta"]["fee"]
            assert landed["meta"]["err"] is None
            assert 0 < fee <= max_fee(payment.transaction.message)
            assert before - sol() == rent + fee  # exactly the rent plus the fee
            created = account(ata)
            assert created is not None and created["lamports"] == rent
            balance = chain.rpc("getTokenAccountBalance", str(ata))["value"]["amount"]
            assert int(balance) == AMOUNT

            # Paid again with create-ATA: idempotent, the fee payer pays the fee alone.
            again = build_payment(requirements, owner, MINT, blockhash(), create_ata=True)
            before = sol()
            receipt = httpx.post(
                f"{fac.url}/settle", json=again.facilitator_body(), timeout=30
            ).json()
            assert receipt["success"] is True, receipt
            assert before - sol() <= max_fee(again.transaction.message)
            balance = chain.rpc("getTokenAccountBalance", str(ata))["value"]["amount"]
            assert int(balance) == 2 * AMOUNT

            # /metrics counts the one account created and its rent, not the idempotent repeat.
            metrics = httpx.get(f"{fac.url}/metrics", timeout=10).text
            label = f'{{fee_payer="{fee_payer.pubkey()}"}}'
            values = dict(line.rsplit(" ", 1) for line in metrics.splitlines() if label in line)
            assert float(values[f"facilitator_created_accounts_total{label}"]) == 1
            assert float(values[f"facilitator_created_account_rent_lamports_total{label}"]) == rent

            # The merchant empties and closes its account, the rent going back to it: a
            # create-ATA that would fund it again is refused, for nothing.
            emptied = [
                client.transfer_checked_instruction(
                    ata, MINT.address, associated_token_address(owner.pubkey(), MINT.address),
                    merchant, 2 * AMOUNT, MINT.decimals,
                ),
                Instruction(
                    TOKEN_PROGRAM_ID, bytes([CLOSE_ACCOUNT]),
                    [AccountMeta(ata, False, True), AccountMeta(merchant, False, True),
                     AccountMeta(merchant, True, False)],
                ),
            ]  # fmt: skip
            closing = VersionedTransaction(
                MessageV0.try_compile(merchant, emptied, [], blockhash()), [merchant_key]
            )
            wire = base64.b64encode(bytes(closing)).decode()
            chain.rpc("sendTransaction", wire, {"encoding": "base64"})
            assert _wait_for(lambda: account(ata) is None), "the merchant's close did not land"
            _refused_for_nothing(fac.url, build_payment(requirements, owner, MINT, blockhash(),
                                 create_ata=True), sol, "already funded the rent")  # fmt: skip
            assert account(ata) is None

            # Another first-time merchant, the second account this minute: over the limit.
            fresh = devnet_usdc_offer(Keypair().pubkey(), fee_payer, AMOUNT)
            payment = build_payment(fresh, owner, MINT, blockhash(), create_ata=True)
            _refused_for_nothing(fac.url, payment, sol, "--max-created-accounts-per-minute 1")
            health = httpx.get(f"{fac.url}/health", timeout=10).json()
            assert health["verification"]["maxCreatedAccountsPerMinute"] == 1
            assert health["accountsFunded"] == 1


def _refused_for_nothing(url: str, payment, sol, says: str) -> None:
    """/verify and /settle both refuse `payment` create_ata_refused; the fee payer's SOL stays."""
    before = sol()
    verdict = httpx.post(f"{url}/verify", json=payment.facilitator_body(), timeout=30).json()
    assert verdict["isValid"] is False, verdict
    assert verdict["invalidReason"] == reasons.CREATE_ATA_REFUSED and says in verdict.get(
        "invalidMessage", ""
    ), verdict
    answer = httpx.post(f"{url}/settle", json=payment.facilitator_body(), timeout=30).json()
    assert answer["success"] is False, answer
    assert answer["errorReason"] == reasons.CREATE_ATA_REFUSED, answer
    assert sol() == before, "a refused create-ATA cost the fee payer SOL"


def _wait_for(condition, timeout: float = 20.0) -> bool:
    """Poll `condition` until true or `timeout` seconds passed (the chain confirms in ms)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()
