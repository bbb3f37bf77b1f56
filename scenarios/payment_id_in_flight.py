import asyncio

from sandbox.protocol.payment_identifier import EXTENSION, new_payment_id
from sandbox.scenario_runner import FACILITATOR_FAULTS, Context, Skip, scenario
from scenarios._common import route_with_ids

DELAY_MS = 3000  # the first request's settlement is held this long: the resend lands in it
_INJECTED = 'facilitator_faults_injected_total{endpoint="settle",kind="latency"}'


async def _settles_delayed(ctx: Context) -> float:
    """How many settle requests the latency fault has held so far (facilitator /metrics)."""
    async with ctx.http.get(f"{ctx.facilitator_url}/metrics") as response:
        text = await response.text()
    for line in text.splitlines():
        if line.startswith(_INJECTED):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@scenario(
    "payment-id-in-flight",
    "A resend with the same payment identifier while the first request is still settling waits "
    "for it and gets its answer: both served, one transaction, charged once.",
    needs=(FACILITATOR_FAULTS,),
)
async def payment_id_in_flight(ctx: Context) -> str:
    path = route_with_ids(ctx)
    await ctx.challenge(path)
    if ctx.declared(EXTENSION) is None:
        raise Skip(f"{path}'s 402 does not declare the {EXTENSION} extension")
    payer = await ctx.new_payer()
    payment = await ctx.payment(path, payer, payment_id=new_payment_id())
    price, merchant = payment.requirements.atomic_amount, payment.requirements.pay_to
    before = await ctx.snapshot(payer=payer.pubkey(), merchant=merchant)
    async with ctx.facilitator_faults({"endpoint": "settle", "kind": "latency", "ms": DELAY_MS}):
        held = await _settles_delayed(ctx)
        first = asyncio.ensure_future(ctx.request(path, payment.headers))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while await _settles_delayed(ctx) == held:  # the first one is in its settlement now
            if first.done():
                ctx.expect(False, f"the first request ended unsettled: {first.result().describe()}")
            ctx.expect(loop.time() < deadline, "the first request never reached /settle")
            await asyncio.sleep(0.05)
        resend = await ctx.request(path, payment.headers)
        answer = await first
    ctx.expect_status(answer, 200)
    ctx.expect_status(resend, 200)
    ctx.expect(resend.body == answer.body, "the resend got another body than the first request")
    ctx.expect(
        resend.receipt is not None and resend.receipt.transaction == answer.receipt.transaction,
        f"the resend's receipt names another transaction: {resend.receipt}",
    )
    after = await ctx.snapshot(payer=payer.pubkey(), merchant=merchant)
    ctx.expect_usdc_change(before, after, payer=-price, merchant=price)
    return "the resend during settlement got the first answer; one transaction, charged once"
