from sandbox.scenario_runner import SERVER_ROUTES, Context, scenario
from scenarios._common import pay_and_check


@scenario(
    "dynamic-price",
    "The inference route's price follows ?tokens=: 250 tokens cost 2500 atomic units.",
    needs=(SERVER_ROUTES,),
)
async def dynamic_price(ctx: Context) -> str:
    _reply, small = await ctx.challenge("/api/inference?tokens=250")
    _reply, large = await ctx.challenge("/api/inference?tokens=1000")
    ctx.expect(small.atomic_amount == 2500, f"250 tokens priced {small.atomic_amount}")
    ctx.expect(large.atomic_amount == 10000, f"1000 tokens priced {large.atomic_amount}")
    return await pay_and_check(ctx, "/api/inference?tokens=250", version=2)
