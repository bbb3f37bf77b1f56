from sandbox.scenario_runner import Context, scenario
from scenarios._common import fee_payer_of


@scenario(
    "replay-settled-payment",
    "The same payment header sent twice buys the content once: the replay is refused, and "
    "neither payer nor fee payer pays twice.",
)
async def replay_settled_payment(ctx: Context) -> str:
    path = ctx.paid_path
    payer = await ctx.new_payer()
    payment = await ctx.payment(path, payer)
    price, merchant = payment.requirements.atomic_amount, payment.requirements.pay_to
    fee_payer = await fee_payer_of(ctx, payment)
    before = await ctx.snapshot(payer=payer.pubkey(), merchant=merchant, fee_payer=fee_payer)
    first = await ctx.request(path, payment.headers)
    ctx.expect_status(first, 200)
    replay = await ctx.request(path, payment.headers)
    ctx.expect(replay.status != 200, f"the replay was served: {replay.describe()}")
    ctx.expect_status(replay, 402)
    after = await ctx.snapshot(payer=payer.pubkey(), merchant=merchant, fee_payer=fee_payer)
    ctx.expect_usdc_change(before, after, payer=-price, merchant=price)
    ctx.expect_fee_paid(before, after, payment.transaction)
    return f"first served, replay refused with {replay.error}"
