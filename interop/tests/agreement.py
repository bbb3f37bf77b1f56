"""Judging the broken-payment table (interop/agreement.json) with both facilitators.

A case is built by our payer (`build.mutation` from sandbox.payer.mutations, or a correct
payment) and sent to our facilitator and to the SDK's, which share one fee-payer key on one chain.

- verify cases: the very same request body goes to both (verify changes nothing on chain, so
  every verify case can use the same payer);
- settle cases change the chain, so each facilitator gets its own equivalent payment from its
  own fresh payer, and the case's setup (a first settle, a drained account) is run against that
  facilitator only.

A verdict is {"decision", "reason", "message"}: verify -> valid | invalid (invalidReason),
settle -> settled | failed (errorReason), any non-200 -> rejected ("http <status>").
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from solders.hash import Hash
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from sandbox.chain.testing import RunningChain
from sandbox.orchestration.rpc import ChainRpc
from sandbox.payer import MintInfo, Payment, build_payment
from sandbox.payer.mutations import MUTATIONS
from sandbox.protocol import (
    SOLANA_DEVNET,
    USDC_DEVNET_MINT,
    AnyRequirements,
    PaymentRequirements,
    PaymentRequirementsV1,
    associated_token_address,
    to_v1,
)
from sandbox.protocol.programs import LIGHTHOUSE_PROGRAM_ID, MEMO_PROGRAM_ID

__all__ = [
    "MINT",
    "SETTLE_SETUPS",
    "TABLE_PATH",
    "Judge",
    "Offer",
    "Side",
    "differences",
    "fund",
    "judge_on",
    "latest_blockhash",
    "load_table",
    "payment_body",
    "record",
    "token_account",
    "verdict_of",
]

TABLE_PATH = Path(__file__).resolve().parents[1] / "agreement.json"
SIDES = ("ours", "sdk")
# Our facilitator once more, run as `--layout role-based` (the reference verifier's main branch):
# observed and held to the table like the two sides, compared with `ours` (roleBased says why
# where they differ).
ROLE_BASED = "oursRoleBased"
OBSERVED = (*SIDES, ROLE_BASED)
MESSAGE_CHARS = 300  # messages are informative only (never compared); keep the file readable
MINT = MintInfo(Pubkey.from_string(USDC_DEVNET_MINT), 6)  # the chain's test USDC


def load_table() -> dict[str, Any]:
    return json.loads(TABLE_PATH.read_text())


@dataclass(frozen=True)
class Offer:
    """What every case is paying for: 0.01 test USDC to `pay_to`, fees by `fee_payer`."""

    asset: str
    pay_to: str
    fee_payer: str
    amount: int = 10_000

    def requirements(self, version: int, extra: dict[str, Any] | None = None) -> AnyRequirements:
        """v1 or v2 requirements; `extra` is merged over {"feePayer": ...} (a case's `offer`)."""
        v2 = PaymentRequirements(
            scheme="exact",
            network=SOLANA_DEVNET,
            amount=str(self.amount),
            asset=self.asset,
            pay_to=self.pay_to,
            max_timeout_seconds=60,
            extra={"feePayer": self.fee_payer, **(extra or {})},
        )
        if version == 2:
            return v2
        return PaymentRequirementsV1(
            scheme="exact",
            network=to_v1(v2.network),
            max_amount_required=v2.amount,
            resource="http://127.0.0.1/api/premium-content",
            description="agreement table",
            mime_type="application/json",
            pay_to=v2.pay_to,
            max_timeout_seconds=v2.max_timeout_seconds,
            asset=v2.asset,
            extra=v2.extra,
        )


def payment_body(
    rpc: ChainRpc, owner: Keypair, asset: str, pay_to: str, fee_payer: str
) -> dict[str, Any]:
    """A correct v2 payment of the Offer by `owner`, on the chain's latest blockhash, as the
    body of a facilitator's /verify or /settle."""
    requirements = Offer(asset, pay_to, fee_payer).requirements(2)
    blockhash = rpc.call("getLatestBlockhash")["value"]["blockhash"]
    mint = MintInfo(Pubkey.from_string(asset), 6)
    return build_payment(requirements, owner, mint, blockhash).facilitator_body()


def build(
    case: dict[str, Any], offer: Offer, owner: Keypair, mint: MintInfo, blockhash: Hash, **more
) -> Payment:
    """The case's payment: `build.mutation(**build.args)` or a correct one (`build.args` then
    being build_payment's keywords), for the offer with the case's `offer.extra` merged in."""
    requirements = offer.requirements(case["x402Version"], case.get("offer", {}).get("extra"))
    mutation, args = case["build"]["mutation"], {**case["build"]["args"], **more}
    if mutation is None:
        return build_payment(requirements, owner, mint, blockhash, **args)
    return MUTATIONS[mutation](requirements, owner, mint, blockhash, **args)


def verdict_of(endpoint: str, response: httpx.Response) -> dict[str, Any]:
    """A facilitator's answer reduced to what the table compares (plus the message)."""
    if response.status_code != 200:
        try:
            message = json.dumps(response.json())
        except ValueError:
            message = response.text
        status = f"http {response.status_code}"
        return {"decision": "rejected", "reason": status, "message": message[:MESSAGE_CHARS]}
    body = response.json()
    if endpoint == "verify":
        ok, reason, text = (body.get(k) for k in ("isValid", "invalidReason", "invalidMessage"))
        decision = "valid" if ok is True else "invalid"
    else:
        ok, reason, text = (body.get(k) for k in ("success", "errorReason", "errorMessage"))
        decision = "settled" if ok is True else "failed"
    return {
        "decision": decision,
        "reason": None if ok is True else reason,
        "message": str(text)[:MESSAGE_CHARS] if text else None,
    }


@dataclass
class Side:
    """One facilitator as the table sees it: where it listens and a payer factory for it."""

    name: str
    url: str
    new_payer: Callable[[], Awaitable[Keypair]]


class Judge:
    """Runs every case of the table against both sides concurrently."""

    def __init__(
        self,
        offer: Offer,
        mint: MintInfo,
        blockhash: Hash,
        verify_payer: Keypair,
        fresh_blockhash: Callable[[], Awaitable[Hash]],
        sides: list[Side],
        drain_on_send: Callable[[str], None],
        token_account: Callable[[Keypair], str],
    ) -> None:
        self.offer, self.mint, self.blockhash = offer, mint, blockhash
        self.verify_payer = verify_payer
        self.fresh_blockhash = fresh_blockhash  # a blockhash newer than `blockhash`
        self.sides = sides
        self.drain_on_send = drain_on_send
        self.token_account = token_account

    def run(self, cases: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
        """{case id: {"ours": verdict, "sdk": verdict}}."""
        return asyncio.run(self._run(cases))

    async def _run(self, cases: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(timeout=90, limits=limits) as http:
            jobs = [self._judge(http, case) for case in cases]
            results = await asyncio.gather(*jobs)
        return {case["id"]: result for case, result in zip(cases, results, strict=True)}

    async def _judge(self, http: httpx.AsyncClient, case: dict[str, Any]) -> dict[str, Any]:
        if case["endpoint"] == "verify":
            payment = build(case, self.offer, self.verify_payer, self.mint, self.blockhash)
            body = payment.facilitator_body()
            answers = await asyncio.gather(
                *(http.post(f"{side.url}/verify", json=body) for side in self.sides)
            )
            pairs = zip(self.sides, answers, strict=True)
            return {side.name: verdict_of("verify", answer) for side, answer in pairs}
        setup = SETTLE_SETUPS.get(case["id"])
        if setup is None:
            raise LookupError(f"settle case {case['id']!r} has no setup in SETTLE_SETUPS")
        answers = await asyncio.gather(*(setup(self, http, side, case) for side in self.sides))
        return {s.name: a for s, a in zip(self.sides, answers, strict=True)}

    # ------------------------------------------------------------ settle cases, one side each

    async def settle(self, http: httpx.AsyncClient, side: Side, payment: Payment) -> dict:
        response = await http.post(f"{side.url}/settle", json=payment.facilitator_body())
        return verdict_of("settle", response)

    async def _first_settled(
        self, http: httpx.AsyncClient, side: Side, owner: Keypair, case: dict[str, Any]
    ) -> Payment:
        first = build(
            {**case, "build": {"mutation": None, "args": {}}},
            self.offer,
            owner,
            self.mint,
            self.blockhash,
        )
        verdict = await self.settle(http, side, first)
        if verdict["decision"] != "settled":
            raise AssertionError(f"{side.name}: the setup payment was not settled: {verdict}")
        return first


async def _reused_memo(judge: Judge, http, side: Side, case: dict[str, Any]) -> dict:
    owner = await side.new_payer()
    first = await judge._first_settled(http, side, owner, case)
    # On a newer blockhash: otherwise the "new" payment would be the very same message.
    newer = await judge.fresh_blockhash()
    second = build(case, judge.offer, owner, judge.mint, newer, memo=first.memo)
    return await judge.settle(http, side, second)


async def _duplicate_settle(judge: Judge, http, side: Side, case: dict[str, Any]) -> dict:
    owner = await side.new_payer()
    payment = await judge._first_settled(http, side, owner, case)
    return await judge.settle(http, side, payment)


async def _landed_but_failed(judge: Judge, http, side: Side, case: dict[str, Any]) -> dict:
    owner = await side.new_payer()
    payment = build(case, judge.offer, owner, judge.mint, judge.blockhash)
    judge.drain_on_send(judge.token_account(owner))
    return await judge.settle(http, side, payment)


SETTLE_SETUPS: dict[str, Callable[..., Awaitable[dict[str, Any]]]] = {
    "reused-memo": _reused_memo,
    "duplicate-settle": _duplicate_settle,
    "landed-but-failed": _landed_but_failed,
}


# ------------------------------------------------------------ the table on a sandbox chain


def token_account(owner: Keypair) -> str:
    return str(associated_token_address(owner.pubkey(), MINT.address))


def fund(chain: RunningChain, owner: Keypair) -> Keypair:
    """1 SOL and 10 test USDC."""
    chain.rpc("requestAirdrop", str(owner.pubkey()), 1_000_000_000)
    chain.rpc("sandbox_mintTo", str(owner.pubkey()), 10_000_000)
    return owner


def latest_blockhash(chain: RunningChain) -> Hash:
    return Hash.from_string(chain.rpc("getLatestBlockhash")["value"]["blockhash"])


def judge_on(
    chain: RunningChain,
    fee_payer: str,
    sides: dict[str, str],
    drain_on_send: Callable[[str], None],
) -> Judge:
    """A Judge for facilitators (`sides`: name -> URL) that share `fee_payer` on `chain`:
    a fresh payTo, one funded payer for every verify case and a fresh one per settle case.
    The chain gets a no-op stand-in at Lighthouse's address (install_lighthouse_stand_in)."""
    install_lighthouse_stand_in(chain)
    pay_to = Keypair()
    chain.rpc("sandbox_mintTo", str(pay_to.pubkey()), 0)  # payTo's token account
    verify_payer = fund(chain, Keypair())
    start_blockhash = latest_blockhash(chain)

    async def new_payer() -> Keypair:
        return await asyncio.to_thread(fund, chain, Keypair())

    def fresh_blockhash() -> Hash:
        # The chain's blockhash clock ticks every 400 ms whatever the slots do; advancing
        # one slot issues a new blockhash at once.
        chain.rpc("sandbox_advanceSlots", 1)
        fresh = latest_blockhash(chain)
        assert fresh != start_blockhash, "the blockhash did not move"
        return fresh

    return Judge(
        Offer(USDC_DEVNET_MINT, str(pay_to.pubkey()), fee_payer),
        MINT,
        start_blockhash,
        verify_payer,
        lambda: asyncio.to_thread(fresh_blockhash),
        [Side(name, url, new_payer) for name, url in sides.items()],
        drain_on_send,
        token_account,
    )


def install_lighthouse_stand_in(chain: RunningChain) -> None:
    """The sandbox chain ships no Lighthouse: a copy of the Memo program at its address asserts
    nothing and moves nothing, as a passing wallet guard (the verifiers judge the program id)."""
    memo = chain.rpc("getAccountInfo", str(MEMO_PROGRAM_ID), {"encoding": "base64"})["value"]
    account = {
        "lamports": memo["lamports"], "data": memo["data"][0], "owner": memo["owner"],
        "executable": True,
    }  # fmt: skip
    chain.rpc("sandbox_setAccount", str(LIGHTHOUSE_PROGRAM_ID), account)


def differences(case: dict[str, Any], observed: dict[str, Any], compare: list[str]) -> list[str]:
    """Where what was observed differs from what the table says (compared fields only)."""
    problems = []
    for side in (s for s in OBSERVED if s in observed):
        recorded, seen = case.get(side), observed[side]
        if recorded is None or any(recorded.get(k) != seen.get(k) for k in compare):
            shown = {k: seen.get(k) for k in compare}
            problems.append(f"{case['id']}: {side} recorded {recorded}, observed {shown}")
    return problems


def record(table: dict[str, Any], observed: dict[str, dict[str, Any]]) -> None:
    """Write the observed verdicts into agreement.json (X402_INTEROP_RECORD=1). Divergence
    explanations stay as they are: a new difference still needs a human to write one."""
    for case in table["cases"]:
        if case["id"] in observed:
            for side in OBSERVED:
                if side in observed[case["id"]]:
                    case[side] = observed[case["id"]][side]
    TABLE_PATH.write_text(json.dumps(table, indent=2, ensure_ascii=False) + "\n")
