from sandbox.scenario_runner import SERVER_ROUTES, Context, scenario


@scenario(
    "handler-failure",
    "When the paid handler fails (500), the payment is not settled: the payer keeps its money.",
    needs=(SERVER_ROUTES,),
)
async def handler_failure(ctx: Context) -> str:
    path = "/api/broken"
    payer = await ctx.new_payer()
    payment = await ctx.payment(path, payer)
    before = await ctx.snapshot(payer=payer.pubkey(), merchant=payment.requirements.pay_to)
    reply = await ctx.request(path, payment.headers)
    ctx.expect(reply.status >= 500, f"the broken handler answered {reply.describe()}")
    receipt = reply.receipt
    ctx.expect(receipt is None or not receipt.success, "a failed request carries a receipt")
    after = await ctx.snapshot(payer=payer.pubkey(), merchant=payment.requirements.pay_to)
    ctx.expect_usdc_change(before, after, payer=0, merchant=0)
    return f"handler answered {reply.status}, nothing settled"
