from sandbox.protocol.payment_identifier import EXTENSION
from sandbox.scenario_runner import SERVER_ROUTES, Context, scenario
from scenarios._common import ORDER


@scenario(
    "payment-id-required",
    "A payment without a payment identifier on a route that requires one is refused with 400 "
    "payment_identifier_required; nothing moves.",
    needs=(SERVER_ROUTES,),
)
async def payment_id_required(ctx: Context) -> str:
    await ctx.challenge(ORDER)
    declared = ctx.declared(EXTENSION) or {}
    ctx.expect(
        (declared.get("info") or {}).get("required") is True,
        f"{ORDER}'s 402 does not require a payment identifier: {declared}",
    )
    payer = await ctx.new_payer()
    payment = await ctx.payment(ORDER, payer)  # no id
    merchant = payment.requirements.pay_to
    before = await ctx.snapshot(payer=payer.pubkey(), merchant=merchant)
    reply = await ctx.request(ORDER, payment.headers)
    ctx.expect_status(reply, 400)
    ctx.expect(
        reply.error == "payment_identifier_required",
        f"expected payment_identifier_required, got {reply.describe()}",
    )
    after = await ctx.snapshot(payer=payer.pubkey(), merchant=merchant)
    ctx.expect_usdc_change(before, after, payer=0, merchant=0)
    return "refused with 400 payment_identifier_required; nothing moved"
