"""Find the scenarios, probe what the target can do, run them one by one, report."""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
import time
import traceback
from dataclasses import asdict, dataclass
from xml.etree import ElementTree

import aiohttp

from sandbox.admin_guard import admin_headers
from sandbox.scenario_runner.context import DEFAULT_PAID_PATH, Context
from sandbox.scenario_runner.framework import (
    CHEATS,
    FACILITATOR_FAULTS,
    NEEDS_TEXT,
    REGISTRY,
    SERVER_ROUTES,
    Scenario,
    ScenarioFailed,
    Skip,
)


@dataclass
class Result:
    """One scenario's outcome; a skipped scenario has neither passed nor failed."""

    name: str
    story: str
    passed: bool
    skipped: bool
    seconds: float
    detail: str
    # Failed by a crash or a timeout rather than by an expectation the story states.
    crashed: bool = False

    @property
    def status(self) -> str:
        return "skipped" if self.skipped else ("passed" if self.passed else "failed")

    @property
    def failed(self) -> bool:
        return not self.passed and not self.skipped

    @property
    def outcome(self) -> str:
        """The status as the table shows it (failures shouted)."""
        return "FAILED" if self.failed else self.status


SAMPLE_ROUTES = ("/api/upfront", "/api/broken", "/api/inference?tokens=250")


def discover() -> dict[str, Scenario]:
    """Import every module of the `scenarios` package; each registers its scenarios."""
    import scenarios

    for module in pkgutil.iter_modules(scenarios.__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"scenarios.{module.name}")
    return dict(sorted(REGISTRY.items()))


async def probe(
    session: aiohttp.ClientSession, server: str, facilitator: str, rpc: str, token: str | None
) -> set[str]:
    """Which sandbox-only powers the targets have (a user's own server has none of ours)."""
    found: set[str] = set()
    timeout = aiohttp.ClientTimeout(total=3)
    body = {"jsonrpc": "2.0", "id": 1, "method": "sandbox_getInfo", "params": []}
    headers = admin_headers(token)
    try:
        async with session.post(rpc, json=body, headers=headers, timeout=timeout) as response:
            if "result" in await response.json(content_type=None):
                found.add(CHEATS)
    except (aiohttp.ClientError, TimeoutError, ValueError):
        pass
    try:
        url = f"{facilitator}/_sandbox/faults"
        async with session.get(url, headers=headers, timeout=timeout) as response:
            if response.status == 200:
                found.add(FACILITATOR_FAULTS)
    except (aiohttp.ClientError, TimeoutError):
        pass
    # Only the sample server asks payment on all of its special routes.
    try:
        for path in SAMPLE_ROUTES:
            async with session.get(f"{server}{path}", timeout=timeout) as response:
                if response.status != 402:
                    break
        else:
            found.add(SERVER_ROUTES)
    except (aiohttp.ClientError, TimeoutError):
        pass
    return found


async def reported_amount_policy(session: aiohttp.ClientSession, facilitator: str) -> str | None:
    """The amount policy the facilitator says it runs with: /health `amountPolicy`, or an
    `amountPolicy` in a /supported kind's extra; None if it says nothing."""
    timeout = aiohttp.ClientTimeout(total=3)
    for path in ("/health", "/supported"):
        try:
            async with session.get(f"{facilitator}{path}", timeout=timeout) as response:
                data = await _json(response)
        except (aiohttp.ClientError, TimeoutError):
            continue
        if not isinstance(data, dict):
            continue
        kinds = data.get("kinds") if isinstance(data.get("kinds"), list) else []
        for found in [data, *((k or {}).get("extra") or {} for k in kinds if isinstance(k, dict))]:
            policy = found.get("amountPolicy") if isinstance(found, dict) else None
            if isinstance(policy, str) and policy:
                return policy
    return None


async def check_targets(
    server: str, paid_path: str, facilitator: str, rpc: str, wait: float = 5.0
) -> str | None:
    """Why the targets cannot be used at all (one line naming the URL and the flag), or None.

    Without this a dead target makes every story skip or fail for the same dull reason.
    """
    timeout = aiohttp.ClientTimeout(total=wait)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        url = f"{server}{paid_path}"
        try:
            async with session.get(url) as response:
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            return f"cannot reach the server at {server} ({_why(exc)}): pass --server URL"
        if status != 402:
            return (
                f"GET {url} answered HTTP {status}, not 402 Payment Required: "
                "pass --path with a paid route of that server"
            )

        try:
            async with session.get(f"{facilitator}/supported") as response:
                status = response.status
                answer = await _json(response)
        except (aiohttp.ClientError, TimeoutError) as exc:
            why = _why(exc)
            return f"cannot reach the facilitator at {facilitator} ({why}): pass --facilitator URL"
        if status != 200 or not (isinstance(answer, dict) and answer.get("kinds")):
            return (
                f"{facilitator} is not an x402 facilitator (GET /supported answered "
                f"HTTP {status} without kinds): pass --facilitator URL"
            )

        body = {"jsonrpc": "2.0", "id": 1, "method": "getVersion", "params": []}
        try:
            async with session.post(rpc, json=body) as response:
                status = response.status
                answer = await _json(response)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return f"cannot reach the Solana JSON-RPC at {rpc} ({_why(exc)}): pass --rpc URL"
        if not (isinstance(answer, dict) and "result" in answer):
            return (
                f"{rpc} is not a Solana JSON-RPC (getVersion answered HTTP {status}): "
                "pass --rpc URL"
            )
    return None


async def _json(response: aiohttp.ClientResponse) -> object:
    try:
        return await response.json(content_type=None)
    except ValueError:
        return None


def _why(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, aiohttp.InvalidURL):
        return "not a valid URL"
    cause = getattr(exc, "os_error", None)
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    return str(cause or exc) or type(exc).__name__


async def run_one(item: Scenario, ctx: Context, timeout: float) -> Result:
    started = time.perf_counter()
    missing = item.needs - ctx.capabilities
    if missing:
        needs = " and ".join(NEEDS_TEXT[need] for need in sorted(missing))
        return Result(item.name, item.story, False, True, 0.0, f"needs {needs}")
    crashed = False
    try:
        detail = await asyncio.wait_for(item.fn(ctx), timeout)
        passed, skipped, detail = True, False, detail or "ok"
    except Skip as exc:
        passed, skipped, detail = False, True, str(exc)
    except ScenarioFailed as exc:
        passed, skipped, detail = False, False, str(exc)
    except TimeoutError:
        passed, skipped, detail = False, False, f"did not finish within {timeout:.0f}s"
        crashed = True
    except Exception as exc:  # a crash is a failure with its cause, not a crash of the runner
        last = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno}"
        passed, skipped, detail = False, False, f"{type(exc).__name__} at {where}: {exc}"
        crashed = True
    seconds = time.perf_counter() - started
    return Result(item.name, item.story, passed, skipped, seconds, detail, crashed)


async def run(
    selected: list[Scenario],
    server: str,
    facilitator: str,
    rpc: str,
    admin_token: str | None = None,
    keypairs: list | None = None,
    timeout: float = 90.0,
    on_result=lambda result: None,
    paid_path: str = DEFAULT_PAID_PATH,
    amount_policy: str | None = None,
) -> list[Result]:
    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=60)
    ) as session:
        capabilities = await probe(session, server, facilitator, rpc, admin_token)
        amount_policy = amount_policy or await reported_amount_policy(session, facilitator)
        ctx = Context(
            server,
            facilitator,
            rpc,
            capabilities,
            session,
            admin_token,
            keypairs,
            paid_path,
            amount_policy,
        )
        results = []
        try:
            for item in selected:
                result = await run_one(item, ctx, timeout)
                results.append(result)
                on_result(result)
        finally:
            await ctx.close()
        return results


def to_json(results: list[Result]) -> list[dict]:
    return [
        {**asdict(r), "seconds": round(r.seconds, 3), "status": r.status, "outcome": r.outcome}
        for r in results
    ]


def to_junit(results: list[Result]) -> bytes:
    suite = ElementTree.Element(
        "testsuite",
        name="x402-scenarios",
        tests=str(len(results)),
        failures=str(sum(r.failed for r in results)),
        skipped=str(sum(r.skipped for r in results)),
        time=f"{sum(r.seconds for r in results):.3f}",
    )
    for r in results:
        case = ElementTree.SubElement(
            suite, "testcase", classname="scenarios", name=r.name, time=f"{r.seconds:.3f}"
        )
        if r.skipped:
            ElementTree.SubElement(case, "skipped", message=r.detail)
        elif r.failed:
            ElementTree.SubElement(case, "failure", message=r.detail).text = r.story
    return ElementTree.tostring(suite, encoding="utf-8", xml_declaration=True)
