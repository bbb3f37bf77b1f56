from sandbox.protocol import reasons
from sandbox.scenario_runner import Context, scenario


@scenario(
    "overpay",
    "Paying more than asked follows the amount policy: refused under 'exact' with nothing "
    "moved, or served and charged exactly what was signed under 'at-least'.",
)
async def overpay(ctx: Context) -> str:
    path = ctx.paid_path
    payer = await ctx.new_payer()
    _reply, offer = await ctx.challenge(path)
    paid = offer.atomic_amount + 1
    payment = await ctx.payment(path, payer, 2, "wrong_amount", amount=paid)
    before = await ctx.snapshot(payer=payer.pubkey(), merchant=offer.pay_to)
    reply = await ctx.request(path, payment.headers)
    after = await ctx.snapshot(payer=payer.pubkey(), merchant=offer.pay_to)
    if reply.status == 200:
        ctx.expect_usdc_change(before, after, payer=-paid, merchant=paid)
        return f"policy at-least: served, charged {paid}"
    ctx.expect_refusal(reply, reasons.SVM_AMOUNT_MISMATCH)
    ctx.expect_usdc_change(before, after, payer=0, merchant=0)
    return f"policy exact: refused with {reply.error}"
