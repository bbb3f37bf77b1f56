"""The pending record across restarts, and chain errors during the receipt check, in process.

A "restart" is a second Paywall on the same payment record file (payment_record.py) and memo
secret; the first one is abandoned, never closed, as a kill -9 leaves it. The facilitator is the
in-process ScriptedFacilitator; the chain behind the receipt check is a JSON-RPC stand-in that
fails its first N getSignatureStatuses calls.
"""

from __future__ import annotations

import asyncio

import httpx
from aiohttp import web
from server_payments import pay_v2
from server_scripted_facilitator import ScriptedFacilitator, payment
from server_tiny_app import PAY_TO, tiny_app

from sandbox.protocol import decode_settle_response, reasons
from sandbox.server import FacilitatorTimeout, Paywall
from sandbox.server.onchain import ChainReceiptCheck
from sandbox.server.payment_record import PaymentRecordFile
from sandbox.server.pending import PendingPayment, PendingSettlements
from sandbox.server.settlement import Receipt, Refusal, Settlement

SECRET = b"memo-secret-kept-across-restarts"


class FlakyChain:
    """getSignatureStatuses: a JSON-RPC error for the first `errors` calls, then confirmed."""

    def __init__(self, errors: int) -> None:
        self.errors = errors
        self.calls = 0
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> FlakyChain:
        app = web.Application()
        app.router.add_post("/", self._rpc)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *_exc) -> None:
        await self._runner.cleanup()

    async def _rpc(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls += 1
        if self.calls <= self.errors:
            error = {"code": -32603, "message": "injected fault: RPC error"}
            return web.json_response({"jsonrpc": "2.0", "id": body["id"], "error": error})
        status = {"slot": 1, "confirmations": None, "err": None, "confirmationStatus": "confirmed"}
        result = {"context": {"slot": 1}, "value": [status]}
        return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": result})


async def _ready(facilitator, record, **options) -> tuple[Paywall, httpx.AsyncClient, dict]:
    paywall = Paywall(
        pay_to=PAY_TO,
        facilitator=facilitator,
        memo_secret=SECRET,
        payment_record=record,
        **options,
    )
    app, runs = tiny_app(paywall)
    assert await paywall.wait_ready(5)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return paywall, httpx.AsyncClient(transport=transport, base_url="http://t"), runs


async def test_a_restart_while_the_facilitator_settles_serves_the_resend_once(
    tmp_path, payer
) -> None:
    record = tmp_path / "payments.sqlite3"
    # The settlement goes through while the server dies; the facilitator's ledger then answers
    # duplicate_settlement with the fee payer's signature of this payment.
    facilitator = ScriptedFacilitator("hang", "duplicate", "duplicate")
    crashed, client, _ = await _ready(facilitator, record)
    headers = pay_v2(await client.get("/up"), payer)
    request = asyncio.create_task(client.get("/up", headers=headers))
    await asyncio.wait_for(facilitator.settling.wait(), 10)
    request.cancel()  # the process is gone, its memory with it; nothing is closed

    restarted, client, runs = await _ready(facilitator, record)
    try:
        served = await client.get("/up", headers=headers)
        assert served.status_code == 200, served.text
        receipt = decode_settle_response(served.headers["PAYMENT-RESPONSE"], "PAYMENT-RESPONSE")
        assert receipt.success and receipt.transaction
        again = await client.get("/up", headers=headers)
        assert again.status_code == 402 and again.json()["error"] == "duplicate_settlement"
        assert runs["up"] == 1
    finally:
        await client.aclose()
        await restarted.close()
        crashed.pending.close()


async def test_a_payment_served_before_a_restart_is_not_served_after_it(tmp_path, payer) -> None:
    """Served on a resend that resolved its timed-out settlement; after a restart the same
    payment is not resumed a second time."""
    record = tmp_path / "payments.sqlite3"
    facilitator = ScriptedFacilitator(FacilitatorTimeout("slow"), "duplicate", "duplicate")
    first, client, runs = await _ready(facilitator, record)
    headers = pay_v2(await client.get("/up"), payer)
    assert (await client.get("/up", headers=headers)).status_code == 504
    assert (await client.get("/up", headers=headers)).status_code == 200
    assert runs["up"] == 1
    await client.aclose()  # and no close of `first`: killed

    restarted, client, runs = await _ready(facilitator, record)
    try:
        again = await client.get("/up", headers=headers)
        assert again.status_code == 402 and again.json()["error"] == "duplicate_settlement"
        assert runs["up"] == 0  # not served by the restarted process
    finally:
        await client.aclose()
        await restarted.close()
        first.pending.close()


async def test_a_twin_left_pending_after_its_payment_was_served_stays_served(tmp_path) -> None:
    record = tmp_path / "payments.sqlite3"
    pending = PendingSettlements(record=PaymentRecordFile(record))
    await pending.put("payment", PendingPayment(receipt=None))
    assert pending.take("payment") is not None
    await pending.mark_served("payment")
    await pending.put("payment", PendingPayment(receipt=None))  # its twin's /settle failed
    pending.close()

    reopened = PendingSettlements(record=PaymentRecordFile(record))
    assert reopened.was_served("payment") and "payment" not in reopened
    reopened.close()


async def test_a_refused_settlement_leaves_nothing_to_resume_after_a_restart(tmp_path) -> None:
    record = tmp_path / "payments.sqlite3"
    facilitator = ScriptedFacilitator("lie")
    settlement = Settlement(
        facilitator, network="n", pending=PendingSettlements(record=PaymentRecordFile(record))
    )
    request, tx = payment(facilitator)
    refused = await settlement.settle(request, tx)
    assert isinstance(refused, Refusal) and refused.failure is not None
    await settlement.close()
    reopened = PendingSettlements(record=PaymentRecordFile(record))
    assert tx.key not in reopened and not reopened.was_served(tx.key)
    reopened.close()


async def test_one_chain_error_during_the_receipt_check_does_not_refuse_the_payment(
    payer,
) -> None:
    async with FlakyChain(errors=1) as chain:
        paywall, client, runs = await _ready(ScriptedFacilitator(), None, rpc_url=chain.url)
        try:
            response = await client.get("/up", headers=pay_v2(await client.get("/up"), payer))
        finally:
            await client.aclose()
            await paywall.close()
    assert response.status_code == 200, response.text
    assert runs["up"] == 1 and chain.calls == 2


async def test_a_chain_that_cannot_show_the_receipt_keeps_the_payment_pending(tmp_path) -> None:
    """Every attempt of the check meets an RPC error: a 402 settlement_pending, kept (in the
    record file too); the resend, the chain answering again, is served once."""
    record = tmp_path / "payments.sqlite3"
    facilitator = ScriptedFacilitator("ok", "duplicate", "duplicate")
    async with FlakyChain(errors=2) as chain:
        settlement = Settlement(
            facilitator,
            network="n",
            chain_check=ChainReceiptCheck(chain.url, attempts=2),
            pending=PendingSettlements(record=PaymentRecordFile(record)),
        )
        request, tx = payment(facilitator)
        refused = await settlement.settle(request, tx)
        assert isinstance(refused, Refusal) and refused.failure is None, refused
        assert refused.reason == reasons.SETTLEMENT_PENDING
        assert refused.receipt is not None and tx.signed_by_fee_payer(refused.receipt.transaction)
        assert "send the same payment again" in refused.message
        assert tx.key in settlement.pending
        on_disk = PendingSettlements(record=PaymentRecordFile(record))
        assert tx.key in on_disk
        on_disk.close()

        served = await settlement.resume(request, tx, settlement.unfinished(tx.key))
        assert isinstance(served, Receipt) and served.settled.success
        assert settlement.pending.was_served(tx.key)
        again = await settlement.resume(request, tx, PendingPayment(receipt=None))
        assert isinstance(again, Refusal) and again.reason == reasons.DUPLICATE_SETTLEMENT
        await settlement.close()
