from sandbox.scenario_runner import Context, scenario


@scenario(
    "replay-settled-payment",
    "The same payment header sent twice buys the content once: the replay is refused.",
)
async def replay_settled_payment(ctx: Context) -> str:
    path = ctx.paid_path
    payer = await ctx.new_payer()
    payment = await ctx.payment(path, payer)
    price, merchant = payment.requirements.atomic_amount, payment.requirements.pay_to
    before = await ctx.snapshot(payer=payer.pubkey(), merchant=merchant)
    first = await ctx.request(path, payment.headers)
    ctx.expect_status(first, 200)
    replay = await ctx.request(path, payment.headers)
    ctx.expect(replay.status != 200, f"the replay was served: {replay.describe()}")
    ctx.expect_status(replay, 402)
    after = await ctx.snapshot(payer=payer.pubkey(), merchant=merchant)
    ctx.expect_usdc_change(before, after, payer=-price, merchant=price)
    return f"first served, replay refused with {replay.error}"
