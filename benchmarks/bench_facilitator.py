"""Facilitator benchmark: /verify throughput and /settle latency, against the chain's own figures.

1. Verify (`--slot-ms 0` chain): unique pre-signed payments (sandbox.payer) POSTed to /verify by
   64 concurrent aiohttp connections; the chain's simulation count (sandbox_getInfo stats) must
   grow by exactly the number of verifications (no simulation skipped or cached). Reference in
   the same run: the same payments simulated straight on the chain (simulateTransaction, 64
   connections). Goal: >= 1,000 verifications/s, everything on the same 2 cores.
2. Settle latency at `--slot-ms 400`: p50/p99 of /settle (verify again, ledger, co-sign, send,
   wait for `confirmed`), interleaved with the chain's own send-to-confirmed time for the same
   kind of transaction (fully signed, sendTransaction + signatureSubscribe). Goal: settle p50 <=
   1.1x the chain's p50.
3. The same at `--slot-ms 0`.
4. Verify throughput by layout policy, same run: a positional facilitator and a role-based one
   (`--layout role-based --allow-create-ata`) on one chain, the same kind of payments POSTed to
   each in alternating rounds (order swapped every round); and `check_payment` alone, in
   process, under each policy. Goal: role-based within 10% of positional.

Run: `make bench ARGS=facilitator` or `.venv/bin/python benchmarks/bench_facilitator.py`.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

import aiohttp
import orjson
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import to_bytes_versioned
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox.chain.testing import RunningChain, start_chain  # noqa: E402
from sandbox.facilitator.testing import devnet_usdc_offer, start_facilitator  # noqa: E402
from sandbox.payer import MintInfo, build_payment  # noqa: E402
from sandbox.protocol.networks import SOLANA_DEVNET, USDC_DEVNET_MINT  # noqa: E402

CONCURRENCY = 64
VERIFY_PAYMENTS = 8_000
SETTLE_SAMPLES = 40
SETTLE_WORKERS = 4
AMOUNT = 1_000
MINT = MintInfo(Pubkey.from_string(USDC_DEVNET_MINT), 6)


class Parties:
    """Payment i is paid by client i % len(clients). The facilitator settles payments of one
    source account one at a time (its fee-payer drain guard), so the settle benchmark gives
    each of its workers a wallet of its own, as separate buyers would be."""

    def __init__(self, chain: RunningChain, clients: int = 1) -> None:
        self.fee_payer = Keypair()
        self.clients = [Keypair() for _ in range(clients)]
        self.pay_to = Keypair().pubkey()
        chain.rpc("requestAirdrop", str(self.fee_payer.pubkey()), 100_000_000_000)
        for client in self.clients:
            chain.rpc("requestAirdrop", str(client.pubkey()), 1_000_000_000)
            chain.rpc("sandbox_mintTo", str(client.pubkey()), 1_000_000_000_000)
        chain.rpc("sandbox_mintTo", str(self.pay_to), 0)
        self.requirements = devnet_usdc_offer(self.pay_to, self.fee_payer, AMOUNT)

    def bodies(self, chain: RunningChain, count: int) -> list[bytes]:
        blockhash = latest_blockhash(chain)
        clients = self.clients
        return [
            orjson.dumps(
                build_payment(
                    self.requirements, clients[i % len(clients)], MINT, blockhash
                ).facilitator_body()
            )
            for i in range(count)
        ]

    def fully_signed(self, chain: RunningChain, count: int) -> list[tuple[str, str]]:
        """(base64 wire, signature): the same transfers, co-signed as a facilitator would."""
        import base64

        blockhash = latest_blockhash(chain)
        out = []
        for i in range(count):
            client = self.clients[i % len(self.clients)]
            tx = build_payment(self.requirements, client, MINT, blockhash).transaction
            signatures = list(tx.signatures)
            signatures[0] = self.fee_payer.sign_message(to_bytes_versioned(tx.message))
            signed = VersionedTransaction.populate(tx.message, signatures)
            out.append((base64.b64encode(bytes(signed)).decode(), str(signatures[0])))
        return out


def latest_blockhash(chain: RunningChain) -> Hash:
    answer = chain.rpc("getLatestBlockhash", {"commitment": "confirmed"})
    return Hash.from_string(answer["value"]["blockhash"])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# ---------------------------------------------------------------- verify throughput


async def _fire(url: str, bodies: list[bytes], concurrency: int, check) -> float:
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        queue = iter(bodies)

        async def worker() -> None:
            for body in queue:
                async with session.post(
                    url, data=body, headers={"Content-Type": "application/json"}
                ) as response:
                    check(response.status, await response.read())

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started


def _expect_valid(status: int, raw: bytes) -> None:
    answer = orjson.loads(raw)
    if status != 200 or answer.get("isValid") is not True:
        raise RuntimeError(f"verify failed: HTTP {status} {answer}")


def _expect_simulated(status: int, raw: bytes) -> None:
    answer = orjson.loads(raw)
    if status != 200 or answer["result"]["value"]["err"] is not None:
        raise RuntimeError(f"simulate failed: {answer}")


def bench_verify() -> dict:
    with start_chain(slot_ms=0) as chain:
        parties = Parties(chain)
        started = time.perf_counter()
        bodies = parties.bodies(chain, VERIFY_PAYMENTS + 500)
        signing = time.perf_counter() - started
        warmup, bodies = bodies[:500], bodies[500:]
        with start_facilitator(chain.rpc_url, [parties.fee_payer], ws_url=chain.ws_url) as fac:
            asyncio.run(_fire(f"{fac.url}/verify", warmup, CONCURRENCY, _expect_valid))
            before = chain.rpc("sandbox_getInfo")["stats"]["simulations"]
            elapsed = asyncio.run(_fire(f"{fac.url}/verify", bodies, CONCURRENCY, _expect_valid))
            simulated = chain.rpc("sandbox_getInfo")["stats"]["simulations"] - before
        # Reference: the chain simulating the same transactions, called directly.
        rpc_bodies = [
            orjson.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": i,
                    "method": "simulateTransaction",
                    "params": [
                        orjson.loads(body)["paymentPayload"]["payload"]["transaction"],
                        {"encoding": "base64", "sigVerify": False},
                    ],
                }
            )
            for i, body in enumerate(bodies)
        ]
        direct = asyncio.run(_fire(chain.rpc_url, rpc_bodies, CONCURRENCY, _expect_simulated))
    rate = len(bodies) / elapsed
    direct_rate = len(rpc_bodies) / direct
    print(
        f"   verify: {rate:,.0f} verifications/s at {CONCURRENCY} connections "
        f"({len(bodies):,} unique payments signed at {len(bodies) / signing:,.0f}/s); "
        f"chain simulations during the run: {simulated:,} (every verify simulated: "
        f"{simulated == len(bodies)})"
    )
    print(
        f"   reference: the chain's own simulateTransaction at {CONCURRENCY} connections: "
        f"{direct_rate:,.0f}/s -> facilitator at {rate / direct_rate:.0%} of it; "
        f"goal >= 1,000/s: {'met' if rate >= 1000 else 'NOT met'}"
    )
    return {
        "verifications_per_s": round(rate, 1),
        "payments": len(bodies),
        "chain_simulations": simulated,
        "every_verify_simulated": simulated == len(bodies),
        "chain_simulate_per_s": round(direct_rate, 1),
        "ratio_to_chain_simulate": round(rate / direct_rate, 3),
        "goal_1000_per_s_met": rate >= 1000,
    }


# ---------------------------------------------------------------- verify by layout policy

LAYOUT_ROUNDS = 4
LAYOUT_BATCH = 1_500
ROLE_BASED = ["--layout", "role-based", "--allow-create-ata"]


def _static_rate(bodies: list[bytes], policy) -> float:
    """check_payment alone (parse included), in process: payments checked per second."""
    from sandbox.protocol import parse_facilitator_request
    from sandbox.protocol.exact_svm.facilitator import CheckedPayment, check_payment

    requests = [parse_facilitator_request(body) for body in bodies]
    started = time.perf_counter()
    for request in requests:
        if not isinstance(check_payment(request, policy), CheckedPayment):
            raise RuntimeError("check_payment refused a benchmark payment")
    return len(requests) / (time.perf_counter() - started)


def bench_layouts() -> dict:
    from sandbox.protocol.exact_svm.facilitator import VerifyPolicy

    with start_chain(slot_ms=0) as chain:
        parties = Parties(chain)
        count = 2 * LAYOUT_ROUNDS * LAYOUT_BATCH
        bodies = parties.bodies(chain, count + 2 * 300)
        with (
            start_facilitator(chain.rpc_url, [parties.fee_payer], ws_url=chain.ws_url) as pos,
            start_facilitator(
                chain.rpc_url, [parties.fee_payer], ROLE_BASED, ws_url=chain.ws_url
            ) as role,
        ):
            urls = {"positional": f"{pos.url}/verify", "role-based": f"{role.url}/verify"}
            for index, url in enumerate(urls.values()):  # warm-up
                warm = bodies[count + 300 * index : count + 300 * (index + 1)]
                asyncio.run(_fire(url, warm, CONCURRENCY, _expect_valid))
            elapsed = dict.fromkeys(urls, 0.0)
            for round_ in range(LAYOUT_ROUNDS):
                order = list(urls) if round_ % 2 == 0 else list(reversed(urls))
                for slot, name in enumerate(order):
                    start = (2 * round_ + slot) * LAYOUT_BATCH
                    batch = bodies[start : start + LAYOUT_BATCH]
                    elapsed[name] += asyncio.run(
                        _fire(urls[name], batch, CONCURRENCY, _expect_valid)
                    )
    rates = {name: LAYOUT_ROUNDS * LAYOUT_BATCH / seconds for name, seconds in elapsed.items()}
    ratio = rates["role-based"] / rates["positional"]
    keys = frozenset([parties.fee_payer.pubkey()])
    sample = bodies[:4_000]
    static = {
        "positional": _static_rate(sample, VerifyPolicy(fee_payers=keys, network=SOLANA_DEVNET)),
        "role-based": _static_rate(
            sample,
            VerifyPolicy(
                fee_payers=keys, network=SOLANA_DEVNET, layout="role-based", allow_create_ata=True
            ),
        ),
    }
    static_ratio = static["role-based"] / static["positional"]
    print(
        f"   verify by layout, same run ({LAYOUT_ROUNDS} alternating rounds of {LAYOUT_BATCH:,}): "
        f"positional {rates['positional']:,.0f}/s, role-based {rates['role-based']:,.0f}/s -> "
        f"{ratio:.3f}x; goal within 10%: {'met' if ratio >= 0.9 else 'NOT met'}"
    )
    print(
        f"   check_payment alone: positional {static['positional']:,.0f}/s, role-based "
        f"{static['role-based']:,.0f}/s -> {static_ratio:.3f}x"
    )
    return {
        "positional_per_s": round(rates["positional"], 1),
        "role_based_per_s": round(rates["role-based"], 1),
        "role_based_over_positional": round(ratio, 3),
        "goal_within_10_percent_met": ratio >= 0.9,
        "check_payment_positional_per_s": round(static["positional"], 1),
        "check_payment_role_based_per_s": round(static["role-based"], 1),
        "check_payment_role_based_over_positional": round(static_ratio, 3),
    }


# ---------------------------------------------------------------- settle latency


async def _chain_own(session: aiohttp.ClientSession, rpc_url: str, ws, wire: str, sig: str):
    """Send a fully signed transfer and wait for `confirmed` the way a wallet would."""
    await ws.send_str(
        orjson.dumps(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "signatureSubscribe",
                "params": [sig, {"commitment": "confirmed"}],
            }
        ).decode()
    )
    await ws.receive()  # the subscription id
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "sendTransaction",
        "params": [wire, {"encoding": "base64", "skipPreflight": True}],
    }
    started = time.perf_counter()
    async with session.post(rpc_url, data=orjson.dumps(body)) as response:
        answer = orjson.loads(await response.read())
        if "error" in answer:
            raise RuntimeError(f"send failed: {answer}")
    while True:
        message = orjson.loads((await ws.receive()).data)
        if message.get("method") == "signatureNotification":
            if message["params"]["result"]["value"].get("err") is not None:
                raise RuntimeError(f"transfer failed: {message}")
            return time.perf_counter() - started


async def _settle_run(fac_url: str, chain: RunningChain, bodies, own) -> tuple[list, list]:
    settles, chains = [], []
    async with aiohttp.ClientSession() as session:

        async def worker(index: int) -> None:
            async with session.ws_connect(chain.ws_url) as ws:
                for i in range(index, len(bodies), SETTLE_WORKERS):
                    started = time.perf_counter()
                    async with session.post(
                        f"{fac_url}/settle",
                        data=bodies[i],
                        headers={"Content-Type": "application/json"},
                    ) as response:
                        answer = orjson.loads(await response.read())
                    if answer.get("success") is not True:
                        raise RuntimeError(f"settle failed: {answer}")
                    settles.append(time.perf_counter() - started)
                    chains.append(await _chain_own(session, chain.rpc_url, ws, *own[i]))

        await asyncio.gather(*(worker(i) for i in range(SETTLE_WORKERS)))
    return settles, chains


def bench_settle(slot_ms: int) -> dict:
    with start_chain(slot_ms=slot_ms) as chain:
        parties = Parties(chain, clients=SETTLE_WORKERS)
        bodies = parties.bodies(chain, SETTLE_SAMPLES + 4)
        own = parties.fully_signed(chain, SETTLE_SAMPLES + 4)
        with start_facilitator(chain.rpc_url, [parties.fee_payer], ws_url=chain.ws_url) as fac:
            asyncio.run(_settle_run(fac.url, chain, bodies[:4], own[:4]))  # warm up
            settles, chains = asyncio.run(_settle_run(fac.url, chain, bodies[4:], own[4:]))
    s50, s99 = percentile(settles, 0.5), percentile(settles, 0.99)
    c50, c99 = percentile(chains, 0.5), percentile(chains, 0.99)
    ratio = s50 / c50
    goal = f"; goal <= 1.1x: {'met' if ratio <= 1.1 else 'NOT met'}" if slot_ms else ""
    print(
        f"   settle at --slot-ms {slot_ms}: p50 {s50 * 1000:.1f} ms, p99 {s99 * 1000:.1f} ms, "
        f"mean {statistics.fmean(settles) * 1000:.1f} ms ({len(settles)} settlements)"
    )
    print(
        f"   chain's own send-to-confirmed: p50 {c50 * 1000:.1f} ms, p99 {c99 * 1000:.1f} ms "
        f"-> settle p50 = {ratio:.2f}x the chain's{goal}"
    )
    return {
        "slot_ms": slot_ms,
        "settle_p50_ms": round(s50 * 1000, 2),
        "settle_p99_ms": round(s99 * 1000, 2),
        "chain_confirm_p50_ms": round(c50 * 1000, 2),
        "chain_confirm_p99_ms": round(c99 * 1000, 2),
        "settle_p50_over_chain_p50": round(ratio, 3),
        "samples": len(settles),
    }


def main() -> dict:
    return {
        "verify": bench_verify(),
        "verify_by_layout": bench_layouts(),
        "settle_slot_400": bench_settle(400),
        "settle_slot_0": bench_settle(0),
    }


if __name__ == "__main__":
    print(orjson.dumps(main(), option=orjson.OPT_INDENT_2).decode())
