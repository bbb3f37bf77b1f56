from sandbox.protocol.payment_identifier import EXTENSION, new_payment_id
from sandbox.scenario_runner import Context, Skip, scenario


@scenario(
    "payment-id-conflict",
    "A second, different payment sent with a payment identifier already used is refused with "
    "409 payment_identifier_conflict; only the first is charged.",
)
async def payment_id_conflict(ctx: Context) -> str:
    path = ctx.paid_path
    await ctx.challenge(path)
    if ctx.declared(EXTENSION) is None:
        raise Skip(f"{path}'s 402 does not declare the {EXTENSION} extension")
    payer = await ctx.new_payer()
    payment_id = new_payment_id()
    first = await ctx.payment(path, payer, payment_id=payment_id)
    price, merchant = first.requirements.atomic_amount, first.requirements.pay_to
    before = await ctx.snapshot(payer=payer.pubkey(), merchant=merchant)
    ctx.expect_status(await ctx.request(path, first.headers), 200)
    other = await ctx.payment(path, payer, payment_id=payment_id, fresh_blockhash=True)
    ctx.expect(other.wire != first.wire, "the second payment is the same payment")
    reply = await ctx.request(path, other.headers)
    ctx.expect_status(reply, 409)
    ctx.expect(
        reply.error == "payment_identifier_conflict",
        f"expected payment_identifier_conflict, got {reply.describe()}",
    )
    after = await ctx.snapshot(payer=payer.pubkey(), merchant=merchant)
    ctx.expect_usdc_change(before, after, payer=-price, merchant=price)
    return "the reused id was refused with 409; charged once"
