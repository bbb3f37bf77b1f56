from sandbox.protocol import reasons
from sandbox.scenario_runner import CHEATS, Context, scenario


@scenario(
    "insufficient-funds",
    "A payer holding one atomic unit less USDC than the price is refused; its balance stays.",
    needs=(CHEATS,),
)
async def insufficient_funds(ctx: Context) -> str:
    path = ctx.paid_path
    _reply, offer = await ctx.challenge(path)
    holds = offer.atomic_amount - 1
    payer = await ctx.new_payer(usdc=holds / 1_000_000)
    payment = await ctx.payment(path, payer)
    before = await ctx.snapshot(payer=payer.pubkey(), merchant=payment.requirements.pay_to)
    ctx.expect(before.usdc["payer"] == holds, f"payer funded {before.usdc['payer']}, not {holds}")
    reply = await ctx.request(path, payment.headers)
    ctx.expect_refusal(reply, (reasons.INSUFFICIENT_FUNDS, reasons.TRANSACTION_SIMULATION_FAILED))
    after = await ctx.snapshot(payer=payer.pubkey(), merchant=payment.requirements.pay_to)
    ctx.expect_usdc_change(before, after, payer=0, merchant=0)
    return f"holding {holds} of {offer.atomic_amount}: refused with {reply.error}"
