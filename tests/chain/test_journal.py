"""The chain's journal: a kill -9 loses nothing confirmed, history survives restarts, a torn
tail or a replaced ledger never corrupts what is replayed (sandbox/chain/journal.py)."""

from __future__ import annotations

import asyncio
import base64
import errno
import os
import signal
import threading
import time

import httpx
import pytest
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from sandbox.chain.app import build_node
from sandbox.chain.dispatcher import Dispatcher
from sandbox.chain.http_server import serve_http
from sandbox.chain.journal import journal_path, read_frames
from sandbox.chain.settings import ChainSettings
from sandbox.chain.testing import RunningChain, start_chain
from sandbox.jsonrpc import RpcError

SOL = 1_000_000_000


WIRES: dict[str, str] = {}  # signature -> the transaction sent, to send it again


def _transfer(chain: RunningChain, payer: Keypair, to, lamports: int) -> str:
    answer = chain.rpc("getLatestBlockhash", {"commitment": "confirmed"})
    blockhash = Hash.from_string(answer["value"]["blockhash"])
    ix = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=lamports))
    tx = VersionedTransaction(Message.new_with_blockhash([ix], payer.pubkey(), blockhash), [payer])
    wire = base64.b64encode(bytes(tx)).decode()
    signature = chain.rpc("sendTransaction", wire, {"encoding": "base64"})
    WIRES[signature] = wire
    return signature


def _wait_confirmed(chain: RunningChain, signatures: list[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = chain.rpc("getSignatureStatuses", signatures)["value"]
        if all(s and s["confirmationStatus"] in ("confirmed", "finalized") for s in statuses):
            return
        time.sleep(0.05)
    raise AssertionError(f"not confirmed within {timeout}s: {statuses}")


def _kill(chain: RunningChain) -> None:
    os.kill(chain.pid, signal.SIGKILL)
    chain.process.popen.wait(timeout=30)


def _balance(chain: RunningChain, key) -> int:
    return chain.rpc("getBalance", str(key), {"commitment": "confirmed"})["value"]


@pytest.mark.parametrize("slot_ms", [400, 0])
def test_kill_9_loses_no_confirmed_transaction(tmp_path, slot_ms):
    state = tmp_path / "chain" / "state.json"
    payer, merchant = Keypair(), Keypair().pubkey()
    with start_chain(slot_ms=slot_ms, state=state) as chain:
        chain.rpc("requestAirdrop", str(payer.pubkey()), 10 * SOL)
        _wait_confirmed(chain, [chain.rpc("requestAirdrop", str(merchant), SOL)])
        signatures = [_transfer(chain, payer, merchant, 1_000 + i) for i in range(40)]
        _wait_confirmed(chain, signatures)
        expected = {
            "merchant": _balance(chain, merchant),
            "payer": _balance(chain, payer.pubkey()),
        }
        _kill(chain)  # no clean shutdown: nothing saved but what the journal holds
    assert expected["merchant"] == SOL + sum(1_000 + i for i in range(40))
    with start_chain(slot_ms=slot_ms, state=state) as chain:
        assert _balance(chain, merchant) == expected["merchant"]
        assert _balance(chain, payer.pubkey()) == expected["payer"]
        statuses = chain.rpc("getSignatureStatuses", signatures)["value"]
        assert all(s and s["err"] is None for s in statuses)
        for signature in signatures[::13]:
            config = {"encoding": "json", "commitment": "confirmed"}
            found = chain.rpc("getTransaction", signature, config)
            assert found is not None and found["meta"]["err"] is None
        history = chain.rpc("getSignaturesForAddress", str(merchant), {"commitment": "confirmed"})
        assert {entry["signature"] for entry in history} >= set(signatures)
        # the status cache and the blockhashes survived too: a resend is refused as a replay
        with pytest.raises(RpcError, match=r"AlreadyProcessed|already been processed"):
            chain.rpc("sendTransaction", WIRES[signatures[-1]], {"encoding": "base64"})
        assert _balance(chain, merchant) == expected["merchant"]


def test_history_survives_a_clean_restart(tmp_path):
    state = tmp_path / "state.json"
    payer, merchant = Keypair(), Keypair().pubkey()
    with start_chain(slot_ms=0, state=state) as chain:
        chain.rpc("requestAirdrop", str(payer.pubkey()), SOL)
        signature = _transfer(chain, payer, merchant, 1_000_000)
    with start_chain(slot_ms=0, state=state) as chain:
        found = chain.rpc("getTransaction", signature, {"encoding": "json"})
        assert found is not None
        assert found["meta"]["postBalances"][1] == 1_000_000
        status = chain.rpc("getSignatureStatuses", [signature], {"searchTransactionHistory": True})
        assert status["value"][0]["confirmationStatus"] == "finalized"


def test_a_torn_last_frame_is_cut_off_and_the_rest_replayed(tmp_path):
    state = tmp_path / "state.json"
    payer, merchant = Keypair(), Keypair().pubkey()
    with start_chain(slot_ms=0, state=state) as chain:
        chain.rpc("requestAirdrop", str(payer.pubkey()), SOL)
        _transfer(chain, payer, merchant, 1_000_000)
        _kill(chain)
    journal = journal_path(state)
    whole = journal.stat().st_size
    with journal.open("ab") as out:
        out.write(b"\x40\x00\x00\x00garbage of a frame cut short")
    with start_chain(slot_ms=0, state=state) as chain:
        assert _balance(chain, merchant) == 1_000_000
        _transfer(chain, payer, merchant, 1_000)  # appends after the cut, not after garbage
        _kill(chain)
    _, good = read_frames(journal)
    assert good == journal.stat().st_size > whole
    with start_chain(slot_ms=0, state=state) as chain:
        assert _balance(chain, merchant) == 1_001_000


def test_a_reset_ledger_is_never_replayed_under_the_new_one(tmp_path):
    state = tmp_path / "state.json"
    merchant = Keypair().pubkey()
    with start_chain(slot_ms=0, state=state) as chain:
        _wait_confirmed(chain, [chain.rpc("requestAirdrop", str(merchant), SOL)])
        chain.rpc("sandbox_reset")
        _wait_confirmed(chain, [chain.rpc("requestAirdrop", str(merchant), 2 * SOL)])
        _kill(chain)
    with start_chain(slot_ms=0, state=state) as chain:
        assert _balance(chain, merchant) == 2 * SOL


def test_checkpoints_bound_the_journal_and_keep_history(tmp_path):
    """In-process (no event loop: frames are written at once): past the size limit the state
    file is rewritten and the journal restarts with the history alone."""
    settings = ChainSettings(slot_ms=0, state_file=tmp_path / "s.json", journal_max_bytes=20_000)
    node = build_node(settings)
    payer, merchant = Keypair(), Keypair().pubkey()
    node.twin.airdrop(payer.pubkey(), SOL)
    node.twin.airdrop(merchant, SOL)
    signatures = []
    for i in range(60):
        ix = transfer(
            TransferParams(from_pubkey=payer.pubkey(), to_pubkey=merchant, lamports=i + 1)
        )
        message = Message.new_with_blockhash([ix], payer.pubkey(), node.producer.blockhash)
        tx = VersionedTransaction(message, [payer])
        assert node.producer.execute(tx, preflight=True).err is None
        signatures.append(tx.signatures[0])
    journal = node.journal
    assert journal.stats["checkpoints"] >= 2
    # what follows the history frame stays under the limit, one frame past it at most
    assert journal.path.stat().st_size - journal.base <= 20_000 + 4_000
    again = build_node(settings)
    assert again.producer.get_account(merchant).lamports == SOL + sum(range(1, 61))
    assert all(sig in again.producer.statuses for sig in signatures)
    assert again.producer.statuses[signatures[0]].tx is not None
    # the blockhash the payer signed with is still live after the restart
    assert again.producer.is_live(node.producer.blockhash)


def test_one_failing_durable_callback_does_not_hold_back_the_others(tmp_path):
    """A client whose connection was refused mid-pipeline raises when its held answer is
    written: every other held answer must still go out."""
    node = build_node(ChainSettings(slot_ms=0, state_file=tmp_path / "s.json"))
    journal = node.journal
    journal._appended += 1  # a commit promised, not yet on disk
    ran = []

    def broken():
        raise RuntimeError("write after EOF")

    journal.after_durable(broken)
    journal.after_durable(lambda: ran.append("second client"))
    journal._mark_durable(journal._appended)
    assert ran == ["second client"] and not journal.behind


def test_save_state_without_a_name_is_a_checkpoint(tmp_path):
    """The main state file is where replay starts: saving it restarts the journal, so no older
    frame can be replayed over it."""
    state = tmp_path / "state.json"
    payer, merchant = Keypair(), Keypair().pubkey()
    with start_chain(slot_ms=0, state=state) as chain:
        chain.rpc("requestAirdrop", str(payer.pubkey()), SOL)
        _transfer(chain, payer, merchant, 1_000_000)
        before = chain.rpc("sandbox_getInfo")["journal"]
        chain.rpc("sandbox_saveState")
        after = chain.rpc("sandbox_getInfo")["journal"]
        assert after["checkpoints"] == before["checkpoints"] + 1
        _kill(chain)
    with start_chain(slot_ms=0, state=state) as chain:
        assert _balance(chain, merchant) == 1_000_000


def test_a_disk_full_write_leaves_no_torn_frame_and_its_frame_is_written_next_time(
    tmp_path, monkeypatch
):
    """The disk fills up mid-frame: the journal is cut back to its last whole frame (a torn one
    before later good frames would hide them from the replay), and the frame that failed is
    written with the next one, so a restart replays both."""
    state = tmp_path / "s.json"
    node = build_node(ChainSettings(slot_ms=0, state_file=state))
    journal, real_write, full = node.journal, os.write, [True]

    def write(fd, data):
        if fd == journal._fd and full[0]:
            full[0] = False
            real_write(fd, bytes(data[: len(data) // 2]))  # half a frame, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    first, second = Keypair().pubkey(), Keypair().pubkey()
    with pytest.raises(OSError):
        node.twin.airdrop(first, SOL)
    path = journal_path(state)
    assert read_frames(path)[1] == path.stat().st_size == journal.size  # whole frames only
    node.twin.airdrop(second, 2 * SOL)
    frames, covered = read_frames(path)
    assert covered == path.stat().st_size and len(frames) >= 3  # history, the failed, the next
    os.close(journal._fd)  # as a kill -9 leaves it: no checkpoint
    again = build_node(ChainSettings(slot_ms=0, state_file=state))
    assert again.producer.get_account(first).lamports == SOL
    assert again.producer.get_account(second).lamports == 2 * SOL


async def test_an_answer_the_latency_fault_delayed_still_waits_for_the_journal(
    tmp_path, monkeypatch
):
    """A slow disk outlasts the latency fault's delay: the answer (here an airdrop's signature)
    must not leave before the journal holds what it reports."""
    node = build_node(ChainSettings(slot_ms=0, state_file=tmp_path / "s.json"))
    listening, server = await serve_http(Dispatcher(node), "127.0.0.1", 0)
    server.ready = True
    port = listening.sockets[0].getsockname()[1]
    disk, real_write = threading.Event(), node.journal._write

    def slow_write(data: bytes) -> None:  # in the flusher's executor thread
        disk.wait(30)
        real_write(data)

    monkeypatch.setattr(node.journal, "_write", slow_write)
    node.faults.latency_ms = 20
    body = {"jsonrpc": "2.0", "id": 1, "method": "requestAirdrop",
            "params": [str(Keypair().pubkey()), SOL]}  # fmt: skip
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            answer = asyncio.ensure_future(client.post(f"http://127.0.0.1:{port}", json=body))
            done, _ = await asyncio.wait({answer}, timeout=0.5)  # 25 times the delay
            assert not done, "answered before the journal wrote what it reports"
            assert node.journal.behind
            disk.set()
            reply = await answer
        assert reply.status_code == 200 and "result" in reply.json(), reply.text
        assert not node.journal.behind
    finally:
        disk.set()
        server.close()
        listening.close()
