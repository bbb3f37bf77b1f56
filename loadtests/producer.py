"""Pre-signed payments for the facilitator profiles, produced ahead of demand.

What a verify/settle run must measure is the facilitator, not our signing: each process keeps
a stock of signed request bodies (already JSON-encoded) and users only POST them. A greenlet
tops the stock up in small batches, yielding between them, and drops payments older than
`max_age` (a blockhash lives about a minute on chain). Settle payments are used once; verify
payments may be reused a few times (verification moves no money), which keeps the generator's
signing cost low. A user that finds the stock empty signs inline and the process counts it as
`starved`: a sign that the generator, not the target, is the limit.

Requirements match what the facilitator accepts: network and feePayer from its /supported,
asset = the chain's USDC mint, payTo = a merchant whose USDC account exists, no extra.memo
(the payer's random memo makes every payment unique).
"""

from __future__ import annotations

import collections
import time
from typing import Any

import gevent
import orjson
from locust.contrib.fasthttp import FastHttpSession

from loadtests.accounting import ACCOUNTING
from loadtests.chain_view import ChainView
from loadtests.targets import Targets
from loadtests.wallets import WalletPool
from sandbox.payer import MintInfo, build_payment
from sandbox.protocol import PaymentRequirements

__all__ = ["PaymentProducer", "ProducerError", "facilitator_requirements"]

BATCH = 25
MIN_STOCK = 200
MAX_AGE = 30.0


class ProducerError(RuntimeError):
    pass


def facilitator_requirements(
    supported: dict[str, Any], targets: Targets, max_timeout_seconds: int = 60
) -> PaymentRequirements:
    """v2 exact requirements this facilitator settles: its network and first fee payer."""
    for kind in supported.get("kinds") or []:
        if kind.get("x402Version") == 2 and kind.get("scheme") == "exact":
            fee_payer = (kind.get("extra") or {}).get("feePayer")
            if fee_payer:
                break
    else:
        raise ProducerError(f"the facilitator's /supported offers no v2 exact kind: {supported}")
    if not targets.pay_to:
        raise ProducerError(
            "no merchant to pay: set X402_LOADTEST_PAY_TO (a wallet with a USDC account)"
        )
    return PaymentRequirements(
        scheme="exact",
        network=kind["network"],
        amount=str(targets.amount),
        asset=targets.asset,
        pay_to=targets.pay_to,
        max_timeout_seconds=max_timeout_seconds,
        extra={"feePayer": fee_payer},
    )


class PaymentProducer:
    def __init__(
        self,
        environment: Any,
        targets: Targets,
        pool: WalletPool,
        chain: ChainView,
        reuse: int = 1,
        max_age: float = MAX_AGE,
    ) -> None:
        targets.require("facilitator_url", "rpc_url")
        self.targets = targets
        self.pool = pool
        self.chain = chain
        self.reuse = max(1, reuse)
        self.max_age = max_age
        self.session = FastHttpSession(
            targets.facilitator_url, environment.events.request, user=None
        )
        self.requirements: PaymentRequirements | None = None
        self.mint: MintInfo | None = None
        # (signed at, payer, body, uses left)
        self.stock: collections.deque[list[Any]] = collections.deque()
        self.taken_recently = 0
        self.demand = 0.0  # takes per second, smoothed
        self.starved = 0
        self._greenlet: gevent.Greenlet | None = None

    # ------------------------------------------------------------ lifecycle

    def start(self, initial: int = MIN_STOCK) -> None:
        if self._greenlet is not None:
            return
        with self.session.get("/supported", name="supported", catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"HTTP {answer.status_code}")
                raise ProducerError(f"GET /supported answered HTTP {answer.status_code}")
            supported = orjson.loads(answer.content or b"{}")
        self.requirements = facilitator_requirements(supported, self.targets)
        self.mint = self.chain.mint(self.session, self.requirements.asset)
        self._sign(initial)
        self._greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=False)
            self._greenlet = None

    # ------------------------------------------------------------ use

    def take(self) -> tuple[str, bytes]:
        """(payer, JSON body) for one POST /verify or /settle."""
        self.taken_recently += 1
        while self.stock:
            item = self.stock[0]
            if time.monotonic() - item[0] > self.max_age:
                self.stock.popleft()
                continue
            item[3] -= 1
            if item[3] <= 0:
                self.stock.popleft()
            else:
                self.stock.rotate(-1)
            return item[1], item[2]
        self.starved += 1
        ACCOUNTING.starved += 1
        _signed_at, payer, body = self._one()
        return payer, body

    # ------------------------------------------------------------ production

    def _one(self) -> tuple[float, str, bytes]:
        assert self.requirements is not None and self.mint is not None
        keypair = self.pool.next()
        blockhash = self.chain.blockhash(self.session)
        started = time.perf_counter()
        payment = build_payment(self.requirements, keypair, self.mint, blockhash)
        body = orjson.dumps(payment.facilitator_body())
        ACCOUNTING.record_signing(time.perf_counter() - started)
        return time.monotonic(), str(keypair.pubkey()), body

    def _sign(self, count: int) -> None:
        for _ in range(count):
            signed_at, payer, body = self._one()
            self.stock.append([signed_at, payer, body, self.reuse])

    def _run(self) -> None:
        last = time.monotonic()
        while True:
            now = time.monotonic()
            if now - last >= 1.0:
                rate = self.taken_recently / (now - last)
                self.demand = rate if not self.demand else 0.7 * self.demand + 0.3 * rate
                self.taken_recently, last = 0, now
            # Keep about two seconds of demand in stock, never less than MIN_STOCK.
            wanted = max(MIN_STOCK, int(2 * self.demand / self.reuse))
            while self.stock and now - self.stock[0][0] > self.max_age:
                self.stock.popleft()
            if len(self.stock) < wanted:
                try:
                    self._sign(BATCH)
                except Exception:  # the RPC failure is already a Locust entry; try again soon
                    gevent.sleep(0.5)
                gevent.sleep(0)
            else:
                gevent.sleep(0.02)
