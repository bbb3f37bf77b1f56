from sandbox.scenario_runner import CHEATS, Context, scenario


@scenario(
    "fee-payer-out-of-sol",
    "With the facilitator's fee payer out of SOL a payment is refused, not served, and the "
    "payer keeps its money.",
    needs=(CHEATS,),
)
async def fee_payer_out_of_sol(ctx: Context) -> str:
    path = ctx.paid_path
    fee_payer = await ctx.fee_payer()
    payer = await ctx.new_payer()
    payment = await ctx.payment(path, payer)
    lamports = await ctx.sol(fee_payer)
    system = "11111111111111111111111111111111"
    empty = {"lamports": 0, "data": "", "owner": system, "executable": False}
    before = await ctx.snapshot(payer=payer.pubkey(), merchant=payment.requirements.pay_to)
    await ctx.rpc.call("sandbox_setAccount", [fee_payer, empty])
    try:
        reply = await ctx.request(path, payment.headers)
    finally:
        await ctx.rpc.call("sandbox_setAccount", [fee_payer, {**empty, "lamports": lamports}])
    ctx.expect(reply.status in (402, 502, 503), f"expected a refusal, got {reply.describe()}")
    after = await ctx.snapshot(payer=payer.pubkey(), merchant=payment.requirements.pay_to)
    ctx.expect_usdc_change(before, after, payer=0, merchant=0)
    return f"refused ({reply.status}: {reply.error})"
