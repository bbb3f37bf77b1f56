from sandbox.scenario_runner import SERVER_ROUTES, Context, scenario
from scenarios._common import TcpProxy, second_server, split_host_port


@scenario(
    "facilitator-down",
    "When the facilitator goes away, a paid request gets a 502 naming it, never the content, "
    "and no money moves.",
    needs=(SERVER_ROUTES,),
)
async def facilitator_down(ctx: Context) -> str:
    proxy = await TcpProxy(*split_host_port(ctx.facilitator_url)).start()
    try:
        async with second_server(ctx, f"http://127.0.0.1:{proxy.port}") as server:
            path = f"{server}/api/premium-content"  # the second server is the sample one
            payer = await ctx.new_payer()
            payment = await ctx.payment(path, payer)
            await proxy.close()  # the facilitator is now unreachable for this server
            before = await ctx.snapshot(payer=payer.pubkey(), merchant=payment.requirements.pay_to)
            reply = await ctx.request(path, payment.headers)
            ctx.expect(reply.status in (502, 503), f"expected 502, got {reply.describe()}")
            after = await ctx.snapshot(payer=payer.pubkey(), merchant=payment.requirements.pay_to)
            ctx.expect_usdc_change(before, after, payer=0, merchant=0)
            return f"answered {reply.status}: {reply.error}"
    finally:
        await proxy.close()
