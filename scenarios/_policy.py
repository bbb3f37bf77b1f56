"""Steps of the stories about what the facilitator's instruction layout accepts: its policy as
/health reports it, a payment paid once (through the server or settled at the facilitator), and
the Lighthouse program the sandbox chain does not ship."""

from __future__ import annotations

from typing import Any

from solders.keypair import Keypair

from sandbox.payer import Payment
from sandbox.protocol.programs import LIGHTHOUSE_PROGRAM_ID, MEMO_PROGRAM_ID
from sandbox.scenario_runner import Context, Skip


async def facilitator_json(ctx: Context, path: str, body: dict | None = None) -> dict:
    """GET (no body) or POST `path` of the facilitator, its JSON answer."""
    url = f"{ctx.facilitator_url}{path}"
    request = ctx.http.get(url) if body is None else ctx.http.post(url, json=body)
    async with request as response:
        answer = await response.json(content_type=None)
    return answer if isinstance(answer, dict) else {}


async def verification_policy(ctx: Context) -> dict:
    """The facilitator's layout policy (GET /health "verification"); Skip when it reports none."""
    policy = (await facilitator_json(ctx, "/health")).get("verification")
    if not isinstance(policy, dict) or policy.get("layout") not in ("positional", "role-based"):
        raise Skip("needs a facilitator that reports its layout policy in /health (verification)")
    return policy


async def wallets_of(ctx: Context, payer: Keypair, payment: Payment) -> dict[str, Any]:
    fee_payer = (payment.requirements.extra or {}).get("feePayer") or await ctx.fee_payer()
    merchant = payment.requirements.pay_to
    return {"payer": payer.pubkey(), "merchant": merchant, "fee_payer": fee_payer}


async def expect_landed_once(ctx: Context, signature: str, before, wallets, payment) -> None:
    """The transaction `signature` landed without error, the payer paid the price once to the
    merchant and the fee payer one fee, no USDC."""
    landed = await ctx.transaction_on_chain(signature)
    ctx.expect(landed is not None, f"the receipt's transaction {signature} is not on chain")
    ctx.expect(landed["meta"]["err"] is None, f"the transaction failed on chain: {landed}")
    after = await ctx.snapshot(mint=payment.requirements.asset, **wallets)
    price = payment.requirements.atomic_amount
    ctx.expect_usdc_change(before, after, payer=-price, merchant=price)
    ctx.expect_fee_paid(before, after, payment.transaction)


async def paid_once(ctx: Context, path: str, payer: Keypair, payment: Payment) -> str:
    """`payment` sent to the server for `path`: served, landed once; sent again, not served."""
    wallets = await wallets_of(ctx, payer, payment)
    before = await ctx.snapshot(mint=payment.requirements.asset, **wallets)
    reply = await ctx.request(path, payment.headers)
    ctx.expect_status(reply, 200)
    receipt = reply.receipt
    ctx.expect(receipt is not None and receipt.success, f"no successful receipt: {receipt}")
    again = await ctx.request(path, payment.headers)
    ctx.expect(again.status != 200, f"the same payment was served twice: {again.describe()}")
    await expect_landed_once(ctx, receipt.transaction, before, wallets, payment)
    return receipt.transaction


async def settled_once(ctx: Context, payer: Keypair, payment: Payment) -> str:
    """`payment` settled at the facilitator itself: success, landed once; settled again, no
    second transfer."""
    wallets = await wallets_of(ctx, payer, payment)
    before = await ctx.snapshot(mint=payment.requirements.asset, **wallets)
    receipt = await facilitator_json(ctx, "/settle", payment.facilitator_body())
    ctx.expect(receipt.get("success") is True, f"the facilitator refused to settle: {receipt}")
    again = await facilitator_json(ctx, "/settle", payment.facilitator_body())
    ctx.expect(
        again.get("success") is not True or again.get("transaction") == receipt["transaction"],
        f"settled a second time in another transaction: {again}",
    )
    await expect_landed_once(ctx, receipt["transaction"], before, wallets, payment)
    return receipt["transaction"]


async def refused_at_facilitator(
    ctx: Context, payer: Keypair, payment: Payment, reason: str
) -> str:
    """`payment` settled at the facilitator itself is refused naming `reason`; nothing moves."""
    wallets = await wallets_of(ctx, payer, payment)
    before = await ctx.snapshot(mint=payment.requirements.asset, **wallets)
    answer = await facilitator_json(ctx, "/settle", payment.facilitator_body())
    ctx.expect(
        answer.get("success") is False and answer.get("errorReason") == reason,
        f"{payment.description}: answered {answer}, expected {reason}",
    )
    after = await ctx.snapshot(mint=payment.requirements.asset, **wallets)
    ctx.expect(after == before, f"{payment.description}: money moved {before} -> {after}")
    return f"{payment.description}: refused with {reason}"


async def lighthouse_on_chain(ctx: Context) -> str:
    """What runs at Lighthouse's address. The sandbox chain ships no Lighthouse, so the first
    call puts a stand-in there by cheat code: a copy of the Memo program, which like a passing
    wallet guard asserts nothing and moves nothing (the verifier judges the program id only).
    Skip when another program is already there: its instructions are not ours to build."""
    lighthouse = await _account(ctx, str(LIGHTHOUSE_PROGRAM_ID))
    memo = await _account(ctx, str(MEMO_PROGRAM_ID))
    ctx.expect(memo is not None and memo["executable"], "the chain has no Memo program")
    if lighthouse is None:
        account = {
            "lamports": memo["lamports"],
            "data": memo["data"][0],
            "owner": memo["owner"],
            "executable": True,
        }
        await ctx.rpc.call("sandbox_setAccount", [str(LIGHTHOUSE_PROGRAM_ID), account])
        return "a no-op stand-in for Lighthouse installed (the sandbox chain ships none)"
    if lighthouse["executable"] and lighthouse["data"] == memo["data"]:
        return "the no-op stand-in for Lighthouse"
    raise Skip(
        "the chain runs its own program at Lighthouse's address; this story's instruction is "
        "for the sandbox's no-op stand-in"
    )


async def _account(ctx: Context, address: str) -> dict | None:
    result = await ctx.rpc.call(
        "getAccountInfo", [address, {"encoding": "base64", "commitment": "processed"}]
    )
    return result["value"]


async def refused_through_server(
    ctx: Context, path: str, payer: Keypair, payment: Payment, reason: str
) -> str:
    """`payment` sent to the server for `path` is refused naming `reason`; nothing moves."""
    wallets = await wallets_of(ctx, payer, payment)
    before = await ctx.snapshot(mint=payment.requirements.asset, **wallets)
    reply = await ctx.request(path, payment.headers)
    ctx.expect_refusal(reply, reason)
    after = await ctx.snapshot(mint=payment.requirements.asset, **wallets)
    ctx.expect(after == before, f"{payment.description}: money moved {before} -> {after}")
    return f"{payment.description}: refused with {reply.error}"
