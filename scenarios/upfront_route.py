from sandbox.scenario_runner import SERVER_ROUTES, Context, scenario
from scenarios._common import pay_and_check


@scenario(
    "upfront-route",
    "A route that settles before its handler runs is paid once and served.",
    needs=(SERVER_ROUTES,),
)
async def upfront_route(ctx: Context) -> str:
    return await pay_and_check(ctx, "/api/upfront", version=2)
