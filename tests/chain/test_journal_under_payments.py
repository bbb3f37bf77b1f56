"""A kill -9 of the chain under a stream of settlements: after its restart the chain, the
merchant's balance and the facilitator's ledger agree; nothing answered "settled" is lost."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time

import httpx
import orjson
from solders.hash import Hash
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from sandbox.chain.testing import start_chain
from sandbox.facilitator.testing import devnet_usdc_offer, start_facilitator
from sandbox.payer import MintInfo, build_payment
from sandbox.processes import free_port_pair
from sandbox.protocol import associated_token_address
from sandbox.protocol.networks import USDC_DEVNET_MINT

AMOUNT = 1_000
WORKERS = 4
USDC = Pubkey.from_string(USDC_DEVNET_MINT)


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


class Stream:
    """WORKERS threads settling payments until stopped; keeps every answer saying success."""

    def __init__(self, rpc_url: str, facilitator_url: str, payers, requirements) -> None:
        self.rpc_url, self.facilitator_url = rpc_url, facilitator_url
        self.payers, self.requirements = payers, requirements
        self.settled: list[str] = []
        self.unsettled: list[bytes] = []  # bodies without a success answer, for the resend
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(p,)) for p in payers]

    def _blockhash(self, http: httpx.Client) -> Hash:
        body = {"jsonrpc": "2.0", "id": 1, "method": "getLatestBlockhash", "params": []}
        answer = http.post(self.rpc_url, json=body).json()
        return Hash.from_string(answer["result"]["value"]["blockhash"])

    def _run(self, payer: Keypair) -> None:
        mint = MintInfo(USDC, 6)
        with httpx.Client(timeout=30) as http:
            while not self.stop.is_set():
                try:
                    payment = build_payment(self.requirements, payer, mint, self._blockhash(http))
                except (httpx.HTTPError, KeyError, ValueError):
                    time.sleep(0.05)  # the chain is down: try again until it is back
                    continue
                body = orjson.dumps(payment.facilitator_body())
                answer = settle(http, self.facilitator_url, body)
                if answer and answer.get("success"):
                    self.settled.append(answer["transaction"])
                else:
                    self.unsettled.append(body)

    def __enter__(self) -> Stream:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)


def settle(http: httpx.Client, url: str, body: bytes) -> dict | None:
    try:
        response = http.post(
            f"{url}/settle", content=body, headers={"Content-Type": "application/json"}
        )
        return response.json()
    except (httpx.HTTPError, ValueError):
        return None


def resend_until_final(url: str, bodies: list[bytes], timeout: float) -> list[str]:
    """What a client does with a payment left pending: send it again until it is settled or
    refused for good. Returns the signatures that settled on a resend."""
    settled, open_bodies = [], list(bodies)
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=30) as http:
        while open_bodies:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(open_bodies)} payments still pending")
            still_open = []
            for body in open_bodies:
                answer = settle(http, url, body)
                if answer is None or answer.get("errorReason") == "settlement_pending":
                    still_open.append(body)
                elif answer.get("success"):
                    settled.append(answer["transaction"])
            open_bodies = still_open
            if open_bodies:
                time.sleep(0.2)
    return settled


def _ledger_rows(path) -> dict[str, str]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return dict(db.execute("SELECT signature, state FROM settlements"))


def test_chain_kill_9_under_settlements_loses_nothing_settled(tmp_path):
    state = tmp_path / "chain" / "state.json"
    port = free_port_pair()
    fee_payer, merchant = Keypair(), Keypair().pubkey()
    payers = [Keypair() for _ in range(WORKERS)]
    requirements = devnet_usdc_offer(merchant, fee_payer, AMOUNT)
    merchant_ata = str(associated_token_address(merchant, USDC))
    chain_flags = {"port": port, "ws_port": port + 1, "slot_ms": 400, "state": state}
    with start_chain(**chain_flags) as chain:
        chain.rpc("requestAirdrop", str(fee_payer.pubkey()), 100 * 10**9)
        for payer in payers:
            chain.rpc("requestAirdrop", str(payer.pubkey()), 10**9)
            chain.rpc("sandbox_mintTo", str(payer.pubkey()), 10**9)
        chain.rpc("sandbox_mintTo", str(merchant), 0)
        with (
            start_facilitator(chain.rpc_url, [fee_payer], ws_url=chain.ws_url) as facilitator,
            Stream(chain.rpc_url, facilitator.url, payers, requirements) as stream,
        ):
            _wait(lambda: len(stream.settled) >= 12, 120, "12 settlements")
            os.kill(chain.pid, signal.SIGKILL)
            chain.process.popen.wait(timeout=30)
            before_crash = len(stream.settled)
            with start_chain(**chain_flags) as again:
                _wait(lambda: len(stream.settled) >= before_crash + 8, 120, "8 more")
                stream.stop.set()
                for thread in stream.threads:
                    thread.join(timeout=60)
                resent = resend_until_final(facilitator.url, stream.unsettled, 90)
                ledger = facilitator.ledger
                _wait(
                    lambda: not {"sending", "pending"} & set(_ledger_rows(ledger).values()),
                    90,
                    "the facilitator to resolve every pending settlement",
                )
                rows = _ledger_rows(ledger)
                settled = [sig for sig, row_state in rows.items() if row_state == "settled"]
                statuses = again.rpc(
                    "getSignatureStatuses", settled, {"searchTransactionHistory": True}
                )["value"]
                balance = again.rpc(
                    "getTokenAccountBalance", merchant_ata, {"commitment": "confirmed"}
                )["value"]["amount"]
    # every payment answered "settled" is in the ledger as settled and on chain without error
    assert set(stream.settled) | set(resent) <= set(settled)
    lost = [sig for sig, status in zip(settled, statuses, strict=True) if status is None]
    assert not lost, f"{len(lost)} of {len(settled)} settled payments are gone from the chain"
    assert all(status["err"] is None for status in statuses)
    # and the merchant holds exactly what the ledger says was settled
    assert int(balance) == AMOUNT * len(settled)
