from sandbox.scenario_runner import FACILITATOR_FAULTS, Context, scenario


@scenario(
    "facilitator-lying",
    "A facilitator that says 'settled' without sending anything does not get content served.",
    needs=(FACILITATOR_FAULTS,),
)
async def facilitator_lying(ctx: Context) -> str:
    path = ctx.paid_path
    payer = await ctx.new_payer()
    payment = await ctx.payment(path, payer)
    merchant = payment.requirements.pay_to
    before = await ctx.snapshot(payer=payer.pubkey(), merchant=merchant)
    async with ctx.facilitator_faults({"endpoint": "settle", "kind": "fake_success"}):
        reply = await ctx.request(path, payment.headers)
    ctx.expect(reply.status != 200, f"content served on a fake settlement: {reply.describe()}")
    after = await ctx.snapshot(payer=payer.pubkey(), merchant=merchant)
    ctx.expect_usdc_change(before, after, payer=0, merchant=0)
    return f"not served ({reply.status}: {reply.error})"
