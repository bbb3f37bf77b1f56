"""The full paid round trip (402, pay, 200) through server, facilitator and chain at --slot-ms 0.

32 concurrent clients, each with its own funded wallet, pay /api/premium-content ($0.01) again and
again: challenge, build and sign, paid request (verify, handler, settle with confirmation). The free
/health route, measured in the same run with the same concurrency, is the reference. The merchant's
balance on chain must grow by exactly the price times the paid requests counted.

The stack's server keeps its payment record in SQLite (--payment-record, the durable pending
record); a second server on the same chain and facilitator keeps it in memory. Their paid round
trips are measured in alternating halves, and `record_vs_memory` is the ratio of their rates
(goal: within 10%, at least 0.9).

Goal on a 2-core machine, load generator on the same cores: at least 250 paid requests/s.
Run: `make bench ARGS=server` (or `python benchmarks/bench_server.py [--seconds N]`).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sandbox.orchestration.home import StackPaths, memo_secret  # noqa: E402
from sandbox.orchestration.rpc import ChainRpc  # noqa: E402
from sandbox.orchestration.stack import StackConfig, start_stack, stop_stack  # noqa: E402
from sandbox.orchestration.wallets import read_keypair  # noqa: E402
from sandbox.payer import X402Client  # noqa: E402
from sandbox.processes import ManagedProcess, free_port, free_port_pair  # noqa: E402
from sandbox.protocol import USDC_DEVNET_MINT, associated_token_address  # noqa: E402

CONCURRENCY = 32
PRICE = 10_000  # /api/premium-content, atomic USDC
PAID_PATH = "/api/premium-content"
GOAL_PAID_RPS = 250


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run_for(seconds: float, worker) -> tuple[list[float], dict[str, int], float]:
    """Run CONCURRENCY copies of `worker(record)` for `seconds`; latencies of successes."""
    latencies: list[float] = []
    failures: dict[str, int] = {}
    deadline = time.perf_counter() + seconds

    async def loop(index: int) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            outcome = await worker(index)
            if outcome == "ok":
                latencies.append(time.perf_counter() - started)
            else:
                failures[outcome] = failures.get(outcome, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(loop(i) for i in range(CONCURRENCY)))
    return latencies, failures, time.perf_counter() - started


def figures(latencies: list[float], failures: dict[str, int], elapsed: float) -> dict:
    return {
        "requests": len(latencies),
        "per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2) if latencies else None,
        "failures": failures,
    }


async def measure(
    server_url: str, memory_server_url: str, keypairs: list, rpc_url: str, seconds: float
) -> dict:
    connector = aiohttp.TCPConnector(limit=CONCURRENCY * 2)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def health(_index: int) -> str:
            async with session.get(server_url + "/health") as response:
                await response.read()
                return "ok" if response.status == 200 else str(response.status)

        await run_for(0.5, health)  # warm-up
        health_figures = figures(*await run_for(seconds / 2, health))

    clients = [X402Client(keypairs[i % len(keypairs)], rpc_url=rpc_url) for i in range(CONCURRENCY)]
    runs = {"record": [server_url, [], {}, 0.0], "memory": [memory_server_url, [], {}, 0.0]}
    phases: dict[str, list[float]] = {"challenge": [], "sign": [], "paid_request": []}
    paid_url = server_url

    async def paid(index: int) -> str:
        try:
            response = await clients[index].get(paid_url + PAID_PATH)
        except Exception as exc:  # a benchmark reports failures, it does not stop on them
            return type(exc).__name__
        if response.status != 200 or response.receipt is None or not response.receipt.success:
            return f"{response.status}:{response.rejection or ''}"
        for name in phases:
            phases[name].append(getattr(response.timings, name))
        return "ok"

    try:
        warmup_count = 0
        for name in ("memory", "record"):
            paid_url = runs[name][0]
            warm, _, _ = await run_for(0.5, paid)
            warmup_count += len(warm)
        for values in phases.values():
            values.clear()
        for name in ("record", "memory", "record", "memory"):  # alternating halves
            paid_url = runs[name][0]
            latencies, failures, elapsed = await run_for(seconds / 2, paid)
            runs[name][1].extend(latencies)
            for outcome, count in failures.items():
                runs[name][2][outcome] = runs[name][2].get(outcome, 0) + count
            runs[name][3] += elapsed
    finally:
        await asyncio.gather(*(client.close() for client in clients))
    paid_figures = figures(*runs["record"][1:])
    paid_figures["phase_p50_ms"] = {
        name: round(percentile(values, 0.5) * 1000, 2) for name, values in phases.items()
    }
    return {
        "health": health_figures,
        "paid": paid_figures,
        "paid_memory_record": figures(*runs["memory"][1:]),
        "warmup_paid": warmup_count,
    }


def start_memory_server(info, home: Path) -> ManagedProcess:
    """A second paid server like the stack's, with its payment record in memory."""
    url = f"http://127.0.0.1:{free_port()}"
    server = ManagedProcess(
        "server-memory", "sandbox.server",
        ["--port", url.rsplit(":", 1)[1], "--facilitator-url", info.facilitator_url,
         "--pay-to", info.wallet("merchant").address, "--usdc-mint", info.usdc_mint,
         "--rpc-url", info.rpc_url],
        f"{url}/health", home / "logs" / "server-memory.log",
        env={"X402_SANDBOX_SERVER_MEMO_SECRET": memo_secret(StackPaths(home))},
    ).start()  # fmt: skip
    server.wait_healthy(30)
    return server


def _met(met: bool) -> str:
    return "met" if met else "NOT met"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args(argv or [])
    with tempfile.TemporaryDirectory(prefix="bench-server-") as tmp:
        home = Path(tmp)
        config = StackConfig(
            home=home,
            rpc_port=free_port_pair(),
            facilitator_port=free_port(),
            server_port=free_port(),
            slot_ms=0,
            payers=CONCURRENCY,
            payer_usdc=1000.0,
            fresh=True,
            facilitator_args=("--log-level", "warning"),
        )
        info = start_stack(config)
        memory_server = None
        try:
            memory_server = start_memory_server(info, home)
            keypairs = [
                read_keypair(Path(w.keypair_file))
                for w in info.wallets
                if w.name.startswith("payer-")
            ]
            merchant = info.wallet("merchant").address
            rpc = ChainRpc(info.rpc_url)
            from solders.pubkey import Pubkey

            merchant_ata = str(
                associated_token_address(
                    Pubkey.from_string(merchant), Pubkey.from_string(USDC_DEVNET_MINT)
                )
            )
            before = rpc.token_balance(merchant_ata) or 0
            result = asyncio.run(
                measure(
                    info.server_url,
                    memory_server.health_url.removesuffix("/health"),
                    keypairs,
                    info.rpc_url,
                    args.seconds,
                )
            )
            after = rpc.token_balance(merchant_ata) or 0
            rpc.close()
        finally:
            if memory_server is not None:
                memory_server.stop()
            stop_stack(home)

    paid, memory = result["paid"], result["paid_memory_record"]
    counted = paid["requests"] + memory["requests"] + result["warmup_paid"]
    result["merchant_received"] = after - before
    result["merchant_matches_paid_requests"] = after - before == counted * PRICE
    judge(result)
    print_report(result, counted)
    return result


def judge(result: dict) -> dict:
    """The ratios and whether each goal is met, from the measured figures."""
    paid, health = result["paid"], result["health"]
    memory = result["paid_memory_record"]
    result["record_vs_memory"] = round(paid["per_second"] / memory["per_second"], 3)
    result["paid_vs_health"] = round(paid["per_second"] / health["per_second"], 3)
    result["goal_paid_per_second"] = GOAL_PAID_RPS
    result["goal_paid_per_second_met"] = paid["per_second"] >= GOAL_PAID_RPS
    result["goal_record_vs_memory_met"] = result["record_vs_memory"] >= 0.9
    result["concurrency"] = CONCURRENCY
    return result


def print_report(result: dict, counted: int) -> None:
    """The figures as `make bench` prints them; each goal says "met" or "NOT met"."""
    paid, health = result["paid"], result["health"]
    memory = result["paid_memory_record"]
    print(
        f"   free /health: {health['per_second']:.0f} req/s, p50 {health['p50_ms']} ms, "
        f"p99 {health['p99_ms']} ms"
    )
    print(
        f"   paid round trip (402, pay, 200) x{CONCURRENCY}: {paid['per_second']:.0f} paid req/s "
        f"(goal {GOAL_PAID_RPS}: {_met(result['goal_paid_per_second_met'])}), "
        f"p50 {paid['p50_ms']} ms, p99 {paid['p99_ms']} ms; "
        f"{result['paid_vs_health']:.3f}x the free route"
    )
    print(
        f"   the same with the payment record in memory: {memory['per_second']:.0f} paid req/s, "
        f"p50 {memory['p50_ms']} ms; with it in SQLite {result['record_vs_memory']:.3f}x that "
        f"(goal at least 0.9: {_met(result['goal_record_vs_memory_met'])})"
    )
    print(f"   phases p50 (ms): {paid['phase_p50_ms']}; failures: {paid['failures'] or 'none'}")
    print(
        f"   merchant received {result['merchant_received']} atomic = "
        f"{counted} paid x {PRICE}: {result['merchant_matches_paid_requests']}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
