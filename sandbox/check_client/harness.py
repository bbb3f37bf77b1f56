"""One case, end to end: a fresh funded payer, the case's server (and facilitator faults), the
client run once, then the evidence read from the server's log and the chain, and the judgement.
"""

from __future__ import annotations

import asyncio
import base64
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from sandbox.admin_guard import admin_headers
from sandbox.check_client.case_server import CaseServer
from sandbox.check_client.cases import Case
from sandbox.check_client.client_run import client_env, render, run_client
from sandbox.check_client.evidence import ChainTx, Evidence, Offer, tx_facts
from sandbox.check_client.target import HarnessError, Target
from sandbox.orchestration.wallets import write_keypair
from sandbox.payer import ChainFacts, RpcClient, RpcError
from sandbox.protocol import SOLANA_MAINNET, associated_token_address

__all__ = ["CaseResult", "run_cases"]

PAYER_SOL = 100_000_000  # 0.1 SOL: enough for a client that (wrongly) pays its own fees
SETTLE_WAIT = 10.0  # seconds to wait for what the chain processed to be confirmed


@dataclass
class CaseResult:
    case: Case
    passed: bool
    message: str
    evidence: Evidence

    def to_json(self) -> dict[str, Any]:
        return {
            "case": self.case.name,
            "level": self.case.level,
            "must": self.case.must,
            "passed": self.passed,
            "message": self.message,
            "evidence": self.evidence.to_json(),
        }


class _Chain:
    """The chain as the judge reads it, and the cheat codes that fund a payer."""

    def __init__(self, target: Target) -> None:
        self.rpc = RpcClient(target.rpc_url, headers=admin_headers(target.admin_token))
        self.facts = ChainFacts(self.rpc, blockhash_ttl=0.0)
        self.asset = target.asset

    async def close(self) -> None:
        await self.rpc.close()

    async def fund(self, owner: str, usdc: int) -> None:
        try:
            await self.rpc.call("requestAirdrop", [owner, PAYER_SOL])
            await self.rpc.call("sandbox_mintTo", [owner, usdc])
        except RpcError as exc:
            raise HarnessError(
                f"could not fund a payer with the chain's cheat codes ({exc}); with "
                "--use-running the stack must be the sandbox's own chain and its admin token "
                "readable (.sandbox/admin-token or X402_SANDBOX_ADMIN_TOKEN)"
            ) from None

    async def expired_blockhash(self) -> tuple[str, int]:
        """A blockhash the chain just expired, with its lastValidBlockHeight (now passed)."""
        latest = (await self.rpc.call("getLatestBlockhash", [{"commitment": "processed"}]))["value"]
        try:
            await self.rpc.call("sandbox_expireBlockhashes", [])
        except RpcError as exc:
            raise HarnessError(f"could not expire the chain's blockhashes ({exc})") from None
        return latest["blockhash"], int(latest["lastValidBlockHeight"])

    async def ata(self, owner: str) -> str:
        mint = await self.facts.mint(self.asset)
        owner_key = Pubkey.from_string(owner)
        return str(associated_token_address(owner_key, mint.address, mint.token_program))

    async def balances(self, owner: str, commitment: str = "processed") -> tuple[int, int]:
        """(USDC atomic units, lamports) of `owner`."""
        config = {"commitment": commitment}
        sol = (await self.rpc.call("getBalance", [owner, config]))["value"]
        try:
            token = await self.rpc.call("getTokenAccountBalance", [await self.ata(owner), config])
            usdc = int(token["value"]["amount"])
        except RpcError:
            usdc = 0  # no token account
        return usdc, int(sol)

    async def settled_balances(self, owner: str) -> tuple[int, int]:
        """The balances once everything processed is confirmed (the signature list of
        getSignaturesForAddress starts at confirmed)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_WAIT
        while True:
            processed = await self.balances(owner, "processed")
            if processed == await self.balances(owner, "confirmed") or loop.time() > deadline:
                return processed
            await asyncio.sleep(0.05)

    async def wait_for(self, signatures: list[str]) -> None:
        """Until each signature is confirmed (or failed): a settlement answered pending is
        judged once the chain has decided it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_WAIT
        while signatures and loop.time() < deadline:
            try:
                result = await self.rpc.call(
                    "getSignatureStatuses", [signatures, {"searchTransactionHistory": True}]
                )
            except RpcError:
                return  # a receipt naming no valid signature: nothing to wait for
            statuses = result["value"]
            if all(
                s and (s.get("err") or s.get("confirmationStatus") in ("confirmed", "finalized"))
                for s in statuses
            ):
                return
            await asyncio.sleep(0.05)

    async def transactions(self, owner: str) -> list[ChainTx]:
        """Every transaction `owner` signed, oldest first, decoded (the cheat codes that funded
        it name it too, unsigned)."""
        listed = await self.rpc.call(
            "getSignaturesForAddress", [owner, {"commitment": "confirmed", "limit": 1000}]
        )
        found = []
        for entry in reversed(listed):
            result = await self.rpc.call(
                "getTransaction",
                [entry["signature"], {"encoding": "base64", "commitment": "confirmed",
                                      "maxSupportedTransactionVersion": 0}],
            )  # fmt: skip
            if not result:
                continue
            raw = base64.b64decode(result["transaction"][0])
            facts = tx_facts(VersionedTransaction.from_bytes(raw))
            if owner not in facts.signers:
                continue
            err = (result.get("meta") or {}).get("err", entry.get("err"))
            found.append(ChainTx(**vars(facts), slot=int(result.get("slot") or 0), err=err))
        return found


async def _facilitator_records(target: Target, payer: str) -> list[dict[str, Any]]:
    """The facilitator's settlements and refusals of `payer`'s payments, oldest first (its
    recent history: the newest 1000 of each)."""
    base = target.facilitator_url.rstrip("/")
    records: list[dict[str, Any]] = []
    async with aiohttp.ClientSession(headers=admin_headers(target.admin_token)) as session:
        for path, key in (("settlements", "settlements"), ("rejections", "rejections")):
            async with session.get(f"{base}/_sandbox/{path}", params={"limit": "1000"}) as answer:
                if answer.status != 200:
                    return []  # not the sandbox's facilitator: judged without its records
                items = (await answer.json()).get(key, [])
            for item in items:
                if item.get("payer") != payer:
                    continue
                operation = item.get("operation", "settle")
                if operation == "settle" and key == "rejections":
                    continue  # a refused settle is in the settlements already
                records.append(
                    {
                        "time": item.get("time", 0.0),
                        "operation": operation,
                        "success": item.get("success", False),
                        "reason": item.get("reason"),
                        "message": item.get("message"),
                        "transaction": item.get("transaction"),
                    }
                )
    return sorted(records, key=lambda record: record["time"])


async def _set_faults(target: Target, faults: list[dict[str, Any]]) -> None:
    url = f"{target.facilitator_url.rstrip('/')}/_sandbox/faults"
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            url, json={"faults": faults}, headers=admin_headers(target.admin_token)
        ) as response,
    ):
        if response.status != 200:
            raise HarnessError(
                f"the facilitator refused its fault injection (HTTP {response.status} from "
                f"{url}): with --use-running it must be the sandbox's facilitator and the admin "
                "token readable"
            )


async def _run_case(
    case: Case,
    target: Target,
    chain: _Chain,
    command: list[str],
    timeout: float,
    work: Path,
    route_binding: str,
) -> CaseResult:
    keypair = Keypair()
    payer = str(keypair.pubkey())
    keypair_file = work / f"{case.name}-payer.json"
    write_keypair(keypair_file, keypair)
    await chain.fund(payer, case.usdc)
    evidence = Evidence(case=case.name, payer=payer)
    evidence.usdc_before, evidence.sol_before = await chain.settled_balances(payer)
    hint = await chain.expired_blockhash() if case.stale_hint else None
    server = CaseServer(
        case,
        facilitator_url=target.facilitator_url,
        rpc_url=target.rpc_url,
        network=target.network,
        asset=target.asset,
        pay_to=target.merchant,
        hint=hint,
        route_binding=route_binding,
    )
    await server.start()
    try:
        evidence.offer = Offer(
            amount=case.price,
            asset=target.asset,
            pay_to=target.merchant,
            recipient=await chain.ata(target.merchant),
            network=SOLANA_MAINNET if case.disguise else target.network,
            fee_payer=server.fee_payer,
            blockhash_hint=hint[0] if hint else "",
        )
        if case.faults:
            await _set_faults(target, list(case.faults))
        try:
            values = {
                "url": server.url,
                "rpc": target.rpc_url,
                "keypair": str(keypair_file),
                "network": target.network,
            }
            run = await run_client(render(command, values), client_env(values), timeout)
        finally:
            if case.faults:
                await _set_faults(target, [])
    finally:
        await server.stop()
    evidence.requests = server.log
    evidence.exit_code, evidence.timed_out = run.exit_code, run.timed_out
    evidence.seconds, evidence.output = run.seconds, run.output
    receipts = [r.receipt.get("transaction") for r in server.log if r.receipt]
    await chain.wait_for([sig for sig in receipts if isinstance(sig, str) and sig])
    evidence.usdc_after, evidence.sol_after = await chain.settled_balances(payer)
    evidence.transactions = await chain.transactions(payer)
    evidence.facilitator = await _facilitator_records(target, payer)
    passed, message = case.judge(evidence)
    return CaseResult(case, passed, message, evidence)


async def run_cases(
    cases: list[Case],
    target: Target,
    command: list[str],
    timeout: float,
    progress: Callable[[CaseResult], None] = lambda _result: None,
    route_binding: str = "memo",
) -> list[CaseResult]:
    """Each case in turn (they share the facilitator, whose faults one case sets).
    route_binding none: offers without extra.memo (but in the memo case), so that a client
    that copies no memo is judged on the other cases too."""
    chain = _Chain(target)
    results = []
    try:
        with tempfile.TemporaryDirectory(prefix="x402-check-client-keys-") as work:
            for case in cases:
                result = await _run_case(
                    case, target, chain, command, timeout, Path(work), route_binding
                )
                progress(result)
                results.append(result)
    finally:
        await chain.close()
    return results
