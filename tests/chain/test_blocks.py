"""The explorer RPCs: getBlock, getBlocks, getBlocksWithLimit, getBlockTime,
getRecentPerformanceSamples and getProgramAccounts, in the validator's shapes (each answer
parsed whole by solders' response types), their errors, and blocks surviving a kill -9
(sandbox/chain/blocks.py, rpc_blocks.py, rpc_scan.py)."""

from __future__ import annotations

import base64
import os
import signal
import time

import httpx
import orjson
import pytest
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.rpc.responses import (
    GetBlockResp,
    GetBlocksResp,
    GetBlocksWithLimitResp,
    GetBlockTimeResp,
    GetProgramAccountsResp,
    GetProgramAccountsWithContextResp,
    GetRecentPerformanceSamplesResp,
)
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from sandbox.chain.testing import RunningChain, start_chain
from sandbox.protocol.programs import TOKEN_PROGRAM_ID, associated_token_address

from .conftest import USDC
from .x402_tx import transfer_checked

SOL = 1_000_000_000
CONFIRMED = {"commitment": "confirmed", "maxSupportedTransactionVersion": 0}


def _raw(chain: RunningChain, method: str, *params) -> dict:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    return httpx.post(chain.rpc_url, json=body, timeout=30).json()


def _result(chain: RunningChain, method: str, *params):
    answer = _raw(chain, method, *params)
    assert "result" in answer, answer
    return answer["result"]


def _blockhash(chain: RunningChain) -> Hash:
    answer = chain.rpc("getLatestBlockhash", {"commitment": "confirmed"})
    return Hash.from_string(answer["value"]["blockhash"])


def _send(chain: RunningChain, tx: VersionedTransaction) -> str:
    wire = base64.b64encode(bytes(tx)).decode()
    return chain.rpc("sendTransaction", wire, {"encoding": "base64"})


def _pay(chain: RunningChain) -> tuple[str, Keypair, Keypair]:
    """An x402 payment (a v0 TransferChecked) from a funded owner; its signature and wallets."""
    fee_payer, owner, merchant = Keypair(), Keypair(), Keypair()
    chain.rpc("requestAirdrop", str(fee_payer.pubkey()), SOL)
    chain.rpc("sandbox_mintTo", str(owner.pubkey()), 5_000_000)
    chain.rpc("sandbox_mintTo", str(merchant.pubkey()), 0)
    tx = transfer_checked(owner, fee_payer, USDC, merchant.pubkey(), 10_000, _blockhash(chain))
    return _send(chain, tx), owner, merchant


def _confirmed_slot(chain: RunningChain, signature: str, timeout: float = 30.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = chain.rpc("getTransaction", signature, CONFIRMED)
        if found is not None:
            status = chain.rpc("getSignatureStatuses", [signature])["value"][0]
            assert status["slot"] == found["slot"]
            return found["slot"]
        time.sleep(0.05)
    raise AssertionError(f"{signature} not confirmed within {timeout}s")


def _error(answer: dict) -> tuple[int, str]:
    assert "error" in answer, answer
    return answer["error"]["code"], answer["error"]["message"]


@pytest.mark.parametrize("slot_ms", [0, 400])
def test_get_block_of_a_payment_lists_its_signature(slot_ms):
    with start_chain(slot_ms=slot_ms) as chain:
        signature, _, _ = _pay(chain)
        slot = _confirmed_slot(chain, signature)
        answer = _raw(chain, "getBlock", slot, CONFIRMED)
        block = answer["result"]
        listed = [entry["transaction"]["signatures"][0] for entry in block["transactions"]]
        assert signature in listed
        entry = block["transactions"][listed.index(signature)]
        assert entry["version"] == 0 and entry["meta"]["err"] is None
        assert block["blockTime"] == chain.rpc("getTransaction", signature, CONFIRMED)["blockTime"]
        assert block["parentSlot"] < slot and block["rewards"] == []
        parsed = GetBlockResp.from_json(orjson.dumps(answer).decode()).value
        assert str(parsed.blockhash) == block["blockhash"]
        assert parsed.parent_slot == block["parentSlot"]
        assert parsed.block_height == block["blockHeight"]
        assert str(parsed.transactions[listed.index(signature)].transaction.signatures[0]) == (
            signature
        )
        # the other levels of detail
        config = {**CONFIRMED, "transactionDetails": "signatures", "rewards": False}
        answer = _raw(chain, "getBlock", slot, config)
        assert signature in answer["result"]["signatures"]
        assert "rewards" not in answer["result"] and "transactions" not in answer["result"]
        assert str(GetBlockResp.from_json(orjson.dumps(answer).decode()).value.signatures[0])
        for encoding in ("base64", "base58", "jsonParsed"):
            config = {**CONFIRMED, "encoding": encoding}
            answer = _raw(chain, "getBlock", slot, config)
            assert GetBlockResp.from_json(orjson.dumps(answer).decode()).value.transactions
        config = {**CONFIRMED, "transactionDetails": "accounts"}
        accounts = _result(chain, "getBlock", slot, config)["transactions"]
        entry = accounts[listed.index(signature)]
        assert entry["transaction"]["signatures"] == [
            signature,
            *entry["transaction"]["signatures"][1:],
        ]
        assert entry["transaction"]["accountKeys"][0]["signer"] is True
        assert "logMessages" not in entry["meta"] and "preBalances" in entry["meta"]
        # a v0 transaction needs maxSupportedTransactionVersion, as getTransaction
        code, message = _error(_raw(chain, "getBlock", slot, {"commitment": "confirmed"}))
        assert code == -32015 and "maxSupportedTransactionVersion" in message
        # the parent is a block too, one whose blockhash is this one's previous
        if block["parentSlot"] >= 1:
            parent = _result(chain, "getBlock", block["parentSlot"], CONFIRMED)
            assert parent["blockhash"] == block["previousBlockhash"]


def test_get_blocks_block_time_and_samples(fast_chain):
    signature, _, _ = _pay(fast_chain)
    slot = _confirmed_slot(fast_chain, signature)
    answer = _raw(fast_chain, "getBlocks", max(slot - 3, 0), slot, {"commitment": "confirmed"})
    assert slot in answer["result"] and answer["result"] == sorted(answer["result"])
    assert slot in GetBlocksResp.from_json(orjson.dumps(answer).decode()).value
    answer = _raw(fast_chain, "getBlocks", slot, {"commitment": "confirmed"})  # no end slot
    assert answer["result"][0] == slot
    answer = _raw(fast_chain, "getBlocksWithLimit", slot, 1, {"commitment": "confirmed"})
    assert GetBlocksWithLimitResp.from_json(orjson.dumps(answer).decode()).value == [slot]
    answer = _raw(fast_chain, "getBlockTime", slot)
    block_time = GetBlockTimeResp.from_json(orjson.dumps(answer).decode()).value
    assert block_time == fast_chain.rpc("getTransaction", signature, CONFIRMED)["blockTime"]
    assert abs(block_time - time.time()) < 60
    answer = _raw(fast_chain, "getRecentPerformanceSamples", 5)
    samples = GetRecentPerformanceSamplesResp.from_json(orjson.dumps(answer).decode()).value
    assert 1 <= len(samples) <= 5
    assert samples[0].num_transactions >= 1 and samples[0].slot >= slot
    assert samples[0].num_non_vote_transactions == samples[0].num_transactions
    assert 1 <= samples[0].sample_period_secs <= 60
    first = fast_chain.rpc("getFirstAvailableBlock")
    assert 1 <= first <= slot and fast_chain.rpc("minimumLedgerSlot") == first


def test_get_program_accounts_finds_a_wallets_usdc_account(fast_chain):
    _, owner, merchant = _pay(fast_chain)
    ata = str(associated_token_address(owner.pubkey(), USDC))
    filters = [{"dataSize": 165}, {"memcmp": {"offset": 32, "bytes": str(owner.pubkey())}}]
    config = {"filters": filters, "encoding": "base64", "commitment": "confirmed"}
    answer = _raw(fast_chain, "getProgramAccounts", str(TOKEN_PROGRAM_ID), config)
    assert [item["pubkey"] for item in answer["result"]] == [ata]
    parsed = GetProgramAccountsResp.from_json(orjson.dumps(answer).decode()).value
    assert str(parsed[0].pubkey) == ata and parsed[0].account.owner == TOKEN_PROGRAM_ID
    assert int.from_bytes(bytes(parsed[0].account.data)[64:72], "little") == 4_990_000
    # the mint at offset 0, in base64, and the account parsed
    mint_filter = {
        "memcmp": {
            "offset": 0,
            "bytes": base64.b64encode(bytes(USDC)).decode(),
            "encoding": "base64",
        }
    }
    config = {
        "filters": [*filters, mint_filter, {"tokenAccountState": None}],
        "encoding": "jsonParsed",
        "withContext": True,
    }
    answer = _raw(fast_chain, "getProgramAccounts", str(TOKEN_PROGRAM_ID), config)
    assert answer["result"]["context"]["slot"] >= 1
    info = answer["result"]["value"][0]["account"]["data"]["parsed"]["info"]
    assert info["owner"] == str(owner.pubkey()) and info["tokenAmount"]["amount"] == "4990000"
    config["encoding"] = "base64"
    answer = _raw(fast_chain, "getProgramAccounts", str(TOKEN_PROGRAM_ID), config)
    parsed = GetProgramAccountsWithContextResp.from_json(orjson.dumps(answer).decode())
    assert [str(item.pubkey) for item in parsed.value] == [ata]
    # the merchant's account is another owner's
    filters[1]["memcmp"]["bytes"] = str(merchant.pubkey())
    found = _result(fast_chain, "getProgramAccounts", str(TOKEN_PROGRAM_ID), {"filters": filters})
    assert [item["pubkey"] for item in found] == [
        str(associated_token_address(merchant.pubkey(), USDC))
    ]


@pytest.mark.parametrize(
    ("method", "params", "field"),
    [
        ("getBlock", ["x"], "slot"),
        ("getBlock", [-1], "slot"),
        ("getBlock", [2**64], "slot"),
        ("getBlock", [1, {"encoding": "base64+zstd"}], "encoding"),
        ("getBlock", [1, {"transactionDetails": "most"}], "transactionDetails"),
        ("getBlock", [1, {"rewards": "yes"}], "rewards"),
        (
            "getBlock",
            [1, {"maxSupportedTransactionVersion": "0"}],
            "maxSupportedTransactionVersion",
        ),
        ("getBlock", [1, {"commitment": "processed"}], "commitment below `confirmed`"),
        ("getBlocks", [], "startSlot"),
        ("getBlocks", [1, "2"], "endSlot"),
        ("getBlocks", [0, 600_000], "endSlot"),
        ("getBlocksWithLimit", [0, 500_001], "limit"),
        ("getBlocksWithLimit", [0], "limit"),
        ("getBlockTime", [None], "slot"),
        ("getRecentPerformanceSamples", [721], "limit"),
        ("getRecentPerformanceSamples", [True], "limit"),
        ("getProgramAccounts", ["nope"], "programId"),
        ("getProgramAccounts", [str(TOKEN_PROGRAM_ID), {"filters": {}}], "filters"),
        ("getProgramAccounts", [str(TOKEN_PROGRAM_ID), {"filters": [{}] * 5}], "filters"),
        ("getProgramAccounts", [str(TOKEN_PROGRAM_ID), {"filters": [{"x": 1}]}], "filters[0]"),
        (
            "getProgramAccounts",
            [str(TOKEN_PROGRAM_ID), {"filters": [{"dataSize": -1}]}],
            "filters[0].dataSize",
        ),
        (
            "getProgramAccounts",
            [str(TOKEN_PROGRAM_ID), {"filters": [{"dataSize": 165}, {"memcmp": {"bytes": "1"}}]}],
            "filters[1].memcmp.offset",
        ),
        (
            "getProgramAccounts",
            [str(TOKEN_PROGRAM_ID), {"filters": [{"memcmp": {"offset": 0, "bytes": "0OIl"}}]}],
            "filters[0].memcmp.bytes",
        ),
        (
            "getProgramAccounts",
            [str(TOKEN_PROGRAM_ID), {"filters": [{"memcmp": {"offset": 0, "bytes": "1" * 200}}]}],
            "filters[0].memcmp.bytes",
        ),
        (
            "getProgramAccounts",
            [
                str(TOKEN_PROGRAM_ID),
                {"filters": [{"memcmp": {"offset": 0, "bytes": "", "encoding": "hex"}}]},
            ],
            "filters[0].memcmp.encoding",
        ),
        ("getProgramAccounts", [str(TOKEN_PROGRAM_ID), {"withContext": 1}], "withContext"),
        ("getProgramAccounts", [str(TOKEN_PROGRAM_ID), {"encoding": "hex"}], "encoding"),
    ],
)
def test_bad_params_answer_32602_naming_the_field(fast_chain, method, params, field):
    code, message = _error(_raw(fast_chain, method, *params))
    assert code == -32602 and field in message, message


def test_missing_skipped_and_cleaned_up_blocks():
    with start_chain(slot_ms="manual") as chain:
        chain.rpc("sandbox_advanceSlots", 1)
        top = chain.rpc("getSlot", {"commitment": "confirmed"})
        code, message = _error(_raw(chain, "getBlock", top + 10, {"commitment": "confirmed"}))
        assert code == -32004 and message == f"Block not available for slot {top + 10}"
        code, _ = _error(_raw(chain, "getBlock", top, {"commitment": "finalized"}))
        assert code == -32004  # confirmed, not yet finalized
        assert _result(chain, "getBlock", top, {"commitment": "confirmed"})["parentSlot"] < top
        # a jump of more slots than finalization needs skips the first ones
        chain.rpc("sandbox_advanceSlots", 200)
        blocks = _result(chain, "getBlocks", top, {"commitment": "confirmed"})
        assert blocks[0] == top and len(blocks) < 100
        skipped = blocks[0] + 1
        assert skipped not in blocks
        code, message = _error(_raw(chain, "getBlock", skipped, {"commitment": "confirmed"}))
        assert code == -32007 and f"Slot {skipped} was skipped" in message
        assert _error(_raw(chain, "getBlockTime", skipped))[0] == -32007
        after = _result(chain, "getBlock", blocks[1], {"commitment": "confirmed"})
        assert after["parentSlot"] == top
        code, message = _error(_raw(chain, "getBlock", 0, {"commitment": "confirmed"}))
        assert code == -32001 and "First available block" in message


def _transfer(chain: RunningChain, payer: Keypair, to, lamports: int) -> str:
    ix = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=lamports))
    message = Message.new_with_blockhash([ix], payer.pubkey(), _blockhash(chain))
    return _send(chain, VersionedTransaction(message, [payer]))


@pytest.mark.parametrize("slot_ms", [400, 0])
def test_blocks_survive_kill_9_and_restarts(tmp_path, slot_ms):
    state = tmp_path / "chain" / "state.json"
    payer, merchant = Keypair(), Keypair().pubkey()
    with start_chain(slot_ms=slot_ms, state=state) as chain:
        chain.rpc("requestAirdrop", str(payer.pubkey()), SOL)
        chain.rpc("requestAirdrop", str(merchant), SOL)  # rent-exempt before the transfers
        signatures = [_transfer(chain, payer, merchant, 1_000 + i) for i in range(5)]
        slots = {sig: _confirmed_slot(chain, sig) for sig in signatures}
        before = {slot: _result(chain, "getBlock", slot, CONFIRMED) for slot in slots.values()}
        os.kill(chain.pid, signal.SIGKILL)  # no clean shutdown: only the journal holds them
        chain.process.popen.wait(timeout=30)
    for n, restart in enumerate(("after kill -9", "after a clean stop")):
        with start_chain(slot_ms=slot_ms, state=state) as chain:
            for sig, slot in slots.items():
                block = _result(chain, "getBlock", slot, CONFIRMED)
                assert block == before[slot], restart
                assert sig in [e["transaction"]["signatures"][0] for e in block["transactions"]]
                assert _result(chain, "getBlockTime", slot) == block["blockTime"]
            assert set(slots.values()) <= set(
                _result(chain, "getBlocks", min(slots.values()), {"commitment": "confirmed"})
            )
            # new blocks follow on from the restored ones
            new = _transfer(chain, payer, merchant, 7 + n)
            block = _result(chain, "getBlock", _confirmed_slot(chain, new), CONFIRMED)
            assert block["parentSlot"] >= max(slots.values())


def test_transactions_of_the_open_block_keep_their_block_across_a_jump():
    """sandbox_advanceSlots past finalization closes the open block in its own slot first."""
    with start_chain(slot_ms="manual") as chain:
        signature = chain.rpc("requestAirdrop", str(Keypair().pubkey()), SOL)
        slot = chain.rpc("getSignatureStatuses", [signature])["value"][0]["slot"]
        chain.rpc("sandbox_advanceSlots", 200)
        block = _result(chain, "getBlock", slot, {"transactionDetails": "signatures"})
        assert block["signatures"] == [signature]


def test_a_cheat_in_the_open_block_is_in_that_block_after_kill_9(tmp_path):
    """A cheat's frame reaches the journal before its block closes: after a kill -9 the
    restored chain carries it on in the open block, which lists it once closed."""
    state = tmp_path / "state.json"
    owner = Keypair().pubkey()
    with start_chain(slot_ms="manual", state=state) as chain:
        chain.rpc("sandbox_advanceSlots", 1)
        open_slot = chain.rpc("getSlot", {"commitment": "processed"})
        chain.rpc("sandbox_mintTo", str(owner), 1_000)
        os.kill(chain.pid, signal.SIGKILL)
        chain.process.popen.wait(timeout=30)
    with start_chain(slot_ms="manual", state=state) as chain:
        assert chain.rpc("getSlot", {"commitment": "processed"}) == open_slot
        chain.rpc("sandbox_advanceSlots", 1)
        found = chain.rpc("getSignaturesForAddress", str(owner), {"commitment": "confirmed"})
        assert [entry["slot"] for entry in found] == [open_slot]
        config = {"transactionDetails": "signatures", "commitment": "confirmed"}
        block = _result(chain, "getBlock", open_slot, config)
        assert block["signatures"] == [found[0]["signature"]]


def test_blocks_past_the_history_kept_are_cleaned_up(monkeypatch):
    from sandbox.chain import blocks
    from sandbox.chain.dispatcher import Dispatcher
    from sandbox.chain.node import ChainNode
    from sandbox.chain.settings import ChainSettings

    monkeypatch.setattr(blocks, "BLOCK_KEEP", 5)
    node = ChainNode(ChainSettings(slot_ms=0))
    dispatcher = Dispatcher(node)
    for _ in range(10):
        node.twin.airdrop(Keypair().pubkey(), SOL)

    def call(method, *params):
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        return orjson.loads(dispatcher.handle(orjson.dumps(body)))

    newest = call("getSlot")["result"]
    first = call("getFirstAvailableBlock")["result"]
    assert first == newest - 4
    assert call("getBlocks", 0)["result"] == list(range(first, newest + 1))
    code, message = _error(call("getBlock", first - 1))
    assert code == -32001 and message.endswith(f"First available block: {first}")
    block = call("getBlock", first, {"transactionDetails": "signatures"})["result"]
    assert block["parentSlot"] == first - 1 and len(block["signatures"]) == 1


def test_get_program_accounts_refuses_more_matches_than_it_answers(fast_chain, monkeypatch):
    from sandbox.chain import rpc_scan
    from sandbox.chain.dispatcher import Dispatcher
    from sandbox.chain.node import ChainNode
    from sandbox.chain.settings import ChainSettings

    monkeypatch.setattr(rpc_scan, "MAX_PROGRAM_ACCOUNTS", 2)
    node = ChainNode(ChainSettings(slot_ms=0))
    owners = [Keypair().pubkey() for _ in range(3)]
    for owner in owners:
        node.twin.mint_to(owner, 1, USDC)
    dispatcher = Dispatcher(node)

    def call(*params):
        body = {"jsonrpc": "2.0", "id": 1, "method": "getProgramAccounts", "params": list(params)}
        return orjson.loads(dispatcher.handle(orjson.dumps(body)))

    code, message = _error(call(str(TOKEN_PROGRAM_ID), {"filters": [{"dataSize": 165}]}))
    assert code == -32602 and "narrow" in message and "`filters`" in message
    owner_filter = {"memcmp": {"offset": 32, "bytes": str(owners[0])}}
    assert len(call(str(TOKEN_PROGRAM_ID), {"filters": [owner_filter]})["result"]) == 1


def test_empty_blocks_are_journaled_and_bound_replay(tmp_path, monkeypatch):
    """In-process (no event loop: frames written at once): each empty block is a frame, and
    past MAX_EMPTY_FRAMES of them a checkpoint starts the journal again, history kept."""
    from sandbox.chain import journal
    from sandbox.chain.app import build_node
    from sandbox.chain.settings import ChainSettings

    monkeypatch.setattr(journal, "MAX_EMPTY_FRAMES", 20)
    settings = ChainSettings(slot_ms=400, state_file=tmp_path / "s.json")
    node = build_node(settings)
    for _ in range(50):
        node.producer.advance_height(1)
        node.producer.close_block()
    assert node.journal.stats["frames"] == 50 and node.journal.stats["checkpoints"] == 3
    closed = node.producer.closed_slot
    blocks = [(b.slot, b.parent, b.blockhash, b.previous) for b in node.producer.blocks.order]
    restored = build_node(settings)  # no clean shutdown: the journal as it was
    assert restored.journal.stats["replayed"] <= 21
    assert restored.producer.closed_slot == closed
    assert [
        (b.slot, b.parent, b.blockhash, b.previous) for b in restored.producer.blocks.order
    ] == blocks
