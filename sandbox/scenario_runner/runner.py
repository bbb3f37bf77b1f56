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
    name: str
    story: str
    passed: bool
    skipped: bool
    seconds: float
    detail: str

    @property
    def outcome(self) -> str:
        return "skipped" if self.skipped else ("passed" if self.passed else "FAILED")


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
    try:
        async with session.post(rpc, json=body, timeout=timeout) as response:
            if "result" in await response.json(content_type=None):
                found.add(CHEATS)
    except (aiohttp.ClientError, TimeoutError, ValueError):
        pass
    headers = {"Authorization": f"Bearer {token}"} if token else {}
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


async def run_one(item: Scenario, ctx: Context, timeout: float) -> Result:
    started = time.perf_counter()
    missing = item.needs - ctx.capabilities
    if missing:
        needs = " and ".join(NEEDS_TEXT[need] for need in sorted(missing))
        return Result(item.name, item.story, True, True, 0.0, f"needs {needs}")
    try:
        detail = await asyncio.wait_for(item.fn(ctx), timeout)
        passed, skipped, detail = True, False, detail or "ok"
    except Skip as exc:
        passed, skipped, detail = True, True, str(exc)
    except ScenarioFailed as exc:
        passed, skipped, detail = False, False, str(exc)
    except TimeoutError:
        passed, skipped, detail = False, False, f"did not finish within {timeout:.0f}s"
    except Exception as exc:  # a crash is a failure with its cause, not a crash of the runner
        last = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno}"
        passed, skipped, detail = False, False, f"{type(exc).__name__} at {where}: {exc}"
    return Result(item.name, item.story, passed, skipped, time.perf_counter() - started, detail)


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
) -> list[Result]:
    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=60)
    ) as session:
        capabilities = await probe(session, server, facilitator, rpc, admin_token)
        ctx = Context(
            server, facilitator, rpc, capabilities, session, admin_token, keypairs, paid_path
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
    return [{**asdict(r), "seconds": round(r.seconds, 3), "outcome": r.outcome} for r in results]


def to_junit(results: list[Result]) -> bytes:
    suite = ElementTree.Element(
        "testsuite",
        name="x402-scenarios",
        tests=str(len(results)),
        failures=str(sum(not r.passed for r in results)),
        skipped=str(sum(r.skipped for r in results)),
        time=f"{sum(r.seconds for r in results):.3f}",
    )
    for r in results:
        case = ElementTree.SubElement(
            suite, "testcase", classname="scenarios", name=r.name, time=f"{r.seconds:.3f}"
        )
        if r.skipped:
            ElementTree.SubElement(case, "skipped", message=r.detail)
        elif not r.passed:
            ElementTree.SubElement(case, "failure", message=r.detail).text = r.story
    return ElementTree.tostring(suite, encoding="utf-8", xml_declaration=True)
