from sandbox.scenario_runner import Context, scenario
from scenarios._common import pay_and_check


@scenario("happy-path-v1", "A v1 client (X-PAYMENT) pays $0.01 and gets the premium content.")
async def happy_path_v1(ctx: Context) -> str:
    return await pay_and_check(ctx, "/api/premium-content", version=1)
