from sandbox.protocol import reasons
from sandbox.scenario_runner import Context, scenario
from scenarios._common import refused_without_payment


@scenario(
    "fee-payer-as-authority",
    "Drain attempt: a transfer out of the facilitator's own account is refused; its SOL and "
    "USDC stay untouched.",
)
async def fee_payer_as_authority(ctx: Context) -> str:
    return await refused_without_payment(
        ctx,
        ctx.paid_path,
        "fee_payer_as_authority",
        reasons.SVM_FEE_PAYER_TRANSFERRING_FUNDS,
    )
