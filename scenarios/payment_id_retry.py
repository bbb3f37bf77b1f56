from sandbox.scenario_runner import Context, scenario
from scenarios._common import expect_the_first_answer, identified_payment


@scenario(
    "payment-id-retry",
    "A paid request whose answer was lost is sent again with the same payment identifier: the "
    "first answer comes back (same transaction), and the payer is charged once.",
)
async def payment_id_retry(ctx: Context) -> str:
    paid = await identified_payment(ctx)
    first = await ctx.request(paid.path, paid.payment.headers)  # the client never reads it
    retry = await ctx.request(paid.path, paid.payment.headers)
    await expect_the_first_answer(ctx, paid, first, retry, "retry")
    signature = first.receipt.transaction
    return f"the retry got the first answer (transaction {signature[:12]}..), charged once"
