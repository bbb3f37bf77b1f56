from sandbox.protocol import reasons
from sandbox.scenario_runner import Context, scenario
from scenarios._common import refused_without_payment


@scenario("underpay", "A transfer one atomic unit short is refused and nothing moves.")
async def underpay(ctx: Context) -> str:
    _reply, offer = await ctx.challenge("/api/premium-content")
    return await refused_without_payment(
        ctx,
        "/api/premium-content",
        "wrong_amount",
        (reasons.SVM_AMOUNT_INSUFFICIENT, reasons.SVM_AMOUNT_MISMATCH),
        amount=offer.atomic_amount - 1,
    )
