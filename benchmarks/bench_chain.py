"""Chain benchmark: x402 transfers over HTTP JSON-RPC vs the same ones executed in-process.

1. Startup: time from spawning `python -m sandbox.chain` to its first answered JSON-RPC call
   (goal < 1.5 s).
2. Ceiling: the pre-signed x402 transfers executed on an in-process LiteSVM (signature checks
   on) holding the same accounts.
3. Served: the same transfers sent as `sendTransaction` (base64, skipPreflight, as facilitators
   settle) over HTTP by 64 concurrent aiohttp connections to a chain with signature checks on.
   Reported: tx/s, ratio to the ceiling (goal >= 40%), p50/p99 latency; every transfer must land.
4. Journal: the same served rate on a chain with a state file (so with its journal: an fsync
   per block at 400 ms slots, group commit at --slot-ms 0) against one without, interleaved,
   best of two each. Goals: >= 85% of the rate without at 400 ms, >= 70% at --slot-ms 0.

Run: `make bench ARGS=chain` or `.venv/bin/python benchmarks/bench_chain.py [N]`.
"""

from __future__ import annotations

import asyncio
import base64
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import aiohttp
import orjson
from solders.account import Account
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox.chain.testing import start_chain  # noqa: E402
from sandbox.processes import free_port_pair  # noqa: E402
from sandbox.protocol.networks import USDC_DEVNET_MINT  # noqa: E402
from sandbox.protocol.programs import (  # noqa: E402
    COMPUTE_BUDGET_PROGRAM_ID,
    MEMO_PROGRAM_ID,
    TOKEN_PROGRAM_ID,
    associated_token_address,
)

CONCURRENCY = 64
ROUNDS = 2
OWNERS = 64
USDC = Pubkey.from_string(USDC_DEVNET_MINT)


def _transfer(owner: Keypair, fee_payer: Keypair, pay_to: Pubkey, blockhash: Hash, n: int):
    instructions = [
        Instruction(COMPUTE_BUDGET_PROGRAM_ID, bytes([2]) + (20_000).to_bytes(4, "little"), []),
        Instruction(COMPUTE_BUDGET_PROGRAM_ID, bytes([3]) + (1).to_bytes(8, "little"), []),
        Instruction(
            TOKEN_PROGRAM_ID,
            bytes([12]) + (1000).to_bytes(8, "little") + bytes([6]),
            [
                AccountMeta(associated_token_address(owner.pubkey(), USDC), False, True),
                AccountMeta(USDC, False, False),
                AccountMeta(associated_token_address(pay_to, USDC), False, True),
                AccountMeta(owner.pubkey(), True, False),
            ],
        ),
        Instruction(MEMO_PROGRAM_ID, f"{n:032x}".encode(), []),
    ]
    message = MessageV0.try_compile(fee_payer.pubkey(), instructions, [], blockhash)
    return VersionedTransaction(message, [fee_payer, owner])


def measure_startup() -> float:
    """Seconds from spawn to the first answered getSlot."""
    port = free_port_pair()
    body = b'{"jsonrpc":"2.0","id":1,"method":"getSlot"}'
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.chain", "--port", str(port), "--slot-ms", "400"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        while time.perf_counter() - started < 30:
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}", data=body)
                with urllib.request.urlopen(request, timeout=1) as response:
                    if b'"result"' in response.read():
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.005)
        raise RuntimeError("chain did not answer within 30 s")
    finally:
        process.terminate()
        process.wait(10)


def _rpc(url: str, method: str, *params):
    body = orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = orjson.loads(response.read())
    if "error" in answer:
        raise RuntimeError(f"{method}: {answer['error']}")
    return answer["result"]


def setup_wallets(url: str):
    fee_payer = Keypair()
    owners = [Keypair() for _ in range(OWNERS)]
    merchant = Keypair().pubkey()
    _rpc(url, "requestAirdrop", str(fee_payer.pubkey()), 10**12)
    for owner in owners:
        _rpc(url, "sandbox_mintTo", str(owner.pubkey()), 10**12)
    _rpc(url, "sandbox_mintTo", str(merchant), 0)
    return fee_payer, owners, merchant


def _send_body(i: int, tx: VersionedTransaction) -> bytes:
    encoded = base64.b64encode(bytes(tx)).decode()
    return orjson.dumps(
        {
            "jsonrpc": "2.0",
            "id": i,
            "method": "sendTransaction",
            "params": [encoded, {"encoding": "base64", "skipPreflight": True}],
        }
    )


def ceiling_tps(url: str, txs: list[VersionedTransaction], keys: list[Pubkey]) -> float:
    """The same transfers executed on an in-process LiteSVM holding the same accounts."""
    svm = LiteSVM().with_blockhash_check(False).with_transaction_history(0)
    answer = _rpc(url, "getMultipleAccounts", [str(k) for k in keys], {"encoding": "base64"})
    for key, value in zip(keys, answer["value"], strict=True):
        svm.set_account(
            key,
            Account(
                lamports=value["lamports"],
                data=base64.b64decode(value["data"][0]),
                owner=Pubkey.from_string(value["owner"]),
            ),
        )
    started = time.perf_counter()
    for tx in txs:
        result = svm.send_transaction(tx)
        if not hasattr(result, "compute_units_consumed"):
            raise RuntimeError(f"in-process transfer failed: {result}")
    return len(txs) / (time.perf_counter() - started)


async def served(url: str, bodies: list[bytes]) -> tuple[float, list[float], int]:
    queue = list(reversed(bodies))
    latencies: list[float] = []
    failures = 0
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    headers = {"Content-Type": "application/json"}

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal failures
        while queue:
            body = queue.pop()
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                answer = await response.read()
            latencies.append(time.perf_counter() - started)
            if b'"result"' not in answer:
                failures += 1

    async with aiohttp.ClientSession(connector=connector) as session:
        # Warm the connections first so the measurement is of steady state.
        await asyncio.gather(
            *(
                session.post(url, data=b'{"jsonrpc":"2.0","id":0,"method":"getHealth"}')
                for _ in range(CONCURRENCY)
            )
        )
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    return len(bodies) / elapsed, latencies, failures


def _run(coroutine):
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def _served_rate(slot_ms: int, state: Path | None, n: int) -> float:
    """sendTransaction rate of n transfers on a chain started for it (journal with `state`)."""
    with start_chain(slot_ms=slot_ms, state=state, fresh=state is not None) as chain:
        url = chain.rpc_url
        fee_payer, owners, merchant = setup_wallets(url)
        blockhash = Hash.from_string(_rpc(url, "getLatestBlockhash")["value"]["blockhash"])
        txs = [_transfer(owners[i % OWNERS], fee_payer, merchant, blockhash, i) for i in range(n)]
        tps, _, failures = _run(served(url, [_send_body(i, tx) for i, tx in enumerate(txs)]))
    if failures:
        raise RuntimeError(f"{failures} of {n} transfers failed (slot-ms {slot_ms})")
    return tps


def bench_journal(n: int) -> dict:
    import tempfile

    goals = {400: 0.85, 0: 0.70}
    figures: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-journal-") as home:
        for slot_ms, goal in goals.items():
            without, with_journal = [], []
            for round_ in range(2):
                without.append(_served_rate(slot_ms, None, n))
                state = Path(home) / f"state-{slot_ms}-{round_}.json"
                with_journal.append(_served_rate(slot_ms, state, n))
            ratio = max(with_journal) / max(without)
            met = "met" if ratio >= goal else "NOT met"
            print(
                f"   journal at slot-ms {slot_ms}: {max(with_journal):,.0f} tx/s with, "
                f"{max(without):,.0f} without = {ratio:.0%} (goal >= {goal:.0%}: {met})"
            )
            figures[f"slot_ms_{slot_ms}"] = {
                "with_journal_tps": round(max(with_journal), 1),
                "without_tps": round(max(without), 1),
                "ratio": round(ratio, 3),
                "goal": goal,
                "goal_met": ratio >= goal,
            }
    return figures


def main(n: int | None = None) -> dict:
    n = n or int(os.environ.get("BENCH_CHAIN_TXS", "6000"))
    startup = min(measure_startup() for _ in range(3))
    print(f"   startup to first RPC answer: {startup * 1000:.0f} ms (goal < 1500 ms)")
    with start_chain(slot_ms=400) as chain:
        url = chain.rpc_url
        fee_payer, owners, merchant = setup_wallets(url)
        blockhash = Hash.from_string(_rpc(url, "getLatestBlockhash")["value"]["blockhash"])
        keys = [
            fee_payer.pubkey(),
            USDC,
            associated_token_address(merchant, USDC),
            *(associated_token_address(o.pubkey(), USDC) for o in owners),
        ]
        # Machines here are shared and noisy: best of several rounds on each side.
        best = None
        for round_ in range(ROUNDS):
            txs = [
                _transfer(owners[i % OWNERS], fee_payer, merchant, blockhash, round_ * n + i)
                for i in range(n)
            ]
            ceiling = max(ceiling_tps(url, txs, keys) for _ in range(2))
            bodies = [_send_body(i, tx) for i, tx in enumerate(txs)]
            tps, latencies, failures = _run(served(url, bodies))
            if best is None or tps / ceiling > best[0] / best[1]:
                best = (tps, ceiling, latencies, failures)
        tps, ceiling, latencies, failures = best
        # processed: the last transfers are not finalized yet (reads default to finalized).
        merchant_ata = str(associated_token_address(merchant, USDC))
        landed = _rpc(url, "getTokenAccountBalance", merchant_ata, {"commitment": "processed"})
        landed_count = int(landed["value"]["amount"]) // 1000
        n_sent = n * ROUNDS
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    ratio = tps / ceiling
    print(f"   in-process LiteSVM (ceiling): {ceiling:,.0f} tx/s")
    print(
        f"   over HTTP, {CONCURRENCY} connections: {tps:,.0f} tx/s = {ratio:.0%} of the ceiling "
        f"(goal >= 40%); p50 {p50:.1f} ms, p99 {p99:.1f} ms; {failures} failed; "
        f"{landed_count}/{n_sent} landed"
    )
    journal = bench_journal(n // 2)
    return {
        "transactions": n,
        "journal": journal,
        "startup_ms": round(startup * 1000, 1),
        "ceiling_tps": round(ceiling, 1),
        "served_tps": round(tps, 1),
        "ratio_to_ceiling": round(ratio, 3),
        "p50_ms": round(p50, 2),
        "p99_ms": round(p99, 2),
        "failures": failures,
        "landed": landed_count,
        "sent": n_sent,
    }


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else None)
