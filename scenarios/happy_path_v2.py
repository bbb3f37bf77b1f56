from sandbox.scenario_runner import Context, scenario
from scenarios._common import pay_and_check


@scenario(
    "happy-path-v2", "A v2 client (PAYMENT-SIGNATURE) pays the route's price and gets the content."
)
async def happy_path_v2(ctx: Context) -> str:
    return await pay_and_check(ctx, ctx.paid_path, version=2)
