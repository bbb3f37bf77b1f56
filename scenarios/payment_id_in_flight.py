import asyncio

from sandbox.scenario_runner import FACILITATOR_FAULTS, Context, scenario
from scenarios._common import expect_the_first_answer, identified_payment

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
    paid = await identified_payment(ctx)
    path, payment = paid.path, paid.payment
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
    await expect_the_first_answer(ctx, paid, answer, resend, "resend")
    return "the resend during settlement got the first answer; one transaction, charged once"
