from sandbox.payer import build_payment, read_challenge
from sandbox.protocol import PYUSD_DEVNET_MINT
from sandbox.protocol.programs import TOKEN_2022_PROGRAM_ID
from sandbox.scenario_runner import CHEATS, SERVER_ROUTES, Context, Skip, scenario
from scenarios._policy import paid_once

PYUSD_ROUTE = "/api/premium-content-pyusd"
EITHER_ROUTE = "/api/premium-content-any"  # offers USDC first, then PYUSD


async def _challenge(ctx: Context, path: str):
    """The v2 challenge of `path` (every offer)."""
    reply = await ctx.request(path)
    ctx.expect_status(reply, 402)
    challenge = read_challenge(reply.headers, reply.body, version=2)
    ctx.expect(challenge is not None, f"402 without a v2 challenge: {reply.describe()}")
    return challenge


async def _pyusd_payer(ctx: Context):
    """A fresh payer holding 1 test PYUSD (and SOL, and the usual USDC)."""
    payer = await ctx.new_payer()
    await ctx.rpc.call("sandbox_mintTo", [str(payer.pubkey()), 1_000_000, PYUSD_DEVNET_MINT])
    return payer


async def _pay_once(ctx: Context, path: str, offer, payer, resource) -> str:
    """Pay `offer` of `path` in PYUSD on Token-2022: served once, landed, the payer's PYUSD
    -price and the merchant's +price (paid_once), and their USDC untouched."""
    mint = await ctx.facts.mint(offer.asset)
    ctx.expect(
        mint.token_program == TOKEN_2022_PROGRAM_ID,
        f"{offer.asset} is not a Token-2022 mint on this chain (owner {mint.token_program})",
    )
    payment = build_payment(offer, payer, mint, await ctx.facts.blockhash(), resource=resource)
    wallets = {"payer": payer.pubkey(), "merchant": offer.pay_to}
    usdc_before = await ctx.snapshot(**wallets)
    signature = await paid_once(ctx, path, payer, payment)
    ctx.expect_usdc_change(usdc_before, await ctx.snapshot(**wallets), payer=0, merchant=0)
    return signature


@scenario(
    "pyusd-payment",
    "A route priced in PYUSD (Token-2022, at its devnet address) is paid once: the payer's "
    "PYUSD falls by the price, the merchant's rises by it, USDC untouched; the route priced in "
    "USDC or PYUSD offers both, each bound to its own memo, and is paid in PYUSD too.",
    needs=(CHEATS, SERVER_ROUTES),
)
async def pyusd_payment(ctx: Context) -> str:
    challenge = await _challenge(ctx, PYUSD_ROUTE)
    offer = challenge.accepts[0]
    if offer.asset != PYUSD_DEVNET_MINT:
        raise Skip(f"{PYUSD_ROUTE} is not priced in PYUSD here ({offer.asset})")
    payer = await _pyusd_payer(ctx)
    first = await _pay_once(ctx, PYUSD_ROUTE, offer, payer, challenge.resource)

    challenge = await _challenge(ctx, EITHER_ROUTE)
    assets = [accept.asset for accept in challenge.accepts]
    ctx.expect(len(assets) == 2 and assets[1] == PYUSD_DEVNET_MINT,
               f"{EITHER_ROUTE} offers {assets}, not USDC then PYUSD")  # fmt: skip
    memos = [(accept.extra or {}).get("memo") for accept in challenge.accepts]
    ctx.expect(memos[0] != memos[1], f"both offers carry the same memo {memos[0]!r}")
    pyusd_offer = challenge.accepts[1]
    second = await _pay_once(ctx, EITHER_ROUTE, pyusd_offer, await _pyusd_payer(ctx),
                             challenge.resource)  # fmt: skip
    return f"paid in PYUSD on Token-2022: {first[:16]}.. and, of two offers, {second[:16]}.."
