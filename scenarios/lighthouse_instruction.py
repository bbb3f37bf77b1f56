from sandbox.protocol import reasons
from sandbox.protocol.programs import LIGHTHOUSE_PROGRAM_ID
from sandbox.scenario_runner import CHEATS, Context, scenario
from scenarios._common import refused_without_payment
from scenarios._policy import lighthouse_on_chain, paid_once, verification_policy

AFTER_THE_MEMO = 4  # where wallets such as Phantom append their Lighthouse guard
BEFORE_THE_TRANSFER = 2  # between the compute price and the transfer


@scenario(
    "lighthouse-instruction",
    "A payment carrying a Lighthouse guard (as Phantom adds) after the transfer is paid once; "
    "with the guard where the facilitator's layout refuses it (positional: before the "
    "transfer) it is refused naming the rule and nothing moves. Role-based takes it anywhere.",
    needs=(CHEATS,),
)
async def lighthouse_instruction(ctx: Context) -> str:
    policy = await verification_policy(ctx)
    program = await lighthouse_on_chain(ctx)
    path = ctx.paid_path
    payer = await ctx.new_payer()
    payment = await ctx.payment(path, payer, 2, "lighthouse_instruction", index=AFTER_THE_MEMO)
    signature = await paid_once(ctx, path, payer, payment)
    landed = await ctx.transaction_on_chain(signature)
    keys = landed["transaction"]["message"]["accountKeys"]
    ctx.expect(
        str(LIGHTHOUSE_PROGRAM_ID) in keys, f"the landed transaction calls no Lighthouse: {keys}"
    )
    said = f"{program}; guard after the memo: paid once, tx {signature[:12]}..."
    if policy["layout"] == "positional":
        refused = await refused_without_payment(
            ctx,
            path,
            "lighthouse_instruction",
            reasons.SVM_NO_TRANSFER_INSTRUCTION,
            index=BEFORE_THE_TRANSFER,
        )
        return f"{said}; positional: {refused}"
    # Role-based: Lighthouse anywhere, even before the compute limit; no position is refused.
    payer = await ctx.new_payer()
    first = await ctx.payment(path, payer, 2, "lighthouse_instruction", index=0)
    signature = await paid_once(ctx, path, payer, first)
    return f"{said}; role-based refuses no position: guard first also paid, tx {signature[:12]}..."
