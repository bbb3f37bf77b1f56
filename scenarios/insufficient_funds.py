from sandbox.protocol import reasons
from sandbox.scenario_runner import CHEATS, Context, scenario


@scenario(
    "insufficient-funds",
    "A payer holding less USDC than the price is refused; its balance stays as it was.",
    needs=(CHEATS,),
)
async def insufficient_funds(ctx: Context) -> str:
    path = "/api/premium-content"
    payer = await ctx.new_payer(usdc=0.001)
    payment = await ctx.payment(path, payer)
    before = await ctx.snapshot(payer=payer.pubkey(), merchant=payment.requirements.pay_to)
    reply = await ctx.request(path, payment.headers)
    ctx.expect_refusal(reply, (reasons.INSUFFICIENT_FUNDS, reasons.TRANSACTION_SIMULATION_FAILED))
    after = await ctx.snapshot(payer=payer.pubkey(), merchant=payment.requirements.pay_to)
    ctx.expect_usdc_change(before, after, payer=0, merchant=0)
    ctx.expect(after.usdc["payer"] == 1000, f"payer holds {after.usdc['payer']}, not 1000")
    return f"refused with {reply.error}"
