from sandbox.protocol import reasons
from sandbox.scenario_runner import Context, scenario
from scenarios._common import refused_without_payment


@scenario("tampered-signature", "A payment whose owner signature has one bit flipped is refused.")
async def tampered_signature(ctx: Context) -> str:
    return await refused_without_payment(
        ctx,
        ctx.paid_path,
        "bad_signature",
        (reasons.SVM_SIGNATURE_INVALID, reasons.TRANSACTION_SIMULATION_FAILED),
    )
