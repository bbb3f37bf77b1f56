from sandbox.protocol import reasons
from sandbox.scenario_runner import Context, scenario
from scenarios._common import refused_without_payment

MEMO_COUNT = reasons.SVM_MEMO_COUNT


@scenario(
    "memo-less-client",
    "A client that puts no memo in its transaction (x402-fetch 1.2, x402-solana 2.0.4): under "
    "memo binding refused with memo_count saying it did not copy extra.memo, nothing moves; "
    "under --route-binding none paid once.",
)
async def memo_less_client(ctx: Context) -> str:
    path = ctx.paid_path
    _reply, offer = await ctx.challenge(path)
    if (offer.extra or {}).get("memo"):
        said = []
        for version in (1, 2):
            said.append(
                await refused_without_payment(
                    ctx, path, "missing_instruction", MEMO_COUNT, version, which="memo"
                )
            )
        payer = await ctx.new_payer()
        payment = await ctx.payment(path, payer, 2, "missing_instruction", which="memo")
        reply = await ctx.request(path, payment.headers)
        message = str((reply.json() or {}).get("message", ""))
        ctx.expect("extra.memo" in message, f"the refusal does not say why: {reply.describe()}")
        return "; ".join(f"v{v}: {text}" for v, text in zip((1, 2), said, strict=True))
    # No memo binding: the memo-less payment is paid, once.
    payer = await ctx.new_payer()
    payment = await ctx.payment(path, payer, 2, "missing_instruction", which="memo")
    price, merchant = payment.requirements.atomic_amount, payment.requirements.pay_to
    before = await ctx.snapshot(payer=payer.pubkey(), merchant=merchant)
    reply = await ctx.request(path, payment.headers)
    ctx.expect_status(reply, 200)
    again = await ctx.request(path, payment.headers)
    ctx.expect(again.status != 200, f"the same payment was served twice: {again.describe()}")
    after = await ctx.snapshot(payer=payer.pubkey(), merchant=merchant)
    ctx.expect_usdc_change(before, after, payer=-price, merchant=price)
    return f"no extra.memo offered (--route-binding none): paid {price} once"
