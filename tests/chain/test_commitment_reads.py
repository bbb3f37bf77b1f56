"""Reads honour commitment: confirmed/finalized answer the state of the newest block at that level.

A send and the reads after it go in one batch: the chain answers a batch in one turn of its event
loop, so no block closes in between and the assertions do not race the slot clock. Where a test
needs a block closed at a chosen moment, its chain closes blocks only on sandbox_advanceSlots.
"""

from __future__ import annotations

import base64
import time

import httpx
import pytest
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.transaction import VersionedTransaction

from sandbox.chain.node import ChainNode
from sandbox.chain.settings import ChainSettings, FaultSettings
from sandbox.chain.testing import start_chain
from sandbox.protocol.programs import TOKEN_PROGRAM_ID, associated_token_address

from .conftest import USDC
from .x402_tx import transfer_checked

LEVELS = ("processed", "confirmed", "finalized")


@pytest.fixture(scope="module")
def slow_chain():
    # finalize_slots=2 leaves a window where a transfer is confirmed but not yet finalized.
    with start_chain(slot_ms=400, finalize_slots=2) as running:
        yield running


@pytest.fixture(scope="module")
def held_chain():
    # Blocks close only when sandbox_advanceSlots says so: no block closes between asserts.
    with start_chain(slot_ms="manual", finalize_slots=2) as running:
        yield running


def _batch(chain, calls: list[tuple[str, list]]) -> list:
    body = [
        {"jsonrpc": "2.0", "id": i, "method": method, "params": params}
        for i, (method, params) in enumerate(calls)
    ]
    answers = httpx.post(chain.rpc_url, json=body, timeout=30).json()
    return [answer.get("result", answer.get("error")) for answer in answers]


def _wire(tx: VersionedTransaction) -> str:
    return base64.b64encode(bytes(tx)).decode()


def _burn(owner: Keypair, fee_payer: Keypair, amount: int, blockhash: Hash) -> VersionedTransaction:
    """BurnChecked: the one payment-free way a client changes the mint's supply."""
    source = associated_token_address(owner.pubkey(), USDC)
    ix = Instruction(
        TOKEN_PROGRAM_ID,
        bytes([15]) + amount.to_bytes(8, "little") + bytes([6]),
        [
            AccountMeta(source, False, True),
            AccountMeta(USDC, False, True),
            AccountMeta(owner.pubkey(), True, False),
        ],
    )
    message = MessageV0.try_compile(fee_payer.pubkey(), [ix], [], blockhash)
    return VersionedTransaction(message, [fee_payer, owner])


def _reads(fee_payer, merchant, level: str | None) -> list[tuple[str, list]]:
    config = {"commitment": level} if level else {}
    ata = str(associated_token_address(merchant.pubkey(), USDC))
    return [
        ("getBalance", [str(fee_payer.pubkey()), config]),
        ("getTokenAccountBalance", [ata, config]),
        ("getAccountInfo", [ata, {**config, "encoding": "jsonParsed"}]),
        ("getMultipleAccounts", [[ata, str(fee_payer.pubkey())], {**config, "encoding": "base64"}]),
        (
            "getTokenAccountsByOwner",
            [str(merchant.pubkey()), {"mint": str(USDC)}, {**config, "encoding": "jsonParsed"}],
        ),
        ("getTokenSupply", [str(USDC), config]),
    ]


def _values(answers: list) -> dict:
    """The figures the reads report: fee payer lamports, merchant USDC (4 ways), supply."""
    balance, token, info, multiple, by_owner, supply = answers
    return {
        "lamports": balance["value"],
        "tokenBalance": token["value"]["amount"],
        "accountInfo": info["value"]["data"]["parsed"]["info"]["tokenAmount"]["amount"],
        "multiple": multiple["value"][1]["lamports"],
        "byOwner": by_owner["value"][0]["account"]["data"]["parsed"]["info"]["tokenAmount"][
            "amount"
        ],
        "supply": supply["value"]["amount"],
    }


def _fund(chain):
    fee_payer, owner, merchant = Keypair(), Keypair(), Keypair()
    chain.rpc("requestAirdrop", str(fee_payer.pubkey()), 10**9)
    chain.rpc("sandbox_mintTo", str(owner.pubkey()), 1_000_000)
    chain.rpc("sandbox_mintTo", str(merchant.pubkey()), 0)
    return fee_payer, owner, merchant


def _status(chain, sig: str) -> str | None:
    value = chain.rpc("getSignatureStatuses", [sig])["value"][0]
    return value and value["confirmationStatus"]


def test_funding_cheats_show_at_every_level_at_once(slow_chain):
    fee_payer, _owner, merchant = _fund(slow_chain)
    for level in LEVELS:
        values = _values(_batch(slow_chain, _reads(fee_payer, merchant, level)))
        assert values["lamports"] == 10**9 and values["tokenBalance"] == "0", level


def test_reads_show_a_transfer_at_processed_only_until_its_block_reaches_the_level(held_chain):
    fee_payer, owner, merchant = _fund(held_chain)
    blockhash = Hash.from_string(held_chain.rpc("getLatestBlockhash")["value"]["blockhash"])
    tx = transfer_checked(owner, fee_payer, USDC, merchant.pubkey(), 250, blockhash)
    burn = _burn(owner, fee_payer, 7, blockhash)
    sig = str(tx.signatures[0])
    sends = [
        ("sendTransaction", [_wire(tx), {"encoding": "base64"}]),
        ("sendTransaction", [_wire(burn), {"encoding": "base64"}]),
    ]
    reads = [call for level in (*LEVELS, None) for call in _reads(fee_payer, merchant, level)]
    answers = _batch(held_chain, [*sends, ("getSignatureStatuses", [[sig]]), *reads])
    assert answers[0] == sig and answers[1] == str(burn.signatures[0]), answers[:2]
    assert answers[2]["value"][0]["confirmationStatus"] == "processed"
    by_level = [_values(answers[3 + 6 * i : 9 + 6 * i]) for i in range(4)]
    processed, confirmed, finalized, default = by_level
    # Both pay 2 signatures; the transfer's 20,000 CU at 1 micro-lamport round up to 1 lamport.
    assert processed["lamports"] == 10**9 - 10_001 - 10_000
    assert processed["tokenBalance"] == processed["accountInfo"] == processed["byOwner"] == "250"
    supply_before = int(finalized["supply"])
    assert int(processed["supply"]) == supply_before - 7
    old = {
        "lamports": 10**9,
        "tokenBalance": "0",
        "accountInfo": "0",
        "multiple": 10**9,
        "byOwner": "0",
        "supply": str(supply_before),
    }
    assert confirmed == old and finalized == old
    assert default == old, "no commitment means finalized, as on Solana"

    # Its block closes: confirmed but not finalized, so confirmed reads show it, finalized not.
    held_chain.rpc("sandbox_advanceSlots", 1)
    assert _status(held_chain, sig) == "confirmed"
    assert _values(_batch(held_chain, _reads(fee_payer, merchant, "confirmed"))) == processed
    assert _values(_batch(held_chain, _reads(fee_payer, merchant, "finalized"))) == old
    assert _values(_batch(held_chain, _reads(fee_payer, merchant, None))) == old

    held_chain.rpc("sandbox_advanceSlots", 2)  # finalize_slots blocks later: finalized
    assert _status(held_chain, sig) == "finalized"
    for level in (*LEVELS, None):
        assert _values(_batch(held_chain, _reads(fee_payer, merchant, level))) == processed


def test_closed_token_account_still_listed_at_finalized(slow_chain):
    """getTokenAccountsByOwner at finalized lists an account a pending transaction closed."""
    fee_payer, _owner, merchant = _fund(slow_chain)
    ata = associated_token_address(merchant.pubkey(), USDC)
    close = Instruction(
        TOKEN_PROGRAM_ID,
        bytes([9]),  # CloseAccount (the balance is 0)
        [
            AccountMeta(ata, False, True),
            AccountMeta(fee_payer.pubkey(), False, True),
            AccountMeta(merchant.pubkey(), True, False),
        ],
    )
    blockhash = Hash.from_string(slow_chain.rpc("getLatestBlockhash")["value"]["blockhash"])
    message = MessageV0.try_compile(fee_payer.pubkey(), [close], [], blockhash)
    tx = VersionedTransaction(message, [fee_payer, merchant])
    listing = [str(merchant.pubkey()), {"programId": str(TOKEN_PROGRAM_ID)}]
    sent, processed, finalized, info = _batch(
        slow_chain,
        [
            ("sendTransaction", [_wire(tx), {"encoding": "base64"}]),
            ("getTokenAccountsByOwner", [*listing, {"commitment": "processed"}]),
            ("getTokenAccountsByOwner", [*listing, {"commitment": "finalized"}]),
            ("getAccountInfo", [str(ata), {"commitment": "finalized"}]),
        ],
    )
    assert sent == str(tx.signatures[0])
    assert processed["value"] == []
    assert [entry["pubkey"] for entry in finalized["value"]] == [str(ata)]
    assert info["value"] is not None


def test_counters_heights_and_blockhash_honour_commitment(slow_chain):
    fee_payer, owner, merchant = _fund(slow_chain)
    time.sleep(1.0)  # a few blocks, so every level has closed blocks behind it
    blockhash = Hash.from_string(slow_chain.rpc("getLatestBlockhash")["value"]["blockhash"])
    tx = transfer_checked(owner, fee_payer, USDC, merchant.pubkey(), 1, blockhash)
    calls = [("sendTransaction", [_wire(tx), {"encoding": "base64"}])]
    for level in LEVELS:
        config = {"commitment": level}
        calls += [
            ("getSlot", [config]),
            ("getBlockHeight", [config]),
            ("getTransactionCount", [config]),
            ("getLatestBlockhash", [config]),
            ("getEpochInfo", [config]),
        ]
    answers = _batch(slow_chain, calls)
    assert answers[0] == str(tx.signatures[0])
    slot, height, count, latest, epoch = (
        {level: answers[1 + 5 * i + k] for i, level in enumerate(LEVELS)} for k in range(5)
    )
    assert slot["processed"] > slot["confirmed"] > slot["finalized"]
    assert height["processed"] >= height["confirmed"] > height["finalized"]
    assert count["processed"] == count["confirmed"] + 1  # the transfer in the open block
    assert count["confirmed"] >= count["finalized"]
    valid = {level: latest[level]["value"]["lastValidBlockHeight"] for level in LEVELS}
    assert valid["processed"] >= valid["confirmed"] > valid["finalized"]
    assert latest["finalized"]["value"]["blockhash"] != latest["processed"]["value"]["blockhash"]
    for level in LEVELS:
        assert epoch[level]["absoluteSlot"] == slot[level]
        assert epoch[level]["blockHeight"] == height[level]
        assert epoch[level]["transactionCount"] == count[level]
    # A finalized blockhash is still good to sign with.
    old = Hash.from_string(latest["finalized"]["value"]["blockhash"])
    late = transfer_checked(owner, fee_payer, USDC, merchant.pubkey(), 1, old)
    assert slow_chain.rpc("sendTransaction", _wire(late), {"encoding": "base64"})


@pytest.mark.parametrize(
    "method", ["getSlot", "getBlockHeight", "getTransactionCount", "getEpochInfo"]
)
def test_bogus_commitment_is_refused_naming_the_parameter(fast_chain, method):
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": [{"commitment": "bogus"}]}
    error = httpx.post(fast_chain.rpc_url, json=body, timeout=10).json()["error"]
    assert error["code"] == -32602 and "`commitment`" in error["message"]
    body["params"] = ["confirmed"]
    error = httpx.post(fast_chain.rpc_url, json=body, timeout=10).json()["error"]
    assert error["code"] == -32602 and "`config`" in error["message"]


def test_blocks_per_transaction_keep_no_pre_images():
    """--slot-ms 0: every level comes with the block, the fast path keeps nothing."""
    node = ChainNode(ChainSettings(slot_ms=0))
    fee_payer, owner, merchant = Keypair(), Keypair(), Keypair()
    node.twin.airdrop(fee_payer.pubkey(), 10**9)
    node.twin.mint_to(owner.pubkey(), 10**6, USDC)
    producer = node.producer
    tx = transfer_checked(owner, fee_payer, USDC, merchant.pubkey(), 5, producer.blockhash)
    node.twin.mint_to(merchant.pubkey(), 0, USDC)
    assert producer.execute(tx, preflight=True).err is None
    assert not producer.pending
    ata = associated_token_address(merchant.pubkey(), USDC)
    for level in LEVELS:
        assert bytes(producer.get_account(ata, level).data)[64:72] == (5).to_bytes(8, "little")


def test_late_confirm_fault_holds_reads_back_too():
    """--slot-ms 0 with late confirmation: confirmed reads wait as the status does."""
    settings = ChainSettings(slot_ms=0, faults=FaultSettings(late_confirm_ms=60_000))
    node = ChainNode(settings)
    fee_payer, owner, merchant = Keypair(), Keypair(), Keypair()
    node.twin.airdrop(fee_payer.pubkey(), 10**9)
    node.twin.mint_to(owner.pubkey(), 10**6, USDC)
    node.twin.mint_to(merchant.pubkey(), 0, USDC)
    producer = node.producer
    tx = transfer_checked(owner, fee_payer, USDC, merchant.pubkey(), 5, producer.blockhash)
    assert producer.execute(tx, preflight=True).err is None
    assert producer.commitment_of(producer.statuses[tx.signatures[0]]) == "processed"
    ata = associated_token_address(merchant.pubkey(), USDC)
    assert producer.get_account(fee_payer.pubkey(), "confirmed").lamports == 10**9
    amount = {
        level: int.from_bytes(bytes(producer.get_account(ata, level).data)[64:72], "little")
        for level in LEVELS
    }
    assert amount == {"processed": 5, "confirmed": 0, "finalized": 0}
    # A cheat write to the account shows at every level at once, the held-back transfer not.
    node.twin.mint_to(merchant.pubkey(), 1, USDC)
    amount = {
        level: int.from_bytes(bytes(producer.get_account(ata, level).data)[64:72], "little")
        for level in LEVELS
    }
    assert amount == {"processed": 6, "confirmed": 1, "finalized": 1}
