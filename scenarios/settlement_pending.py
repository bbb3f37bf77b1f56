from sandbox.protocol import reasons
from sandbox.scenario_runner import FACILITATOR_FAULTS, Context, scenario


@scenario(
    "settlement-pending",
    "A facilitator that answers settlement_pending gets a 402 saying so; the same payment sent "
    "again later is served once and charged once.",
    needs=(FACILITATOR_FAULTS,),
)
async def settlement_pending(ctx: Context) -> str:
    path = ctx.paid_path
    payer = await ctx.new_payer()
    payment = await ctx.payment(path, payer)
    price, merchant = payment.requirements.atomic_amount, payment.requirements.pay_to
    before = await ctx.snapshot(payer=payer.pubkey(), merchant=merchant)
    async with ctx.facilitator_faults({"endpoint": "settle", "kind": "pending"}):
        pending = await ctx.request(path, payment.headers)
    ctx.expect_status(pending, 402)
    receipt = pending.receipt
    ctx.expect(
        receipt is not None and receipt.error_reason == reasons.SETTLEMENT_PENDING,
        f"the 402 does not say the settlement is pending: {pending.describe()}",
    )
    later = await ctx.request(path, payment.headers)
    ctx.expect_status(later, 200)
    again = await ctx.request(path, payment.headers)
    ctx.expect(again.status != 200, "the settled payment was served a second time")
    after = await ctx.snapshot(payer=payer.pubkey(), merchant=merchant)
    ctx.expect_usdc_change(before, after, payer=-price, merchant=price)
    return "pending -> 402, retried -> 200, charged once"
