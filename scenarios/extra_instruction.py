from sandbox.scenario_runner import Context, scenario
from scenarios._common import SVM, refused_without_payment


@scenario(
    "extra-instruction",
    "A payment with a hidden extra SOL transfer appended is refused.",
)
async def extra_instruction(ctx: Context) -> str:
    return await refused_without_payment(
        ctx, ctx.paid_path, "extra_instruction", SVM, kind="system"
    )
