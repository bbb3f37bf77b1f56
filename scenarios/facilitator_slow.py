from sandbox.scenario_runner import FACILITATOR_FAULTS, SERVER_ROUTES, Context, scenario
from scenarios._common import second_server


@scenario(
    "facilitator-slow",
    "A facilitator slower than the server's timeout gets a 504, never the content.",
    needs=(FACILITATOR_FAULTS, SERVER_ROUTES),
)
async def facilitator_slow(ctx: Context) -> str:
    async with second_server(ctx, ctx.facilitator_url, "--facilitator-timeout", "1") as server:
        path = f"{server}/api/premium-content"  # the second server is the sample one
        payer = await ctx.new_payer()
        payment = await ctx.payment(path, payer)
        before = await ctx.snapshot(payer=payer.pubkey(), merchant=payment.requirements.pay_to)
        async with ctx.facilitator_faults({"endpoint": "verify", "kind": "latency", "ms": 3000}):
            reply = await ctx.request(path, payment.headers)
        ctx.expect_status(reply, 504)
        after = await ctx.snapshot(payer=payer.pubkey(), merchant=payment.requirements.pay_to)
        ctx.expect_usdc_change(before, after, payer=0, merchant=0)
        return f"answered 504 after the 1 s timeout: {reply.error}"
