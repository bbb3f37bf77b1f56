from sandbox.scenario_runner import SERVER_ROUTES, Context, Skip, scenario


@scenario(
    "route-binding",
    "A payment made for /api/premium-content is refused on /api/upfront, which has the same "
    "price; nothing moves.",
    needs=(SERVER_ROUTES,),
)
async def route_binding(ctx: Context) -> str:
    # Two sample-server routes of the same price (hence needs=SERVER_ROUTES), not --path.
    _reply, offer = await ctx.challenge("/api/premium-content")
    if not (offer.extra or {}).get("memo"):
        raise Skip(
            "the server's offers carry no extra.memo (memo binding off: --route-binding none), "
            "so a payment is bound only by the terms it echoes and two routes of one price "
            "cannot be told apart"
        )
    payer = await ctx.new_payer()
    payment = await ctx.payment("/api/premium-content", payer)
    _reply, other = await ctx.challenge("/api/upfront")
    ctx.expect(other.amount == payment.requirements.amount, "the two routes' prices differ")
    before = await ctx.snapshot(payer=payer.pubkey(), merchant=other.pay_to)
    reply = await ctx.request("/api/upfront", payment.headers)
    ctx.expect(reply.status in (400, 402), f"expected a refusal, got {reply.describe()}")
    after = await ctx.snapshot(payer=payer.pubkey(), merchant=other.pay_to)
    ctx.expect_usdc_change(before, after, payer=0, merchant=0)
    return f"refused on the other route with {reply.error}"
