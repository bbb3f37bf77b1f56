from sandbox.protocol import reasons
from sandbox.scenario_runner import Context, scenario
from scenarios._common import refused_without_payment


@scenario("wrong-recipient", "A transfer to someone other than payTo is refused.")
async def wrong_recipient(ctx: Context) -> str:
    return await refused_without_payment(
        ctx, ctx.paid_path, "wrong_recipient", reasons.SVM_RECIPIENT_MISMATCH
    )
