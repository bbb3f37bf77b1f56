from sandbox.scenario_runner import Context, scenario


@scenario(
    "nonce-reuse",
    "A new transaction that reuses a settled payment's memo nonce is a replay and is refused.",
)
async def nonce_reuse(ctx: Context) -> str:
    path = ctx.paid_path
    payer = await ctx.new_payer()
    first = await ctx.payment(path, payer)
    price, merchant = first.requirements.atomic_amount, first.requirements.pay_to
    before = await ctx.snapshot(payer=payer.pubkey(), merchant=merchant)
    ctx.expect_status(await ctx.request(path, first.headers), 200)
    # The same offer (its memo is the nonce) answered again by a new transaction.
    again = await ctx.payment(
        path, payer, 2, "reused_memo", memo=first.memo, fresh_blockhash=True, answering=first
    )
    ctx.expect(again.transaction.message != first.transaction.message, "not a new transaction")
    reply = await ctx.request(path, again.headers)
    ctx.expect_status(reply, 402)
    after = await ctx.snapshot(payer=payer.pubkey(), merchant=merchant)
    ctx.expect_usdc_change(before, after, payer=-price, merchant=price)
    return f"reused nonce refused with {reply.error}"
