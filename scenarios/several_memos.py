import secrets

from sandbox.payer.mutations import extra_instruction
from sandbox.protocol import reasons
from sandbox.scenario_runner import Context, scenario
from scenarios._common import refused_without_payment
from scenarios._policy import (
    paid_once,
    refused_at_facilitator,
    refused_through_server,
    settled_once,
    verification_policy,
)

MEMO_COUNT = reasons.SVM_MEMO_COUNT


@scenario(
    "several-memos",
    "Two Memo instructions: with extra.memo in the offer refused memo_count, nothing moves; "
    "without it (--route-binding none) paid once under --layout role-based, refused memo_count "
    "under the positional layout. The case the server does not offer is put to the "
    "facilitator's /settle directly.",
)
async def several_memos(ctx: Context) -> str:
    policy = await verification_policy(ctx)
    layout = policy["layout"]
    path = ctx.paid_path
    _reply, offer = await ctx.challenge(path)
    extra = dict(offer.extra or {})
    bound = bool(extra.get("memo"))
    said = []
    # extra.memo set: exactly one memo, in both layouts.
    if bound:
        refused = await refused_without_payment(
            ctx, path, "extra_instruction", MEMO_COUNT, kind="memo"
        )
        said.append(f"extra.memo offered: {refused}")
    else:
        memo = f"several-memos {secrets.token_hex(8)}"
        terms = offer.model_copy(update={"extra": {**extra, "memo": memo}})
        payer = await ctx.new_payer()
        payment = await _two_memos(ctx, terms, payer)
        refused = await refused_at_facilitator(ctx, payer, payment, MEMO_COUNT)
        said.append(f"extra.memo set at /settle (the server offers none): {refused}")
    # extra.memo unset: several memos are the role-based layout's, one at most the positional's.
    payer = await ctx.new_payer()
    if not bound:
        payment = await ctx.payment(path, payer, 2, "extra_instruction", kind="memo")
        where = "no extra.memo offered (--route-binding none)"
        if layout == "role-based":
            signature = await paid_once(ctx, path, payer, payment)
            said.append(f"{where}, role-based: paid once, tx {signature[:12]}...")
        else:
            refused = await refused_through_server(ctx, path, payer, payment, MEMO_COUNT)
            said.append(f"{where}, positional (one memo at most): {refused}")
    else:
        terms = offer.model_copy(update={"extra": {k: v for k, v in extra.items() if k != "memo"}})
        payment = await _two_memos(ctx, terms, payer)
        where = "extra.memo unset at /settle (the server binds one)"
        if layout == "role-based":
            signature = await settled_once(ctx, payer, payment)
            said.append(f"{where}, role-based: settled once, tx {signature[:12]}...")
        else:
            refused = await refused_at_facilitator(ctx, payer, payment, MEMO_COUNT)
            said.append(f"{where}, positional (one memo at most): {refused}")
    return "; ".join(said)


async def _two_memos(ctx: Context, terms, payer):
    """A payment for `terms` with its memo (extra.memo, or a random nonce) and a second one."""
    mint = await ctx.facts.mint(terms.asset)
    return extra_instruction(terms, payer, mint, await ctx.facts.blockhash(), kind="memo")
