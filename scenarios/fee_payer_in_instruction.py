from sandbox.protocol import reasons
from sandbox.scenario_runner import Context, scenario
from scenarios._common import refused_without_payment


@scenario(
    "fee-payer-in-instruction",
    "The facilitator's key slipped into another instruction's accounts is refused.",
)
async def fee_payer_in_instruction(ctx: Context) -> str:
    return await refused_without_payment(
        ctx,
        ctx.paid_path,
        "fee_payer_in_instruction",
        reasons.SVM_FEE_PAYER_TRANSFERRING_FUNDS,
        into="memo",
    )
