from sandbox.protocol.payment_identifier import EXTENSION, new_payment_id
from sandbox.scenario_runner import Context, Skip, scenario
from scenarios._common import route_with_ids


@scenario(
    "payment-id-retry",
    "A paid request whose answer was lost is sent again with the same payment identifier: the "
    "first answer comes back (same transaction), and the payer is charged once.",
)
async def payment_id_retry(ctx: Context) -> str:
    path = route_with_ids(ctx)
    await ctx.challenge(path)
    if ctx.declared(EXTENSION) is None:
        raise Skip(f"{path}'s 402 does not declare the {EXTENSION} extension")
    payer = await ctx.new_payer()
    payment = await ctx.payment(path, payer, payment_id=new_payment_id())
    price, merchant = payment.requirements.atomic_amount, payment.requirements.pay_to
    before = await ctx.snapshot(payer=payer.pubkey(), merchant=merchant)
    first = await ctx.request(path, payment.headers)  # the client never reads this answer
    ctx.expect_status(first, 200)
    retry = await ctx.request(path, payment.headers)
    ctx.expect_status(retry, 200)
    ctx.expect(retry.body == first.body, "the retry got another body than the first answer")
    ctx.expect(
        retry.receipt is not None and retry.receipt.transaction == first.receipt.transaction,
        f"the retry's receipt names another transaction: {retry.receipt}",
    )
    after = await ctx.snapshot(payer=payer.pubkey(), merchant=merchant)
    ctx.expect_usdc_change(before, after, payer=-price, merchant=price)
    signature = first.receipt.transaction
    return f"the retry got the first answer (transaction {signature[:12]}..), charged once"
