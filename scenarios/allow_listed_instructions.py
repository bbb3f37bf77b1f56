from solders.instruction import Instruction
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer

from sandbox.protocol import reasons
from sandbox.protocol.programs import SYSTEM_PROGRAM_ID
from sandbox.scenario_runner import Context, Skip, scenario
from scenarios._policy import paid_once, refused_through_server, verification_policy

# Programs every Solana chain runs, none with a role in a payment: the stranger is the first of
# them the facilitator does not allow-list.
STRANGERS = tuple(
    Pubkey.from_string(address)
    for address in (
        "Stake11111111111111111111111111111111111111",
        "AddressLookupTab1e1111111111111111111111111",
        "Config1111111111111111111111111111111111111",
    )
)


def _programs(policy: dict, key: str) -> set[Pubkey]:
    found = set()
    for address in policy.get(key) or []:
        try:
            found.add(Pubkey.from_string(address))
        except (TypeError, ValueError):
            continue
    return found


def _nothing(source: Pubkey, to: Pubkey) -> Instruction:
    """A System transfer of 0 lamports: an allow-listed instruction that moves nothing."""
    return transfer(TransferParams(from_pubkey=source, to_pubkey=to, lamports=0))


@scenario(
    "allow-listed-instructions",
    "Under --layout role-based --preflight-allow/--postflight-allow of the System program: a "
    "payment with a System instruction before and one after the transfer is paid once; an "
    "instruction of a program not on the list is refused unknown_instruction; an allow-listed "
    "one naming the fee payer is refused fee_payer_not_isolated; the refused move nothing.",
)
async def allow_listed_instructions(ctx: Context) -> str:
    policy = await verification_policy(ctx)
    before, after = _programs(policy, "preflightAllow"), _programs(policy, "postflightAllow")
    system = SYSTEM_PROGRAM_ID
    if policy["layout"] != "role-based" or system not in before or system not in after:
        raise Skip(
            f"needs a facilitator run as --layout role-based --preflight-allow {system} "
            f"--postflight-allow {system} (this one: layout {policy['layout']}, preflight "
            f"{sorted(map(str, before))}, postflight {sorted(map(str, after))})"
        )
    path = ctx.paid_path
    fee_payer = Pubkey.from_string(await ctx.fee_payer())
    payer = await ctx.new_payer()
    owner = payer.pubkey()
    flights = {"before": [_nothing(owner, owner)], "after": [_nothing(owner, owner)]}
    payment = await ctx.payment(path, payer, 2, "flight_instructions", **flights)
    signature = await paid_once(ctx, path, payer, payment)
    said = [f"System before and after: paid once, tx {signature[:12]}..."]

    stranger = next(program for program in STRANGERS if program not in before | after)
    payer = await ctx.new_payer()
    unknown = await ctx.payment(
        path, payer, 2, "flight_instructions", after=[Instruction(stranger, b"", [])]
    )
    said.append(
        await refused_through_server(ctx, path, payer, unknown, reasons.SVM_UNKNOWN_INSTRUCTION)
    )
    for block in ("before", "after"):
        payer = await ctx.new_payer()
        named = {block: [_nothing(payer.pubkey(), fee_payer)]}
        leaky = await ctx.payment(path, payer, 2, "flight_instructions", **named)
        reason = reasons.SVM_FLIGHT_FEE_PAYER_NOT_ISOLATED
        refused = await refused_through_server(ctx, path, payer, leaky, reason)
        said.append(f"fee payer named {block}: {refused.rsplit(': ', 1)[-1]}")
    return "; ".join(said)
