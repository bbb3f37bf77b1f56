from sandbox.protocol import reasons
from sandbox.scenario_runner import Context, scenario
from scenarios._common import refused_without_payment


@scenario("wrong-mint", "A transfer of another token than the one asked is refused.")
async def wrong_mint(ctx: Context) -> str:
    return await refused_without_payment(
        ctx, ctx.paid_path, "wrong_mint", reasons.SVM_MINT_MISMATCH
    )
