from sandbox.scenario_runner import FACILITATOR_FAULTS, Context, scenario

FAULTS = {
    "error500": {"endpoint": "verify", "kind": "error500"},
    "html502": {"endpoint": "verify", "kind": "html502"},
    "settle-500": {"endpoint": "settle", "kind": "error500"},
}


@scenario(
    "facilitator-errors",
    "A facilitator answering 500 or an HTML 502 page gets a clear 502 JSON error, never content.",
    needs=(FACILITATOR_FAULTS,),
)
async def facilitator_errors(ctx: Context) -> str:
    path = ctx.paid_path
    seen = []
    for name, fault in FAULTS.items():
        payer = await ctx.new_payer()
        payment = await ctx.payment(path, payer)
        merchant = payment.requirements.pay_to
        before = await ctx.snapshot(payer=payer.pubkey(), merchant=merchant)
        async with ctx.facilitator_faults(fault):
            reply = await ctx.request(path, payment.headers)
        ctx.expect_status(reply, 502)
        ctx.expect(reply.json() is not None, f"{name}: the 502 is not JSON: {reply.describe()}")
        after = await ctx.snapshot(payer=payer.pubkey(), merchant=merchant)
        ctx.expect_usdc_change(before, after, payer=0, merchant=0)
        seen.append(f"{name}->502")
    return ", ".join(seen)
