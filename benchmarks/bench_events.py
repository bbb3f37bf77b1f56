"""What the event feed costs: paid round trips with the feed on and one `listen` connected, vs
the feed off, in the same run.

One chain; two server + facilitator pairs on it. The stack's pair publishes every step (the
default) and an `x402-sandbox listen` process follows both its feeds for the whole run; the
second pair runs with `--event-feed off`. 32 clients pay /api/premium-content at --slot-ms 0,
alternating between the pairs in rounds, so both see the same machine noise.

Goal (issue "See every payment"): feed on with a listener >= 95% of the feed off's paid
round trips/s. Run: `make bench ARGS=events` (or `python benchmarks/bench_events.py`).
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
for path in (HERE.parent, HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench_server import CONCURRENCY, PAID_PATH, figures, run_for  # noqa: E402

from sandbox.orchestration.home import StackPaths, memo_secret, read_admin_token  # noqa: E402
from sandbox.orchestration.stack import StackConfig, start_stack, stop_stack  # noqa: E402
from sandbox.orchestration.wallets import read_keypair  # noqa: E402
from sandbox.payer import X402Client  # noqa: E402
from sandbox.processes import ManagedProcess, free_port, free_port_pair  # noqa: E402

GOAL = 0.95
ROUNDS = 3


def start_pair_without_feed(info, home: Path) -> list[ManagedProcess]:
    """A facilitator and a server like the stack's, both with --event-feed off."""
    paths = StackPaths(home)
    facilitator_url = f"http://127.0.0.1:{free_port()}"
    facilitator = ManagedProcess(
        "facilitator-nofeed", "sandbox.facilitator",
        ["--port", facilitator_url.rsplit(":", 1)[1], "--rpc-url", info.rpc_url,
         "--ws-url", info.ws_url, "--ledger", str(home / "nofeed-ledger.sqlite3"),
         "--fee-payer-keypair", str(paths.key("fee-payer-0")), "--event-feed", "off"],
        f"{facilitator_url}/health", home / "logs" / "facilitator-nofeed.log",
    ).start()  # fmt: skip
    facilitator.wait_healthy(30)
    server_url = f"http://127.0.0.1:{free_port()}"
    server = ManagedProcess(
        "server-nofeed", "sandbox.server",
        ["--port", server_url.rsplit(":", 1)[1], "--facilitator-url", facilitator_url,
         "--pay-to", info.wallet("merchant").address, "--usdc-mint", info.usdc_mint,
         "--rpc-url", info.rpc_url, "--payment-record", str(home / "nofeed-payments.sqlite3"),
         "--event-feed", "off"],
        f"{server_url}/health", home / "logs" / "server-nofeed.log",
        env={"X402_SANDBOX_SERVER_MEMO_SECRET": memo_secret(paths)},
    ).start()  # fmt: skip
    server.wait_healthy(30)
    return [facilitator, server]


def start_listener(info, home: Path) -> subprocess.Popen:
    """`x402-sandbox listen` on the stack's two feeds; returns once both streams are open."""
    ready = home / "listen.ready"
    listener = subprocess.Popen(
        [sys.executable, "-m", "sandbox.cli", "listen", "--home", str(home),
         "--ready-file", str(ready), "--json"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not ready.exists():
        if listener.poll() is not None or time.monotonic() > deadline:
            listener.kill()
            raise RuntimeError(f"listen did not connect: {listener.stderr.read().decode()}")
        time.sleep(0.05)
    return listener


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU a process has used (Linux /proc), to show what the listener costs."""
    import os

    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 2)


async def measure(urls: dict[str, str], keypairs: list, rpc_url: str, seconds: float) -> dict:
    clients = [X402Client(keypairs[i % len(keypairs)], rpc_url=rpc_url) for i in range(CONCURRENCY)]
    runs = {name: [[], {}, 0.0] for name in urls}
    target = {"url": ""}

    async def paid(index: int) -> str:
        try:
            response = await clients[index].get(target["url"] + PAID_PATH)
        except Exception as exc:  # a benchmark reports failures, it does not stop on them
            return type(exc).__name__
        if response.status != 200 or response.receipt is None or not response.receipt.success:
            return f"{response.status}:{response.rejection or ''}"
        return "ok"

    try:
        for url in urls.values():  # warm-up: connections, blockhash caches, SQLite pages
            target["url"] = url
            await run_for(0.5, paid)
        for round_index in range(ROUNDS):
            order = list(urls) if round_index % 2 == 0 else list(reversed(urls))
            for name in order:
                target["url"] = urls[name]
                latencies, failures, elapsed = await run_for(seconds, paid)
                runs[name][0].extend(latencies)
                for outcome, count in failures.items():
                    runs[name][1][outcome] = runs[name][1].get(outcome, 0) + count
                runs[name][2] += elapsed
    finally:
        await asyncio.gather(*(client.close() for client in clients))
    return {name: figures(*run) for name, run in runs.items()}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="per round and side")
    args = parser.parse_args(argv or [])
    with tempfile.TemporaryDirectory(prefix="bench-events-") as tmp:
        home = Path(tmp)
        config = StackConfig(
            home=home, rpc_port=free_port_pair(), facilitator_port=free_port(),
            server_port=free_port(), slot_ms=0, payers=CONCURRENCY, payer_usdc=1000.0,
        )  # fmt: skip
        info = start_stack(config)
        extra: list[ManagedProcess] = []
        listener = None
        try:
            extra = start_pair_without_feed(info, home)
            listener = start_listener(info, home)
            assert read_admin_token(StackPaths(home))  # the listener found the stack's token
            keypairs = [
                read_keypair(Path(w.keypair_file))
                for w in info.wallets
                if w.name.startswith("payer-")
            ]
            urls = {
                "feed_on_with_listener": info.server_url,
                "feed_off": extra[1].health_url.removesuffix("/health"),
            }
            result = asyncio.run(measure(urls, keypairs, info.rpc_url, args.seconds))
            result["listener_alive"] = listener.poll() is None
            result["listener_cpu_s"] = _cpu_seconds(listener.pid)
        finally:
            if listener is not None:
                listener.terminate()
                listener.wait(10)
            for process in reversed(extra):
                process.stop()
            stop_stack(home)
    on, off = result["feed_on_with_listener"], result["feed_off"]
    ratio = round(on["per_second"] / off["per_second"], 3) if off["per_second"] else 0.0
    result.update(on_vs_off=ratio, goal=GOAL, goal_met=ratio >= GOAL, rounds=ROUNDS)
    print(
        f"   feed off: {off['per_second']:.0f} paid req/s (p50 {off['p50_ms']} ms); feed on with "
        f"one listen connected: {on['per_second']:.0f} paid req/s (p50 {on['p50_ms']} ms)"
    )
    print(
        f"   on/off = {ratio:.3f} (goal >= {GOAL}: {'met' if result['goal_met'] else 'NOT met'}); "
        f"failures: on {on['failures'] or 'none'}, off {off['failures'] or 'none'}; "
        f"listener still connected: {result['listener_alive']}, its CPU "
        f"{result['listener_cpu_s']} s over {ROUNDS * 2 * args.seconds:.0f} s of rounds"
    )
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
