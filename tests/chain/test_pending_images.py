"""Commitment levels in-process (pre-images, late confirmation, slot jumps), blocks closed by hand.

No slot clock runs here: `close_block()` is the only thing that moves a level, so every
assertion about what a level shows is deterministic.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

from solders.account import Account
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from sandbox.chain import producer as producer_module
from sandbox.chain import rpc_minimal
from sandbox.chain.node import ChainNode
from sandbox.chain.settings import MAX_BLOCKHASH_AGE, ChainSettings
from sandbox.protocol.programs import TOKEN_PROGRAM_ID, associated_token_address

from .conftest import USDC
from .x402_tx import transfer_checked

LEVELS = ("processed", "confirmed", "finalized")


def _node() -> tuple[ChainNode, Keypair, Keypair, Keypair]:
    # finalize_slots=2: one close makes a block confirmed, two more make it finalized.
    node = ChainNode(ChainSettings(slot_ms=400, finalize_slots=2))
    fee_payer, owner, merchant = Keypair(), Keypair(), Keypair()
    node.twin.airdrop(fee_payer.pubkey(), 10**9)
    node.twin.mint_to(owner.pubkey(), 10**6, USDC)
    node.twin.mint_to(merchant.pubkey(), 0, USDC)
    for _ in range(3):  # the funding's own block reaches finalized
        node.producer.close_block()
    assert not node.producer.pending
    return node, fee_payer, owner, merchant


def _amount(node: ChainNode, key: Pubkey, offset: int = 64) -> dict[str, int | None]:
    found = {}
    for level in LEVELS:
        account = node.producer.get_account(key, level)
        found[level] = (
            None if account is None else int.from_bytes(account.data[offset : offset + 8], "little")
        )
    return found


def _lamports(node: ChainNode, key: Pubkey) -> dict[str, int | None]:
    found = {}
    for level in LEVELS:
        account = node.producer.get_account(key, level)
        found[level] = None if account is None else account.lamports
    return found


def _pay(node, fee_payer, owner, merchant, amount: int) -> None:
    tx = transfer_checked(
        owner, fee_payer, USDC, merchant.pubkey(), amount, node.producer.blockhash
    )
    assert node.producer.execute(tx, preflight=True).err is None


def _send_lamports(node, payer: Keypair, to: Pubkey, lamports: int) -> int:
    """A system transfer; returns the fee it cost."""
    ix = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=lamports))
    message = MessageV0.try_compile(payer.pubkey(), [ix], [], node.producer.blockhash)
    outcome = node.producer.execute(VersionedTransaction(message, [payer]), preflight=True)
    assert outcome.err is None
    return outcome.meta.fee()


def test_funding_adds_to_every_level_without_revealing_pending_transfers():
    node, fee_payer, owner, merchant = _node()
    ata = associated_token_address(merchant.pubkey(), USDC)
    _pay(node, fee_payer, owner, merchant, 5)
    assert _amount(node, ata) == {"processed": 5, "confirmed": 0, "finalized": 0}
    node.twin.mint_to(merchant.pubkey(), 1, USDC)
    assert _amount(node, ata) == {"processed": 6, "confirmed": 1, "finalized": 1}
    node.producer.close_block()
    assert _amount(node, ata) == {"processed": 6, "confirmed": 6, "finalized": 1}
    node.producer.close_block()
    node.producer.close_block()
    assert _amount(node, ata) == {"processed": 6, "confirmed": 6, "finalized": 6}
    assert not node.producer.pending


def test_airdrop_carries_its_lamports_into_pending_pre_images():
    node, fee_payer, _owner, _merchant = _node()
    fee = _send_lamports(node, fee_payer, Keypair().pubkey(), 10**6)
    spent = 10**9 - fee - 10**6
    assert _lamports(node, fee_payer.pubkey()) == {
        "processed": spent,
        "confirmed": 10**9,
        "finalized": 10**9,
    }
    node.twin.airdrop(fee_payer.pubkey(), 500)
    assert _lamports(node, fee_payer.pubkey()) == {
        "processed": spent + 500,
        "confirmed": 10**9 + 500,
        "finalized": 10**9 + 500,
    }


def test_mint_carries_the_supply_change_past_a_pending_burn():
    node, fee_payer, owner, _merchant = _node()
    supply = _amount(node, USDC, 36)["processed"]
    burn = Instruction(
        TOKEN_PROGRAM_ID,
        bytes([15]) + (7).to_bytes(8, "little") + bytes([6]),  # BurnChecked
        [
            AccountMeta(associated_token_address(owner.pubkey(), USDC), False, True),
            AccountMeta(USDC, False, True),
            AccountMeta(owner.pubkey(), True, False),
        ],
    )
    message = MessageV0.try_compile(fee_payer.pubkey(), [burn], [], node.producer.blockhash)
    tx = VersionedTransaction(message, [fee_payer, owner])
    assert node.producer.execute(tx, preflight=True).err is None
    node.twin.mint_to(Keypair().pubkey(), 10, USDC)
    assert _amount(node, USDC, 36) == {
        "processed": supply - 7 + 10,
        "confirmed": supply + 10,
        "finalized": supply + 10,
    }


def test_set_account_carries_its_lamports_change_too():
    node, fee_payer, owner, merchant = _node()
    ata = associated_token_address(merchant.pubkey(), USDC)
    _pay(node, fee_payer, owner, merchant, 5)
    current = node.producer.get_account(ata)
    node.producer.set_account(
        ata,
        Account(
            lamports=current.lamports + 1_000,
            data=bytes(current.data),
            owner=current.owner,
        ),
    )
    assert _amount(node, ata) == {"processed": 5, "confirmed": 0, "finalized": 0}
    lamports = _lamports(node, ata)
    assert lamports["processed"] == lamports["confirmed"] == lamports["finalized"]
    assert lamports["processed"] == current.lamports + 1_000


def test_funding_an_account_a_pending_transaction_created_waits_for_that_block():
    """No delta to carry: the level did not have the account, and keeps not having it."""
    node, fee_payer, _owner, _merchant = _node()
    fresh = Keypair().pubkey()
    _send_lamports(node, fee_payer, fresh, 10**6)
    node.twin.airdrop(fresh, 500)
    assert _lamports(node, fresh) == {
        "processed": 10**6 + 500,
        "confirmed": None,
        "finalized": None,
    }
    node.producer.close_block()
    assert _lamports(node, fresh)["confirmed"] == 10**6 + 500


def test_funding_without_pending_pre_images_shows_at_every_level_at_once():
    node, fee_payer, owner, merchant = _node()
    _pay(node, fee_payer, owner, merchant, 5)  # pending, but it touches other accounts
    other = Keypair().pubkey()
    node.twin.airdrop(other, 10**6)
    ata, _ = node.twin.mint_to(other, 3, USDC)
    assert _lamports(node, other) == dict.fromkeys(LEVELS, 10**6)
    assert _amount(node, ata) == dict.fromkeys(LEVELS, 3)


def test_late_confirm_statuses_and_reads_share_the_block_time(monkeypatch):
    """Two transactions in one block: both show confirmed, and reads show them, at the same
    moment (the block's newest transaction's time + the delay), never one without the other."""
    clock = [1000.0]
    monkeypatch.setattr(
        producer_module, "time", SimpleNamespace(monotonic=lambda: clock[0], time=time.time)
    )
    node, fee_payer, owner, merchant = _node()
    producer = node.producer
    producer.late_confirm_s = 1.0
    ata = associated_token_address(merchant.pubkey(), USDC)
    first = transfer_checked(owner, fee_payer, USDC, merchant.pubkey(), 5, producer.blockhash)
    assert producer.execute(first, preflight=True).err is None
    clock[0] += 0.3
    second = transfer_checked(owner, fee_payer, USDC, merchant.pubkey(), 2, producer.blockhash)
    assert producer.execute(second, preflight=True).err is None
    producer.close_block()
    records = [producer.statuses[tx.signatures[0]] for tx in (first, second)]
    clock[0] += 0.8  # past the first transaction's own delay, not the block's
    assert [producer.commitment_of(record) for record in records] == ["processed", "processed"]
    assert _amount(node, ata)["confirmed"] == 0
    assert not producer.reached(records[0].slot, "confirmed")
    clock[0] += 0.25
    assert [producer.commitment_of(record) for record in records] == ["confirmed", "confirmed"]
    assert _amount(node, ata) == {"processed": 7, "confirmed": 7, "finalized": 0}
    assert producer.reached(records[0].slot, "confirmed")
    assert not producer.reached(records[0].slot, "finalized")


def test_advancing_slots_moves_every_level_past_the_jump():
    node, *_ = _node()
    producer = node.producer
    before = producer.block_height
    slot = producer.slot
    producer.expire_blockhashes()
    assert producer.slot == slot + MAX_BLOCKHASH_AGE + 1
    assert producer.block_height == before + MAX_BLOCKHASH_AGE + 1
    epoch = {level: rpc_minimal.get_epoch_info(node, [{"commitment": level}]) for level in LEVELS}
    heights = {
        level: rpc_minimal.get_block_height(node, [{"commitment": level}]) for level in LEVELS
    }
    assert heights == {
        "processed": producer.block_height,
        "confirmed": producer.block_height,
        "finalized": producer.block_height - 2,  # finalize_slots behind, one height per block
    }
    for level in LEVELS:
        assert epoch[level]["blockHeight"] == heights[level]
        assert epoch[level]["absoluteSlot"] == producer.slot_for(level)
        # The level's blockhash was issued at the level's height, and is live.
        blockhash = producer.blockhash_for(level)
        assert producer.last_valid_block_height(blockhash) == heights[level] + MAX_BLOCKHASH_AGE
    producer.advance_slots(1)
    assert rpc_minimal.get_block_height(node, [{"commitment": "finalized"}]) == before + 150
