from sandbox.scenario_runner import Context, scenario
from scenarios._common import pay_and_check


@scenario(
    "happy-path-v1", "A v1 client (X-PAYMENT) pays the route's price and gets the content once."
)
async def happy_path_v1(ctx: Context) -> str:
    return await pay_and_check(ctx, ctx.paid_path, version=1)
