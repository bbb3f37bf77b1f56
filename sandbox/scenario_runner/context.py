"""What a scenario works with: the targets, fresh funded payers, payments, balances, faults.

Balances are always read from the chain. Payments are built with the payer's public API
(`sandbox.payer`), including its deliberate mutations; every request goes over real HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from multidict import CIMultiDict
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from sandbox.admin_guard import admin_headers
from sandbox.payer import ChainFacts, Payment, RpcClient, build_payment, read_challenge
from sandbox.payer.mutations import MUTATIONS
from sandbox.protocol import (
    PAYMENT_RESPONSE,
    X_PAYMENT_RESPONSE,
    AnyRequirements,
    PaymentRequirements,
    PaymentRequirementsV1,
    ProtocolError,
    SettleResponse,
    associated_token_address,
    decode_settle_response,
)
from sandbox.protocol.exact_svm.transaction import RUNTIME_MAX_COMPUTE_UNIT_LIMIT
from sandbox.protocol.programs import (
    COMPUTE_BUDGET_PROGRAM_ID,
    SET_COMPUTE_UNIT_LIMIT,
    SET_COMPUTE_UNIT_PRICE,
)
from sandbox.scenario_runner.framework import (
    CHEATS,
    FACILITATOR_FAULTS,
    SERVER_ROUTES,
    ScenarioFailed,
    Skip,
)

LAMPORTS_PER_SOL = 1_000_000_000
LAMPORTS_PER_SIGNATURE = 5000
DEFAULT_UNITS_PER_INSTRUCTION = 200_000
MAX_COMPUTE_UNITS = RUNTIME_MAX_COMPUTE_UNIT_LIMIT
DEFAULT_PAID_PATH = "/api/premium-content"


@dataclass
class Reply:
    """One HTTP answer, read whole."""

    status: int
    headers: CIMultiDict[str]
    body: bytes

    def json(self) -> Any:
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return None

    @property
    def receipt(self) -> SettleResponse | None:
        for name in (PAYMENT_RESPONSE, X_PAYMENT_RESPONSE):
            value = self.headers.get(name)
            if value:
                try:
                    return decode_settle_response(value, name)
                except ProtocolError:
                    return None
        return None

    @property
    def error(self) -> str:
        """The x402 reason or error text of a refusal, wherever the server put it."""
        data = self.json()
        if isinstance(data, dict):
            for key in ("error", "invalidReason", "errorReason", "reason"):
                if isinstance(data.get(key), str) and data[key]:
                    return data[key]
            detail = data.get("detail")
            if isinstance(detail, str):
                return detail
        receipt = self.receipt
        if receipt and receipt.error_reason:
            return receipt.error_reason
        return ""

    def describe(self) -> str:
        text = self.body[:160].decode(errors="replace")
        return f"HTTP {self.status}: {text}"


@dataclass(frozen=True)
class Balances:
    usdc: dict[str, int]
    sol: dict[str, int]


class Context:
    """Everything a scenario needs; one per run, shared by the scenarios of that run."""

    def __init__(
        self,
        server_url: str,
        facilitator_url: str,
        rpc_url: str,
        capabilities: set[str],
        session: aiohttp.ClientSession,
        admin_token: str | None = None,
        keypairs: list[Keypair] | None = None,
        paid_path: str = DEFAULT_PAID_PATH,
        amount_policy: str | None = None,
    ) -> None:
        self.server_url = server_url.rstrip("/")
        # The paid route every story that works on any x402 server uses (`--path`).
        self.paid_path = paid_path
        # "exact" or "at-least" (overpayment accepted): as the facilitator reports it in
        # /health or the user gives it (--amount-policy); None when nobody says.
        self.amount_policy = amount_policy
        self.facilitator_url = facilitator_url.rstrip("/")
        self.rpc_url = rpc_url
        self.capabilities = capabilities
        self.http = session
        self.admin_token = admin_token
        self.rpc = RpcClient(rpc_url, headers=self._admin_headers())
        self.facts = ChainFacts(self.rpc, blockhash_ttl=0.0)
        self._given_keypairs = itertools.cycle(keypairs) if keypairs else None
        self._fee_payer: str | None = None
        self._last_challenge: Any = None

    async def close(self) -> None:
        await self.rpc.close()

    # ------------------------------------------------------------ checks

    @staticmethod
    def expect(condition: object, message: str) -> None:
        if not condition:
            raise ScenarioFailed(message)

    def expect_status(self, reply: Reply, *codes: int) -> None:
        self.expect(reply.status in codes, f"expected HTTP {codes}, got {reply.describe()}")

    def expect_refusal(self, reply: Reply, reason: str | tuple[str, ...]) -> None:
        """A 402 (or 400) naming `reason` (a tuple accepts any of several spellings)."""
        wanted = (reason,) if isinstance(reason, str) else reason
        self.expect(reply.status in (400, 402), f"expected a refusal, got {reply.describe()}")
        got = reply.error
        self.expect(
            any(w in got for w in wanted), f"refused for {got!r}, expected {' or '.join(wanted)}"
        )

    # ------------------------------------------------------------ wallets and balances

    async def new_payer(self, usdc: float = 1.0, sol: float = 0.01) -> Keypair:
        """A fresh wallet with SOL and test USDC (cheat codes); a given keypair otherwise."""
        if CHEATS not in self.capabilities:
            if self._given_keypairs is None:
                raise Skip("needs funded wallets: pass --keypair for a chain without cheat codes")
            return next(self._given_keypairs)
        keypair = Keypair()
        owner = str(keypair.pubkey())
        if sol:
            await self.rpc.call("requestAirdrop", [owner, round(sol * LAMPORTS_PER_SOL)])
        await self.rpc.call("sandbox_mintTo", [owner, round(usdc * 1_000_000)])
        return keypair

    async def fee_payer(self) -> str:
        """The fee payer the paid route asks for (extra.feePayer), else the facilitator's."""
        if self._fee_payer is None:
            _reply, offer = await self.challenge(self.paid_path)
            hinted = (offer.extra or {}).get("feePayer")
            if isinstance(hinted, str) and hinted:
                self._fee_payer = hinted
                return hinted
            async with self.http.get(f"{self.facilitator_url}/supported") as response:
                data = await response.json(content_type=None)
            for kind in data.get("kinds", []):
                fee_payer = (kind.get("extra") or {}).get("feePayer")
                if fee_payer:
                    self._fee_payer = fee_payer
                    break
            else:
                raise ScenarioFailed("the facilitator's /supported names no feePayer")
        return self._fee_payer

    async def usdc(self, owner: str | Pubkey, mint: str | None = None) -> int:
        """Atomic USDC units the owner's associated token account holds (0 if none)."""
        mint_info = await self.facts.mint(mint or await self.usdc_mint())
        ata = associated_token_address(_pubkey(owner), mint_info.address, mint_info.token_program)
        result = await self.rpc.call(
            "getAccountInfo", [str(ata), {"encoding": "jsonParsed", "commitment": "processed"}]
        )
        value = result["value"]
        if not value:
            return 0
        return int(value["data"]["parsed"]["info"]["tokenAmount"]["amount"])

    async def sol(self, address: str | Pubkey) -> int:
        result = await self.rpc.call("getBalance", [str(address), {"commitment": "processed"}])
        return int(result["value"])

    async def usdc_mint(self) -> str:
        _reply, requirements = await self.challenge(self.paid_path)
        return requirements.asset

    async def snapshot(self, *, mint: str | None = None, **wallets: str | Pubkey) -> Balances:
        """SOL and token balances of `wallets`; the token is `mint` (default: the paid route's
        asset, which costs a 402 to learn), e.g. a payment's own requirements.asset."""
        mint = mint or await self.usdc_mint()
        usdc = {name: await self.usdc(addr, mint) for name, addr in wallets.items()}
        sol = {name: await self.sol(addr) for name, addr in wallets.items()}
        return Balances(usdc, sol)

    def expect_usdc_change(self, before: Balances, after: Balances, **change: int) -> None:
        for name, delta in change.items():
            got = after.usdc[name] - before.usdc[name]
            self.expect(got == delta, f"{name}'s USDC changed by {got}, expected {delta}")

    def expect_fee_paid(
        self, before: Balances, after: Balances, transaction: Any, name: str = "fee_payer"
    ) -> None:
        """`name` paid at most `transaction`'s fee in SOL (once), and no USDC."""
        self.expect_usdc_change(before, after, **{name: 0})
        bound = max_fee(transaction.message)
        spent = before.sol[name] - after.sol[name]
        self.expect(
            0 <= spent <= bound,
            f"the fee payer's SOL went down by {spent} lamports; one transaction fee is at most "
            f"{bound} ({LAMPORTS_PER_SIGNATURE} a signature plus the priority fee)",
        )

    # ------------------------------------------------------------ HTTP

    async def request(
        self, path: str, headers: dict[str, str] | None = None, method: str = "GET"
    ) -> Reply:
        url = path if path.startswith("http") else f"{self.server_url}{path}"
        async with self.http.request(method, url, headers=headers or {}) as response:
            body = await response.read()
            return Reply(response.status, CIMultiDict(response.headers), body)

    async def challenge(self, path: str, version: int = 2) -> tuple[Reply, AnyRequirements]:
        """GET `path` unpaid; the 402 and the offer of the wanted version."""
        reply = await self.request(path)
        self.expect_status(reply, 402)
        challenge = read_challenge(reply.headers, reply.body, version=version)
        self.expect(challenge is not None, f"402 without a readable challenge: {reply.describe()}")
        offers = [
            offer
            for offer in challenge.accepts
            if isinstance(offer, PaymentRequirements if version == 2 else PaymentRequirementsV1)
        ]
        if not offers and SERVER_ROUTES not in self.capabilities:
            # A user's server may speak only one protocol version; ours must speak both.
            raise Skip(f"{path} offers no x402 v{version} payment")
        self.expect(offers, f"the 402 offers no v{version} requirements")
        self._last_challenge = challenge
        return reply, offers[0]

    async def payment(
        self,
        path: str,
        payer: Keypair,
        version: int = 2,
        mutation: str | None = None,
        *,
        fresh_blockhash: bool = False,
        answering: Payment | None = None,
        payment_id: str | None = None,
        **knobs: Any,
    ) -> Payment:
        """Answer `path`'s challenge with a payment (correct, or broken by `mutation`).

        The blockhash is the challenge's hint when it has one; `fresh_blockhash` asks the chain
        instead (a new transaction even when the server's hint has not changed). `answering`
        re-answers the offer an earlier payment answered (a replay) instead of a new challenge.
        `payment_id`: the payment-identifier the payment carries (v2, unmutated payments).
        """
        if answering is not None:
            requirements = answering.requirements
            resource = answering.wire.get("resource")
        else:
            _reply, requirements = await self.challenge(path, version)
            resource = getattr(self._last_challenge, "resource", None)
        mint = await self.facts.mint(requirements.asset)
        hinted = (requirements.extra or {}).get("recentBlockhash")
        blockhash = None if hinted and not fresh_blockhash else await self.facts.blockhash()
        if fresh_blockhash:
            blockhash = await self.newer_blockhash(str(blockhash))
        if mutation is None:
            return build_payment(
                requirements, payer, mint, blockhash, resource=resource, payment_id=payment_id
            )
        build = MUTATIONS[mutation]
        return build(requirements, payer, mint, blockhash, resource=resource, **knobs)

    def declared(self, extension: str) -> dict | None:
        """What the last challenge declares under `extensions[extension]` (None: nothing)."""
        extensions = getattr(self._last_challenge, "extensions", None) or {}
        return extensions.get(extension)

    async def newer_blockhash(self, old: str, wait: float = 3.0) -> Any:
        """A blockhash other than `old`: the next slot's (advanced by cheat code if possible)."""
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            if CHEATS in self.capabilities:
                await self.rpc.call("sandbox_advanceSlots", [1])
            self.facts.forget_blockhash()
            blockhash = await self.facts.blockhash()
            if str(blockhash) != old or asyncio.get_running_loop().time() > deadline:
                return blockhash
            await asyncio.sleep(0.1)

    async def pay(
        self, path: str, payer: Keypair, version: int = 2, mutation: str | None = None, **knobs: Any
    ) -> tuple[Reply, Payment]:
        payment = await self.payment(path, payer, version, mutation, **knobs)
        return await self.request(path, payment.headers), payment

    async def transaction_on_chain(self, signature: str) -> dict[str, Any] | None:
        result = await self.rpc.call(
            "getTransaction",
            [signature, {"encoding": "json", "maxSupportedTransactionVersion": 0,
                         "commitment": "confirmed"}],
        )  # fmt: skip
        return result

    # ------------------------------------------------------------ faults

    def _admin_headers(self) -> dict[str, str]:
        return admin_headers(self.admin_token)

    async def set_facilitator_faults(self, faults: list[dict[str, Any]]) -> None:
        if FACILITATOR_FAULTS not in self.capabilities:
            raise Skip("needs the sandbox facilitator's fault injection")
        url = f"{self.facilitator_url}/_sandbox/faults"
        body = {"faults": faults}
        async with self.http.post(url, json=body, headers=self._admin_headers()) as response:
            if response.status != 200:
                raise ScenarioFailed(f"could not set faults: HTTP {response.status}")

    @contextlib.asynccontextmanager
    async def facilitator_faults(self, *faults: dict[str, Any]) -> AsyncIterator[None]:
        await self.set_facilitator_faults(list(faults))
        try:
            yield
        finally:
            await self.set_facilitator_faults([])

    @contextlib.asynccontextmanager
    async def chain_faults(self, **faults: float) -> AsyncIterator[None]:
        if CHEATS not in self.capabilities:
            raise Skip("needs the sandbox chain's fault injection")
        await self.rpc.call("sandbox_setFaults", [faults])
        try:
            yield
        finally:
            await self.rpc.call(
                "sandbox_setFaults",
                [{"latencyMs": 0, "dropRate": 0, "lateConfirmMs": 0, "errorRate": 0}],
            )


def max_fee(message: Any) -> int:
    """The most a transaction with this message can cost its fee payer: the base fee per
    signature plus the priority fee its compute-budget instructions ask (as validators charge)."""
    keys = message.account_keys
    unit_limit, unit_price, others = None, 0, 0
    for ix in message.instructions:
        data = bytes(ix.data)
        if keys[ix.program_id_index] == COMPUTE_BUDGET_PROGRAM_ID and data:
            if data[0] == SET_COMPUTE_UNIT_LIMIT and len(data) >= 5:
                unit_limit = int.from_bytes(data[1:5], "little")
            elif data[0] == SET_COMPUTE_UNIT_PRICE and len(data) >= 9:
                unit_price = int.from_bytes(data[1:9], "little")
        else:
            others += 1
    if unit_limit is None:
        unit_limit = DEFAULT_UNITS_PER_INSTRUCTION * others
    priority = -(-unit_price * min(unit_limit, MAX_COMPUTE_UNITS) // 1_000_000)  # rounded up
    return LAMPORTS_PER_SIGNATURE * message.header.num_required_signatures + priority


def _pubkey(value: str | Pubkey) -> Pubkey:
    return value if isinstance(value, Pubkey) else Pubkey.from_string(value)
