"""Payments through a real facilitator and chain: the happy path, every rule, fee-payer attacks."""

from __future__ import annotations

import base64
import struct
from concurrent.futures import ThreadPoolExecutor

import pytest
from facilitator_builders import (
    b64,
    body,
    compute_limit,
    compute_price,
    instructions,
    memo,
    requirements,
    sign,
    transfer,
)
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import MessageAddressTableLookup, MessageV0, to_bytes_versioned
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.system_program import TransferParams
from solders.system_program import transfer as sol_transfer
from solders.transaction import VersionedTransaction

from sandbox.protocol import reasons
from sandbox.protocol.networks import SOLANA_MAINNET
from sandbox.protocol.programs import (
    LIGHTHOUSE_PROGRAM_ID,
    TOKEN_2022_PROGRAM_ID,
    associated_token_address,
)

AMOUNT = 10_000
FEE = 5_000 * 2  # two signatures, 5,000 lamports each; the 1-microlamport price rounds to 0


def test_supported_lists_v1_and_v2_kinds_with_the_fee_payer(fac, funded):
    answer = fac.get("/supported").json()
    fee_payer = str(funded.p.fee_payer.pubkey())
    kinds = {(k["x402Version"], k["network"]): k for k in answer["kinds"]}
    assert kinds[(1, "solana-devnet")]["extra"]["feePayer"] == fee_payer
    assert kinds[(2, "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1")]["extra"]["feePayer"] == fee_payer
    assert answer["signers"] == {"solana:*": [fee_payer]}


def test_health_reports_fee_payer_balance(fac, funded):
    health = fac.get("/health").json()
    assert health["status"] == "ok"
    (payer,) = health["feePayers"]
    assert payer["lamports"] == funded.sol(funded.p.fee_payer.pubkey())
    assert payer["low"] is False


@pytest.mark.parametrize("version", [1, 2])
def test_valid_payment_verifies_settles_and_moves_money(fac, funded, version):
    p = funded.p
    fee_payer_before = funded.sol(p.fee_payer.pubkey())
    payment = funded.payment(AMOUNT, version=version)
    verdict = fac.verify(payment)
    assert verdict == {"isValid": True, "payer": str(p.client.pubkey())}
    assert funded.usdc(p.pay_to) == 0  # verify moves nothing
    receipt = fac.settle(payment)
    assert receipt["success"] is True, receipt
    assert receipt["payer"] == str(p.client.pubkey())
    assert receipt["amount"] == str(AMOUNT)
    assert receipt["network"] == payment["paymentRequirements"]["network"]
    assert funded.usdc(p.pay_to) == AMOUNT
    assert funded.usdc(p.client.pubkey()) == 10_000_000 - AMOUNT
    landed = funded.transaction(receipt["transaction"])
    assert landed is not None and landed["meta"]["err"] is None
    assert funded.sol(p.fee_payer.pubkey()) == fee_payer_before - landed["meta"]["fee"]
    assert fac.settle(payment)["errorReason"] == reasons.DUPLICATE_SETTLEMENT
    assert fac.verify(payment)["invalidReason"] == reasons.DUPLICATE_SETTLEMENT


def _with_lookup_table(p, ixs, blockhash: Hash) -> VersionedTransaction:
    """The payment compiled with an address lookup table and signed by the client over it."""
    m = sign(p, ixs, blockhash).message
    lookup = MessageAddressTableLookup(Pubkey.new_unique(), bytes([0]), bytes([]))
    m2 = MessageV0(m.header, m.account_keys, m.recent_blockhash, m.instructions, [lookup])
    client_signature = p.client.sign_message(to_bytes_versioned(m2))
    return VersionedTransaction.populate(m2, [Signature.default(), client_signature])


def _rule_cases(p, blockhash: Hash):
    """(name, request body, expected reason), each breaking one rule."""
    req = requirements(p, AMOUNT)
    ok = instructions(p, AMOUNT)

    def pay(ixs, r=None, **kw):
        return body(sign(p, ixs, blockhash, **kw), r or req)

    stranger = Keypair()
    accepted_differs = pay(ok)
    accepted_differs["paymentPayload"]["accepted"] = {**req, "amount": "1"}
    valid_wire = bytes(sign(p, ok, blockhash))
    usdc_by_token_2022 = transfer(p, AMOUNT, program=TOKEN_2022_PROGRAM_ID)
    cases = [
        ("scheme", pay(ok, {**req, "scheme": "upto"}), reasons.UNSUPPORTED_SCHEME),
        ("network", pay(ok, {**req, "network": SOLANA_MAINNET}), reasons.NETWORK_MISMATCH),
        ("accepted != requirements", accepted_differs, reasons.INVALID_PAYMENT_REQUIREMENTS),
        ("not base64", body("!!!not base64", req), reasons.SVM_NOT_DECODABLE),
        (
            "not a transaction",
            body(base64.b64encode(b"\x01\x02\x03").decode(), req),
            reasons.SVM_NOT_DECODABLE,
        ),
        ("trailing bytes", body(b64(valid_wire + b"\x00"), req), reasons.SVM_NOT_DECODABLE),
        (
            "account 0 is not extra.feePayer",
            body(sign(p, ok, blockhash, payer_key=stranger.pubkey()), req),
            reasons.FEE_PAYER_NOT_MANAGED,
        ),
        (
            "address lookup table",
            body(_with_lookup_table(p, ok, blockhash), req),
            reasons.SVM_ADDRESS_LOOKUP_TABLES,
        ),
        (
            "fee payer not managed",
            pay(ok, {**req, "extra": {"feePayer": str(stranger.pubkey())}}),
            reasons.FEE_PAYER_NOT_MANAGED,
        ),
        ("fee payer missing", pay(ok, {**req, "extra": {}}), reasons.SVM_MISSING_FEE_PAYER),
        ("instruction count", pay(ok[:2]), reasons.SVM_INSTRUCTIONS_LENGTH),
        (
            "compute limit first",
            pay([compute_price(), compute_limit(), *ok[2:]]),
            reasons.SVM_COMPUTE_LIMIT_INSTRUCTION,
        ),
        (
            "compute limit cap",
            pay([compute_limit(1_000_000), *ok[1:]]),
            reasons.SVM_COMPUTE_LIMIT_TOO_HIGH,
        ),
        (
            "compute price second",
            pay([ok[0], memo(), *ok[2:]]),
            reasons.SVM_COMPUTE_PRICE_INSTRUCTION,
        ),
        (
            "compute price cap",
            pay([ok[0], compute_price(10_000_000), *ok[2:]]),
            reasons.SVM_COMPUTE_PRICE_TOO_HIGH,
        ),
        (
            "no transfer",
            pay([*ok[:2], memo(), memo()]),
            reasons.SVM_NO_TRANSFER_INSTRUCTION,
        ),
        (
            "transfer by a program that is no token program",
            pay([*ok[:2], Instruction(Pubkey.new_unique(), ok[2].data, ok[2].accounts), ok[3]]),
            reasons.SVM_NO_TRANSFER_INSTRUCTION,
        ),
        (
            # The checks pass (Token-2022 accounts throughout); the chain knows the mint is not
            # Token-2022's, so only simulation can catch it.
            "USDC moved by Token-2022",
            pay([*ok[:2], usdc_by_token_2022, ok[3]]),
            reasons.TRANSACTION_SIMULATION_FAILED,
        ),
        (
            "recipient token account of the other token program",
            pay(
                [
                    *ok[:2],
                    transfer(
                        p,
                        AMOUNT,
                        destination=associated_token_address(
                            p.pay_to, p.mint, TOKEN_2022_PROGRAM_ID
                        ),
                    ),
                    ok[3],
                ]
            ),
            reasons.SVM_RECIPIENT_MISMATCH,
        ),
        (
            "unknown fourth",
            pay([*ok[:3], transfer(p, 1)]),
            reasons.SVM_UNKNOWN_FOURTH_INSTRUCTION,
        ),
        (
            "mint",
            pay([*ok[:2], transfer(p, AMOUNT, mint=Pubkey.new_unique()), ok[3]]),
            reasons.SVM_MINT_MISMATCH,
        ),
        (
            "recipient",
            pay([*ok[:2], transfer(p, AMOUNT, destination=Pubkey.new_unique()), ok[3]]),
            reasons.SVM_RECIPIENT_MISMATCH,
        ),
        ("amount low", pay(instructions(p, AMOUNT - 1)), reasons.SVM_AMOUNT_INSUFFICIENT),
        ("amount high", pay(instructions(p, AMOUNT + 1)), reasons.SVM_AMOUNT_MISMATCH),
        (
            "memo mismatch",
            pay(instructions(p, AMOUNT, "b"), requirements(p, AMOUNT, memo="a")),
            reasons.SVM_MEMO_MISMATCH,
        ),
        ("memo count", pay([*ok, memo()]), reasons.SVM_MEMO_COUNT),
        ("signature", pay(ok, signers=[]), reasons.SVM_SIGNATURE_INVALID),
        (
            "insufficient funds",
            pay(instructions(p, 20_000_000), requirements(p, 20_000_000)),
            reasons.INSUFFICIENT_FUNDS,
        ),
        (
            "unknown blockhash",
            body(sign(p, ok, Hash.new_unique()), req),
            reasons.TRANSACTION_SIMULATION_FAILED,
        ),
        (
            "lighthouse not deployed",
            pay([*ok, Instruction(LIGHTHOUSE_PROGRAM_ID, b"\x00", [])]),
            reasons.TRANSACTION_SIMULATION_FAILED,
        ),
    ]
    return cases


def test_every_rule_rejects_at_verify_and_settle(fac, funded):
    p = funded.p
    before = (funded.usdc(p.client.pubkey()), funded.sol(p.fee_payer.pubkey()))
    for name, payment, reason in _rule_cases(p, funded.blockhash()):
        verdict = fac.verify(payment)
        assert verdict["isValid"] is False, name
        assert verdict["invalidReason"] == reason, (name, verdict)
        assert verdict["invalidMessage"], name
        receipt = fac.settle(payment)
        assert receipt["success"] is False, name
        assert receipt["errorReason"] == reason, (name, receipt)
        assert receipt["transaction"] == ""
    assert (funded.usdc(p.client.pubkey()), funded.sol(p.fee_payer.pubkey())) == before


def _attacks(p, blockhash: Hash):
    """Fee-payer drains: each would make the facilitator pay out of its own wallet."""
    fp = p.fee_payer.pubkey()
    ok = instructions(p, AMOUNT)
    drain_sol = sol_transfer(
        TransferParams(from_pubkey=fp, to_pubkey=p.client.pubkey(), lamports=10**9)
    )
    memo_with_fee_payer = Instruction(ok[3].program_id, b"hi", [AccountMeta(fp, True, True)])
    memo_reading_fee_payer = Instruction(ok[3].program_id, b"hi", [AccountMeta(fp, False, False)])
    writable_fp = [AccountMeta(fp, False, True)]
    limit_with_fee_payer = Instruction(ok[0].program_id, ok[0].data, writable_fp)
    price_with_fee_payer = Instruction(ok[1].program_id, ok[1].data, writable_fp)
    lighthouse_with_fee_payer = Instruction(LIGHTHOUSE_PROGRAM_ID, b"\x00", writable_fp)
    cosigned = transfer(p, AMOUNT)
    cosigned = Instruction(
        cosigned.program_id, cosigned.data, [*cosigned.accounts, AccountMeta(fp, True, False)]
    )
    return [
        ("fee payer as authority", [*ok[:2], transfer(p, AMOUNT, authority=fp), ok[3]],
         reasons.SVM_FEE_PAYER_TRANSFERRING_FUNDS),
        ("fee payer token account as source",
         [*ok[:2], transfer(p, AMOUNT, source=associated_token_address(fp, p.mint)), ok[3]],
         reasons.SVM_FEE_PAYER_TRANSFERRING_FUNDS),
        ("fee payer inside memo", [*ok[:3], memo_with_fee_payer],
         reasons.SVM_FEE_PAYER_TRANSFERRING_FUNDS),
        ("fee payer read-only inside memo", [*ok[:3], memo_reading_fee_payer],
         reasons.SVM_FEE_PAYER_TRANSFERRING_FUNDS),
        ("fee payer as transfer destination",
         [*ok[:2], transfer(p, AMOUNT, destination=fp), ok[3]],
         reasons.SVM_FEE_PAYER_TRANSFERRING_FUNDS),
        ("fee payer as transfer mint", [*ok[:2], transfer(p, AMOUNT, mint=fp), ok[3]],
         reasons.SVM_FEE_PAYER_TRANSFERRING_FUNDS),
        # A fifth account makes TransferChecked a multisig transfer: not the payment's shape.
        ("fee payer as multisig co-signer of the transfer", [*ok[:2], cosigned, ok[3]],
         reasons.SVM_NO_TRANSFER_INSTRUCTION),
        ("fee payer inside compute limit", [limit_with_fee_payer, *ok[1:]],
         reasons.SVM_FEE_PAYER_TRANSFERRING_FUNDS),
        ("fee payer inside compute price", [ok[0], price_with_fee_payer, *ok[2:]],
         reasons.SVM_FEE_PAYER_TRANSFERRING_FUNDS),
        ("fee payer inside an extra Lighthouse instruction", [*ok, lighthouse_with_fee_payer],
         reasons.SVM_FEE_PAYER_TRANSFERRING_FUNDS),
        ("extra SOL transfer", [*ok, drain_sol], reasons.SVM_UNKNOWN_FIFTH_INSTRUCTION),
        ("SOL transfer instead of memo", [*ok[:3], drain_sol],
         reasons.SVM_UNKNOWN_FOURTH_INSTRUCTION),
        ("high compute price", [ok[0], compute_price(1_000_000_000), *ok[2:]],
         reasons.SVM_COMPUTE_PRICE_TOO_HIGH),
        ("high compute limit", [compute_limit(1_400_000), *ok[1:]],
         reasons.SVM_COMPUTE_LIMIT_TOO_HIGH),
        ("extra instruction", [*ok, transfer(p, AMOUNT)], reasons.SVM_UNKNOWN_FIFTH_INSTRUCTION),
    ]  # fmt: skip


def test_fee_payer_attacks_are_rejected_and_cost_the_fee_payer_nothing(fac, funded):
    p = funded.p
    fp = p.fee_payer.pubkey()
    blockhash = funded.blockhash()
    before = funded.sol(fp)
    for name, ixs, reason in _attacks(p, blockhash):
        signers = [p.client, p.fee_payer] if "authority" in name else [p.client]
        payment = body(sign(p, ixs, blockhash, signers=signers), requirements(p, AMOUNT))
        assert fac.verify(payment)["invalidReason"] == reason, name
        assert fac.settle(payment)["errorReason"] == reason, name
    # An extra signer asking the fee payer's co-signature for someone else's instruction.
    stranger = Keypair()
    extra = Instruction(memo().program_id, b"x", [AccountMeta(stranger.pubkey(), True, False)])
    payment = body(
        sign(p, [*instructions(p, AMOUNT)[:3], extra], blockhash, signers=[p.client, stranger]),
        requirements(p, AMOUNT),
    )
    assert fac.settle(payment)["errorReason"] == reasons.SVM_EXCESSIVE_SIGNERS
    assert funded.sol(fp) == before
    # A valid payment afterwards costs exactly its fee.
    receipt = fac.settle(funded.payment(AMOUNT))
    assert receipt["success"] is True
    fee = funded.transaction(receipt["transaction"])["meta"]["fee"]
    assert funded.sol(fp) == before - fee


def test_fifty_concurrent_settles_of_one_payment_settle_once(fac, funded):
    p = funded.p
    merchant_ata = str(associated_token_address(p.pay_to, p.mint))
    before = {s["signature"] for s in funded.chain.rpc("getSignaturesForAddress", merchant_ata)}
    payment = funded.payment(AMOUNT)
    with ThreadPoolExecutor(50) as pool:
        receipts = list(pool.map(lambda _: fac.settle(payment), range(50)))
    successes = [r for r in receipts if r["success"]]
    assert len(successes) == 1, receipts
    others = [r for r in receipts if not r["success"]]
    assert {r["errorReason"] for r in others} == {reasons.DUPLICATE_SETTLEMENT}
    # Only a settled duplicate names the transaction (a server may take that as proof); one
    # answered while the winner was still in flight does not.
    assert {r["transaction"] for r in others} <= {successes[0]["transaction"], ""}
    again = fac.settle(payment)
    assert again["errorReason"] == reasons.DUPLICATE_SETTLEMENT
    assert again["transaction"] == successes[0]["transaction"]
    assert funded.usdc(p.pay_to) == AMOUNT
    after = {s["signature"] for s in funded.chain.rpc("getSignaturesForAddress", merchant_ata)}
    assert after - before == {successes[0]["transaction"]}


def test_client_nonce_reuse_is_a_replay(fac, funded):
    p = funded.p
    first = funded.payment(AMOUNT, memo_text="nonce-abc")
    assert fac.settle(first)["success"] is True
    # A different transaction (another compute price) carrying the same client nonce.
    ixs = [compute_limit(), compute_price(2), transfer(p, AMOUNT), memo("nonce-abc")]
    replay = body(sign(p, ixs, funded.blockhash()), requirements(p, AMOUNT))
    verdict = fac.verify(replay)
    assert verdict["invalidReason"] == reasons.DUPLICATE_SETTLEMENT
    assert "nonce" in verdict["invalidMessage"]
    answer = fac.settle(replay)
    assert answer["errorReason"] == reasons.DUPLICATE_SETTLEMENT
    assert answer["transaction"] == ""  # the holder's signature would not sign this payment
    assert funded.usdc(p.pay_to) == AMOUNT
    # Another payer may use the same text: nonces are scoped to the paying wallet.
    fresh = funded.__class__(funded.chain, type(p)(fee_payer=p.fee_payer, pay_to=p.pay_to))
    assert fac.settle(fresh.payment(AMOUNT, memo_text="nonce-abc"))["success"] is True


def test_verify_changes_no_state(fac, funded):
    payment = funded.payment(AMOUNT)
    before = fac.get("/health").json()["ledger"]
    for _ in range(3):
        assert fac.verify(payment)["isValid"] is True
    assert fac.get("/health").json()["ledger"] == before
    assert fac.settle(payment)["success"] is True


def test_two_payments_that_together_overdraw_are_settled_one_at_a_time(fac, funded):
    """Two payments that each pass simulation alone but together overdraw the client's
    account: the second is simulated after the first executed, and refused for free (it used
    to be sent and land failing, its fee paid by the fee payer; guard.py). A transaction that
    still lands failing is driven in process (test_settlement_recovery.py, test_fee_payer_guard.py).
    """
    p = funded.p
    funded.chain.rpc("sandbox_setFaults", {"latencyMs": 300})
    half = 6_000_000  # of 10 USDC
    a = funded.payment(half, memo_text="a")
    b = funded.payment(half, memo_text="b")
    with ThreadPoolExecutor(2) as pool:
        receipts = list(pool.map(fac.settle, [a, b]))
    funded.chain.rpc("sandbox_setFaults", {"latencyMs": 0})
    assert sorted(r["success"] for r in receipts) == [False, True], receipts
    failed = next(r for r in receipts if not r["success"])
    assert failed["errorReason"] == reasons.INSUFFICIENT_FUNDS, failed
    assert failed["transaction"] == ""  # never sent
    assert funded.usdc(p.pay_to) == half
    # Asking again gives the same refusal; nothing is sent.
    failed_payment = [a, b][receipts.index(failed)]
    again = fac.settle(failed_payment)
    assert again["errorReason"] == reasons.INSUFFICIENT_FUNDS
    assert funded.usdc(p.pay_to) == half


def test_compute_budget_encoding_sanity():
    # The builders encode what the checks decode (guards against a silent drift in both).
    assert compute_limit(7).data == bytes([2]) + struct.pack("<I", 7)
