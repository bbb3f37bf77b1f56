"""Steps several stories share: a correct paid request, a refused one, a second server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from solders.keypair import Keypair

from sandbox.payer import Payment
from sandbox.processes import ManagedProcess, free_port
from sandbox.protocol.payment_identifier import EXTENSION as PAYMENT_ID
from sandbox.protocol.payment_identifier import new_payment_id
from sandbox.scenario_runner import SERVER_ROUTES, Balances, Context, Reply, Skip

SVM = "invalid_exact_svm_payload"
ORDER = "/api/order"  # the sample server's route whose handler makes a new order number each run


def route_with_ids(ctx: Context) -> str:
    """The route a payment-identifier story pays: on the sample server /api/order, whose body
    differs each time its handler runs (a resend answered without the kept answer shows it);
    on any other server the paid path (`--path`)."""
    return ORDER if SERVER_ROUTES in ctx.capabilities else ctx.paid_path


@dataclass
class IdentifiedPayment:
    """A payment with a fresh payment identifier, and the balances from before it was sent."""

    path: str
    payer: Keypair
    payment: Payment
    before: Balances


async def identified_payment(ctx: Context) -> IdentifiedPayment:
    """Pay route_with_ids(ctx) with a fresh id; Skip where its 402 declares no payment-id."""
    path = route_with_ids(ctx)
    await ctx.challenge(path)
    if ctx.declared(PAYMENT_ID) is None:
        raise Skip(f"{path}'s 402 does not declare the {PAYMENT_ID} extension")
    payer = await ctx.new_payer()
    payment = await ctx.payment(path, payer, payment_id=new_payment_id())
    before = await ctx.snapshot(payer=payer.pubkey(), merchant=payment.requirements.pay_to)
    return IdentifiedPayment(path, payer, payment, before)


async def expect_the_first_answer(
    ctx: Context, paid: IdentifiedPayment, first: Reply, again: Reply, what: str
) -> None:
    """`again` is `first` once more (body and transaction), and the payer paid once."""
    ctx.expect_status(first, 200)
    ctx.expect_status(again, 200)
    ctx.expect(again.body == first.body, f"the {what} got another body than the first answer")
    ctx.expect(
        again.receipt is not None and again.receipt.transaction == first.receipt.transaction,
        f"the {what}'s receipt names another transaction: {again.receipt}",
    )
    terms = paid.payment.requirements
    after = await ctx.snapshot(payer=paid.payer.pubkey(), merchant=terms.pay_to)
    price = terms.atomic_amount
    ctx.expect_usdc_change(paid.before, after, payer=-price, merchant=price)


async def fee_payer_of(ctx: Context, payment: Payment) -> str:
    """The fee payer this payment's transaction names (the route's extra.feePayer)."""
    return (payment.requirements.extra or {}).get("feePayer") or await ctx.fee_payer()


async def pay_and_check(ctx: Context, path: str, version: int, payer: Keypair | None = None) -> str:
    """Pay `path` correctly: 200, a successful receipt on chain, exactly the price moved, the
    payer's SOL untouched and the fee payer charged one transaction fee, no USDC."""
    payer = payer or await ctx.new_payer()
    payment = await ctx.payment(path, payer, version)
    price = payment.requirements.atomic_amount
    wallets = {
        "payer": payer.pubkey(),
        "merchant": payment.requirements.pay_to,
        "fee_payer": await fee_payer_of(ctx, payment),
    }
    before = await ctx.snapshot(**wallets)
    reply = await ctx.request(path, payment.headers)
    ctx.expect_status(reply, 200)
    receipt = reply.receipt
    ctx.expect(receipt is not None and receipt.success, f"no successful receipt: {receipt}")
    ctx.expect(receipt.payer == str(payer.pubkey()), f"receipt names payer {receipt.payer}")
    on_chain = await ctx.transaction_on_chain(receipt.transaction)
    ctx.expect(on_chain is not None, f"receipt's transaction {receipt.transaction} not on chain")
    ctx.expect(on_chain["meta"]["err"] is None, f"transaction failed on chain: {on_chain}")
    signer = on_chain["transaction"]["message"]["accountKeys"][0]
    ctx.expect(signer == wallets["fee_payer"], f"fee paid by {signer}, not {wallets['fee_payer']}")
    after = await ctx.snapshot(**wallets)
    ctx.expect_usdc_change(before, after, payer=-price, merchant=price)
    ctx.expect(after.sol["payer"] == before.sol["payer"], "the payer paid SOL: the fee is not its")
    ctx.expect_fee_paid(before, after, payment.transaction)
    fee = before.sol["fee_payer"] - after.sol["fee_payer"]
    return f"paid {price} atomic units (fee {fee} lamports), tx {receipt.transaction[:12]}..."


async def refused_without_payment(
    ctx: Context,
    path: str,
    mutation: str,
    reason: str | tuple[str, ...],
    version: int = 2,
    watch_fee_payer: bool = True,
    **knobs: Any,
) -> str:
    """A broken payment is refused naming `reason`, and no money moves (fee payer included)."""
    payer = await ctx.new_payer()
    payment = await ctx.payment(path, payer, version, mutation, **knobs)
    merchant = payment.requirements.pay_to
    wallets = {"payer": payer.pubkey(), "merchant": merchant}
    if watch_fee_payer:
        wallets["fee_payer"] = await fee_payer_of(ctx, payment)
    before = await ctx.snapshot(**wallets)
    reply = await ctx.request(path, payment.headers)
    ctx.expect_refusal(reply, reason)
    after = await ctx.snapshot(**wallets)
    ctx.expect_usdc_change(before, after, **dict.fromkeys(wallets, 0))
    ctx.expect(after.sol == before.sol, f"SOL moved: {before.sol} -> {after.sol}")
    return f"{payment.description or mutation}: refused with {reply.error}"


@contextlib.asynccontextmanager
async def second_server(ctx: Context, facilitator_url: str, *args: str) -> AsyncIterator[str]:
    """Another sample server on a free port, talking to `facilitator_url`: for stories about a
    facilitator that goes away or answers too slowly, without touching the main stack."""
    merchant = (await ctx.challenge(ctx.paid_path))[1].pay_to
    port = free_port()
    process = ManagedProcess(
        "second-server",
        "sandbox.server",
        ["--port", str(port), "--facilitator-url", facilitator_url, "--pay-to", merchant,
         "--rpc-url", ctx.rpc_url, *args],
        f"http://127.0.0.1:{port}/health",
        log_path=_log_path("second-server"),
    )  # fmt: skip
    await asyncio.to_thread(process.start().wait_healthy, 30)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await asyncio.to_thread(process.stop)


def _log_path(name: str):
    import tempfile
    from pathlib import Path

    return Path(tempfile.gettempdir()) / f"x402-scenario-{name}.log"


class TcpProxy:
    """Forwards a loopback port to the facilitator; `close()` makes the facilitator 'go down'."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        return self

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        task = asyncio.current_task()
        if task:
            self._tasks.add(task)
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except asyncio.CancelledError:
            pass  # close() cut the connection on purpose
        finally:
            if task:
                self._tasks.discard(task)

    async def close(self) -> None:
        if self._server:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


def split_host_port(url: str) -> tuple[str, int]:
    hostport = url.split("://", 1)[-1].split("/", 1)[0]
    host, _, port = hostport.rpartition(":")
    return host, int(port)
