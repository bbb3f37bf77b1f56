"""The catalogue against targets that are not the sandbox's: a user's own server on another
paid route, a facilitator without fault injection, a chain without cheat codes.

Loopback proxies stand in for them: the server proxy serves only /api/weather (so any story
still hard-coding /api/premium-content or a sample route breaks), the facilitator proxy hides
/_sandbox/*, the RPC proxy refuses sandbox_* methods.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import aiohttp
import pytest
from aiohttp import web

from sandbox.processes import free_port

pytestmark = pytest.mark.slow

PAID_PATH = "/api/weather"
SESSION = web.AppKey("session", aiohttp.ClientSession)
HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "content-encoding"}

# Stories that work on any x402 server, facilitator and chain given funded --keypair wallets.
PORTABLE = {
    "happy-path-v1", "happy-path-v2", "underpay", "overpay", "wrong-mint", "wrong-recipient",
    "wrong-network", "tampered-signature", "fee-payer-as-authority", "fee-payer-in-instruction",
    "extra-instruction", "replay-settled-payment", "parallel-race", "nonce-reuse",
    "malformed-headers", "memo-less-client", "payment-id-retry", "payment-id-conflict",
    "several-memos",
}  # fmt: skip


@dataclass
class Foreign:
    server: str
    facilitator: str
    rpc: str


def _app(target: str, allow) -> web.Application:
    """Forward what `allow(request, body)` lets through to `target`; it may answer instead."""

    async def forward(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        answer = allow(request, body)
        if answer is not None:
            return answer
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        headers["Host"] = request.host  # the server builds its resource URL from Host
        session = request.app[SESSION]
        async with session.request(
            request.method, f"{target}{request.path_qs}", headers=headers, data=body
        ) as upstream:
            payload = await upstream.read()
            out = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_HEADERS}
            return web.Response(status=upstream.status, headers=out, body=payload)

    async def session_ctx(app: web.Application):
        app[SESSION] = aiohttp.ClientSession()
        yield
        await app[SESSION].close()

    app = web.Application()
    app.cleanup_ctx.append(session_ctx)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


def _only_paid_route(request: web.Request, _body: bytes) -> web.Response | None:
    if request.path_qs in (PAID_PATH, "/health"):
        return None
    return web.json_response({"error": "not found"}, status=404)


def _no_admin(request: web.Request, _body: bytes) -> web.Response | None:
    if request.path.startswith("/_sandbox"):
        return web.json_response({"error": "not found"}, status=404)
    return None


def _no_cheats(_request: web.Request, body: bytes) -> web.Response | None:
    try:
        calls = json.loads(body)
    except ValueError:
        return None
    for call in calls if isinstance(calls, list) else [calls]:
        if isinstance(call, dict) and str(call.get("method", "")).startswith("sandbox_"):
            error = {"code": -32601, "message": "Method not found"}
            return web.json_response({"jsonrpc": "2.0", "id": call.get("id"), "error": error})
    return None


@pytest.fixture(scope="module")
def foreign(x402_stack) -> Iterator[Foreign]:
    loop = asyncio.new_event_loop()
    ports = [free_port() for _ in range(3)]
    runners: list[web.AppRunner] = []

    async def start() -> None:
        apps = [
            _app(x402_stack.server_url, _only_paid_route),
            _app(x402_stack.facilitator_url, _no_admin),
            _app(x402_stack.rpc_url, _no_cheats),
        ]
        for app, port in zip(apps, ports, strict=True):
            runner = web.AppRunner(app)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            runners.append(runner)

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    try:
        yield Foreign(*(f"http://127.0.0.1:{port}" for port in ports))
    finally:

        async def stop() -> None:
            for runner in runners:
                await runner.cleanup()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


@pytest.fixture
def funded_keypair(x402_stack, x402_rpc, tmp_path: Path) -> Path:
    """A payer wallet for a chain without cheat codes: the user brings it with --keypair."""
    from solders.keypair import Keypair

    from sandbox.orchestration.wallets import write_keypair

    keypair = Keypair()
    path = tmp_path / "payer.json"
    write_keypair(path, keypair)
    x402_rpc.call("requestAirdrop", str(keypair.pubkey()), 100_000_000)
    x402_rpc.call("sandbox_mintTo", str(keypair.pubkey()), 10_000_000)
    return path


def scenarios_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sandbox.cli", "scenarios", *args],
        capture_output=True,
        text=True,
        timeout=400,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_the_catalogue_on_foreign_targets_and_another_paid_route(
    foreign: Foreign, funded_keypair: Path, tmp_path: Path
) -> None:
    report = tmp_path / "report.json"
    result = scenarios_cli(
        "--server", foreign.server, "--facilitator", foreign.facilitator, "--rpc", foreign.rpc,
        "--path", PAID_PATH, "--keypair", str(funded_keypair), "--json", str(report),
        "--home", str(tmp_path / "no-stack"),
    )  # fmt: skip
    results = {r["name"]: r for r in json.loads(report.read_text())}
    ran = {name for name, r in results.items() if not r["skipped"]}
    assert ran == PORTABLE, sorted(ran ^ PORTABLE)
    failed = {name: r["detail"] for name, r in results.items() if r["status"] == "failed"}
    assert not failed, failed
    assert result.returncode == 0, result.stdout[-3000:]
    # Skipped for a power the targets lack, or for an optional part of x402 the target does not
    # serve: this proxy forwards no /.well-known/x402, and --path declares no sign-in.
    own_reasons = {
        "discovery": "serves no /.well-known/x402",
        "sign-in": "does not declare the sign-in-with-x extension",  # --path /api/weather
    }
    for name, r in results.items():
        if r["skipped"]:
            assert r["detail"].startswith("needs ") or own_reasons.get(name, "\0") in r["detail"], (
                name,
                r["detail"],
            )
            assert r["passed"] is False
    # The portable stories bought the weather (0.001 USDC), not the premium content.
    assert results["happy-path-v2"]["detail"].startswith("paid 1000 atomic units")


def test_a_run_where_every_story_was_skipped_is_not_green(foreign: Foreign, tmp_path) -> None:
    # Both need sandbox powers the foreign targets lack: nothing is checked, so no exit 0.
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    result = scenarios_cli(
        "settlement-pending", "fee-payer-out-of-sol",
        "--server", foreign.server, "--facilitator", foreign.facilitator, "--rpc", foreign.rpc,
        "--path", PAID_PATH, "--json", str(report), "--junit", str(junit),
    )  # fmt: skip
    assert result.returncode == 2, result.stdout[-2000:]
    assert "every selected scenario was skipped" in result.stdout
    results = json.loads(report.read_text())
    assert [(r["skipped"], r["passed"], r["status"]) for r in results] == [
        (True, False, "skipped"),
        (True, False, "skipped"),
    ]
    assert "fault injection" in results[0]["detail"]  # settlement-pending
    assert "cheat codes" in results[1]["detail"]  # fee-payer-out-of-sol
    suite = ElementTree.parse(junit).getroot()
    assert suite.get("skipped") == "2" and suite.get("failures") == "0"
    assert all(case.find("skipped") is not None for case in suite.iter("testcase"))
