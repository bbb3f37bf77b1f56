from sandbox.protocol import reasons
from sandbox.scenario_runner import Context, scenario
from scenarios._common import refused_without_payment


@scenario("wrong-network", "A payment that names mainnet on this devnet is refused.")
async def wrong_network(ctx: Context) -> str:
    return await refused_without_payment(
        ctx,
        ctx.paid_path,
        "wrong_network",
        (reasons.NETWORK_MISMATCH, reasons.INVALID_NETWORK, reasons.INVALID_PAYMENT_REQUIREMENTS),
    )
