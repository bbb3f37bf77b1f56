import asyncio

from sandbox.scenario_runner import Context, scenario
from scenarios._common import fee_payer_of


@scenario(
    "parallel-race",
    "One payment raced 20 times in parallel is served once and charged once, fee included.",
)
async def parallel_race(ctx: Context) -> str:
    path = ctx.paid_path
    payer = await ctx.new_payer()
    payment = await ctx.payment(path, payer)
    price, merchant = payment.requirements.atomic_amount, payment.requirements.pay_to
    fee_payer = await fee_payer_of(ctx, payment)
    before = await ctx.snapshot(payer=payer.pubkey(), merchant=merchant, fee_payer=fee_payer)
    replies = await asyncio.gather(*(ctx.request(path, payment.headers) for _ in range(20)))
    statuses = sorted(r.status for r in replies)
    served = statuses.count(200)
    ctx.expect(served == 1, f"{served} of 20 racing requests were served: {statuses}")
    ctx.expect(all(s < 500 for s in statuses), f"a racing request got a 5xx: {statuses}")
    after = await ctx.snapshot(payer=payer.pubkey(), merchant=merchant, fee_payer=fee_payer)
    ctx.expect_usdc_change(before, after, payer=-price, merchant=price)
    ctx.expect_fee_paid(before, after, payment.transaction)
    return f"1 served, 19 refused ({sorted(set(statuses))}), charged once"
