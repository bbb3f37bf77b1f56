from sandbox.protocol import reasons
from sandbox.scenario_runner import CHEATS, Context, scenario


@scenario(
    "expired-blockhash",
    "A payment signed, then held until its blockhash expired, is refused and nothing moves.",
    needs=(CHEATS,),
)
async def expired_blockhash(ctx: Context) -> str:
    path = ctx.paid_path
    payer = await ctx.new_payer()
    payment = await ctx.payment(path, payer)
    merchant = payment.requirements.pay_to
    await ctx.rpc.call("sandbox_expireBlockhashes", [])
    ctx.facts.forget_blockhash()
    before = await ctx.snapshot(payer=payer.pubkey(), merchant=merchant)
    reply = await ctx.request(path, payment.headers)
    ctx.expect_refusal(reply, (reasons.TRANSACTION_SIMULATION_FAILED, "blockhash", "Blockhash"))
    after = await ctx.snapshot(payer=payer.pubkey(), merchant=merchant)
    ctx.expect_usdc_change(before, after, payer=0, merchant=0)
    return f"refused with {reply.error}"
