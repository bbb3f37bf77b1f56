from solders.keypair import Keypair

from sandbox.payer import build_payment
from sandbox.payer.mutations import CREATE_ATA_PINS, create_ata_pin
from sandbox.protocol import reasons
from sandbox.scenario_runner import CHEATS, Context, Skip, scenario

TOKEN_ACCOUNT_BYTES = 165  # an SPL Token account (the sandbox USDC's program)


async def _facilitator(ctx: Context, path: str, body: dict | None = None) -> dict:
    """GET (no body) or POST `path` of the facilitator, its JSON answer."""
    url = f"{ctx.facilitator_url}{path}"
    request = ctx.http.get(url) if body is None else ctx.http.post(url, json=body)
    async with request as response:
        return await response.json(content_type=None)


@scenario(
    "first-time-merchant",
    "A merchant with no token account yet is paid through create-ATA (--layout role-based "
    "--allow-create-ata): each create-ATA pin wrong is refused with its own reason and costs the "
    "fee payer nothing; the right one creates the account, the fee payer paying exactly the rent "
    "plus the fee. A facilitator without the policy refuses it, funding nothing.",
    needs=(CHEATS,),
)
async def first_time_merchant(ctx: Context) -> str:
    policy = (await _facilitator(ctx, "/health")).get("verification")
    if not isinstance(policy, dict):
        raise Skip("the facilitator does not report its verification policy in /health")
    _reply, offer = await ctx.challenge(ctx.paid_path)
    merchant = Keypair().pubkey()  # a first-time merchant: no token account
    requirements = offer.model_copy(update={"pay_to": str(merchant)})
    payer = await ctx.new_payer()
    fee_payer = (offer.extra or {}).get("feePayer") or await ctx.fee_payer()
    mint = await ctx.facts.mint(requirements.asset)
    wallets = {"payer": payer.pubkey(), "merchant": merchant, "fee_payer": fee_payer}
    if policy.get("layout") != "role-based" or not policy.get("allowCreateAta"):
        # This facilitator takes no create-ATA: refused, and it funds nothing.
        payment = build_payment(
            requirements, payer, mint, await ctx.facts.blockhash(), create_ata=True
        )
        before = await ctx.snapshot(**wallets)
        answer = await _facilitator(ctx, "/settle", payment.facilitator_body())
        ctx.expect(answer.get("success") is False, f"a create-ATA was settled: {answer}")
        after = await ctx.snapshot(**wallets)
        ctx.expect(after == before, f"money moved: {before} -> {after}")
        return (
            f"no create-ATA here (layout {policy.get('layout', 'unknown')}; --layout role-based "
            f"--allow-create-ata takes it): refused with {answer.get('errorReason')}"
        )
    for pin in CREATE_ATA_PINS:
        wrong = create_ata_pin(requirements, payer, mint, await ctx.facts.blockhash(), pin=pin)
        before = await ctx.snapshot(**wallets)
        answer = await _facilitator(ctx, "/settle", wrong.facilitator_body())
        expected = getattr(reasons, f"SVM_CREATE_ATA_{pin.upper()}", None) or getattr(
            reasons, f"SVM_CREATE_ATA_{pin.upper()}_MISMATCH"
        )
        ctx.expect(
            answer.get("success") is False and answer.get("errorReason") == expected,
            f"{wrong.description}: answered {answer}, expected {expected}",
        )
        after = await ctx.snapshot(**wallets)
        ctx.expect(after == before, f"{wrong.description}: money moved {before} -> {after}")
    rent = await ctx.rpc.call("getMinimumBalanceForRentExemption", [TOKEN_ACCOUNT_BYTES])
    payment = build_payment(requirements, payer, mint, await ctx.facts.blockhash(), create_ata=True)
    before = await ctx.snapshot(**wallets)
    receipt = await _facilitator(ctx, "/settle", payment.facilitator_body())
    ctx.expect(receipt.get("success") is True, f"the create-ATA payment was refused: {receipt}")
    landed = await ctx.transaction_on_chain(receipt["transaction"])
    ctx.expect(landed is not None and landed["meta"]["err"] is None, f"not landed: {landed}")
    after = await ctx.snapshot(**wallets)
    price = requirements.atomic_amount
    ctx.expect_usdc_change(before, after, payer=-price, merchant=price, fee_payer=0)
    spent, fee = before.sol["fee_payer"] - after.sol["fee_payer"], landed["meta"]["fee"]
    ctx.expect(
        spent == rent + fee,
        f"the fee payer's SOL fell by {spent}, not the rent {rent} plus the fee {fee}",
    )
    return (
        f"{len(CREATE_ATA_PINS)} wrong pins refused; account created, fee payer paid {rent} + {fee}"
    )
