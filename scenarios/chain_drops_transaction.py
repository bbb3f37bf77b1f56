import asyncio

from sandbox.scenario_runner import CHEATS, Context, scenario


@scenario(
    "chain-drops-transaction",
    "The chain drops the settlement transaction: no content while it is unsettled; the same "
    "payment sent again settles it and is served once, charged once.",
    needs=(CHEATS,),
)
async def chain_drops_transaction(ctx: Context) -> str:
    path = ctx.paid_path
    payer = await ctx.new_payer()
    payment = await ctx.payment(path, payer)
    price, merchant = payment.requirements.atomic_amount, payment.requirements.pay_to
    before = await ctx.snapshot(payer=payer.pubkey(), merchant=merchant)
    async with ctx.chain_faults(dropRate=1.0):
        dropped = await ctx.request(path, payment.headers)
    ctx.expect(
        dropped.status != 200, f"served while the transaction was dropped: {dropped.describe()}"
    )
    middle = await ctx.snapshot(payer=payer.pubkey(), merchant=merchant)
    ctx.expect_usdc_change(before, middle, payer=0, merchant=0)
    for _ in range(5):
        retry = await ctx.request(path, payment.headers)
        if retry.status == 200:
            break
        await asyncio.sleep(1)
    ctx.expect_status(retry, 200)
    after = await ctx.snapshot(payer=payer.pubkey(), merchant=merchant)
    ctx.expect_usdc_change(before, after, payer=-price, merchant=price)
    return f"dropped -> {dropped.status} ({dropped.error}), retried -> 200, charged once"
