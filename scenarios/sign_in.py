from sandbox.protocol import reasons, siws
from sandbox.scenario_runner import SERVER_ROUTES, Context, Skip, scenario

MEMBERS = "/api/member-content"  # the sample server's route that declares sign-in-with-x


@scenario(
    "sign-in",
    "A wallet pays a route once, then opens it again by signing in (sign-in-with-x, SIWS) "
    "without paying; the same signed sign-in sent again is refused. The payer is charged once.",
)
async def sign_in(ctx: Context) -> str:
    path = MEMBERS if SERVER_ROUTES in ctx.capabilities else ctx.paid_path
    payer = await ctx.new_payer()
    payment = await ctx.payment(path, payer)
    if ctx.declared(siws.EXTENSION) is None:
        raise Skip(f"{path}'s 402 does not declare the {siws.EXTENSION} extension")
    price, merchant = payment.requirements.atomic_amount, payment.requirements.pay_to
    before = await ctx.snapshot(payer=payer.pubkey(), merchant=merchant)
    ctx.expect_status(await ctx.request(path, payment.headers), 200)

    await ctx.challenge(path)  # a fresh challenge to sign
    declared = ctx.declared(siws.EXTENSION)
    headers = {siws.HEADER: siws.encode_header(siws.sign(declared, payer))}
    signed = await ctx.request(path, headers)
    ctx.expect_status(signed, 200)
    ctx.expect(signed.receipt is None, f"a sign-in was answered with a receipt: {signed.receipt}")

    replay = await ctx.request(path, headers)
    ctx.expect(replay.status != 200, f"the replayed sign-in opened the route: {replay.describe()}")
    if SERVER_ROUTES in ctx.capabilities:
        ctx.expect_refusal(replay, reasons.SIGN_IN_NONCE_REUSED)
    after = await ctx.snapshot(payer=payer.pubkey(), merchant=merchant)
    ctx.expect_usdc_change(before, after, payer=-price, merchant=price)  # the one payment
    return f"paid once, signed in once without paying, the replay refused ({replay.status})"
