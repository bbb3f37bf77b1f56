from sandbox.protocol import reasons
from sandbox.scenario_runner import Context, scenario
from scenarios._common import refused_without_payment


@scenario("underpay", "A transfer one atomic unit short is refused and nothing moves.")
async def underpay(ctx: Context) -> str:
    _reply, offer = await ctx.challenge(ctx.paid_path)
    return await refused_without_payment(
        ctx,
        ctx.paid_path,
        "wrong_amount",
        (reasons.SVM_AMOUNT_INSUFFICIENT, reasons.SVM_AMOUNT_MISMATCH),
        amount=offer.atomic_amount - 1,
    )
