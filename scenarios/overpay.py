from sandbox.protocol import reasons
from sandbox.scenario_runner import Context, scenario
from scenarios._common import fee_payer_of

UNREPORTED = (
    "the facilitator does not report its amount policy (/health amountPolicy) and none was "
    "given (--amount-policy), so which outcome is right was not checked"
)


@scenario(
    "overpay",
    "Paying more than asked follows the facilitator's amount policy: refused under 'exact' "
    "with nothing moved, served and charged exactly what was signed under 'at-least'.",
)
async def overpay(ctx: Context) -> str:
    path = ctx.paid_path
    policy = ctx.amount_policy
    ctx.expect(policy in (None, "exact", "at-least"), f"unknown amount policy {policy!r}")
    payer = await ctx.new_payer()
    _reply, offer = await ctx.challenge(path)
    paid = offer.atomic_amount + 1
    payment = await ctx.payment(path, payer, 2, "wrong_amount", amount=paid)
    wallets = {
        "payer": payer.pubkey(),
        "merchant": offer.pay_to,
        "fee_payer": await fee_payer_of(ctx, payment),
    }
    before = await ctx.snapshot(**wallets)
    reply = await ctx.request(path, payment.headers)
    after = await ctx.snapshot(**wallets)
    served = reply.status == 200
    if policy == "exact":
        ctx.expect(not served, f"policy exact, yet the overpayment was served: {reply.describe()}")
    if policy == "at-least":
        ctx.expect(served, f"policy at-least, yet the overpayment was refused: {reply.describe()}")
    if served:
        ctx.expect_usdc_change(before, after, payer=-paid, merchant=paid)
        ctx.expect_fee_paid(before, after, payment.transaction)
        outcome = f"served, charged the {paid} signed"
    else:
        ctx.expect_refusal(reply, reasons.SVM_AMOUNT_MISMATCH)
        ctx.expect_usdc_change(before, after, payer=0, merchant=0, fee_payer=0)
        ctx.expect(after.sol == before.sol, f"SOL moved: {before.sol} -> {after.sol}")
        outcome = f"refused with {reply.error}"
    if policy is None:
        return f"{outcome}; {UNREPORTED}"
    return f"policy {policy}: {outcome}"
