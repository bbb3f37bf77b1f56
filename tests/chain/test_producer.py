"""The block producer in-process: blockhash lifetime, duplicate window, commitment levels."""

from __future__ import annotations

from solders.keypair import Keypair

from sandbox.chain import producer as producer_module
from sandbox.chain.node import ChainNode
from sandbox.chain.settings import MAX_BLOCKHASH_AGE, ChainSettings

from .conftest import USDC
from .x402_tx import transfer_checked


def _node(**settings) -> tuple[ChainNode, tuple]:
    node = ChainNode(ChainSettings(**settings))
    fee_payer, owner, merchant = Keypair(), Keypair(), Keypair()
    node.twin.airdrop(fee_payer.pubkey(), 10**9)
    node.twin.mint_to(owner.pubkey(), 10**9, USDC)
    node.twin.mint_to(merchant.pubkey(), 0, USDC)
    return node, (fee_payer, owner, merchant)


def test_blockhash_lives_exactly_150_heights():
    node, _ = _node(slot_ms=0)
    producer = node.producer
    blockhash = producer.blockhash
    assert producer.last_valid_block_height(blockhash) == producer.block_height + MAX_BLOCKHASH_AGE
    producer.advance_height(MAX_BLOCKHASH_AGE)
    assert producer.is_live(blockhash)
    producer.advance_height(1)
    assert not producer.is_live(blockhash)
    assert producer.last_valid_block_height(blockhash) is None


def test_duplicates_refused_while_blockhash_lives_even_past_status_keep(monkeypatch):
    monkeypatch.setattr(producer_module, "STATUS_KEEP", 10)
    node, (fee_payer, owner, merchant) = _node(slot_ms=0)
    producer = node.producer
    first = transfer_checked(owner, fee_payer, USDC, merchant.pubkey(), 1, producer.blockhash)
    assert producer.execute(first, preflight=False).landed
    for _ in range(50):
        tx = transfer_checked(owner, fee_payer, USDC, merchant.pubkey(), 1, producer.blockhash)
        assert producer.execute(tx, preflight=False).err is None
    producer.advance_height(1)  # prunes, but the first blockhash is still live
    assert producer.execute(first, preflight=False).err == "AlreadyProcessed"
    producer.advance_height(MAX_BLOCKHASH_AGE)
    assert len(producer.statuses) <= 10  # once dead, old statuses are forgotten ...
    assert producer.execute(first, preflight=False).err == "BlockhashNotFound"  # ... safely


def test_commitment_levels_follow_blocks():
    node, (fee_payer, owner, merchant) = _node(slot_ms=400, finalize_slots=2)
    producer = node.producer
    tx = transfer_checked(owner, fee_payer, USDC, merchant.pubkey(), 1, producer.blockhash)
    producer.execute(tx, preflight=False)
    record = producer.statuses[tx.signatures[0]]
    levels = [producer.commitment_of(record)]
    for _ in range(3):
        producer.close_block()
        levels.append(producer.commitment_of(record))
    assert levels == ["processed", "confirmed", "confirmed", "finalized"]


def test_preflight_failure_is_rolled_back():
    node, (fee_payer, owner, merchant) = _node(slot_ms=0)
    producer = node.producer
    before = producer.get_account(fee_payer.pubkey()).lamports
    too_much = transfer_checked(
        owner, fee_payer, USDC, merchant.pubkey(), 10**12, producer.blockhash
    )
    outcome = producer.execute(too_much, preflight=True)
    assert outcome.err == {"InstructionError": [2, {"Custom": 1}]} and not outcome.landed
    assert producer.get_account(fee_payer.pubkey()).lamports == before
    assert too_much.signatures[0] not in producer.statuses
