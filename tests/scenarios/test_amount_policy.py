"""Where the runner learns the facilitator's amount policy (for the overpay story)."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web

from sandbox.processes import free_port
from sandbox.scenario_runner.runner import reported_amount_policy


async def policy_of(health: dict, supported: dict) -> str | None:
    def answer(body: dict):
        async def handler(_request: web.Request) -> web.Response:
            return web.json_response(body)

        return handler

    app = web.Application()
    app.router.add_get("/health", answer(health))
    app.router.add_get("/supported", answer(supported))
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with aiohttp.ClientSession() as session:
            return await reported_amount_policy(session, f"http://127.0.0.1:{port}")
    finally:
        await runner.cleanup()


KIND = {"x402Version": 2, "scheme": "exact", "network": "solana:x", "extra": {"feePayer": "F"}}


@pytest.mark.parametrize(
    ("health", "supported", "policy"),
    [
        ({"status": "ok", "amountPolicy": "at-least"}, {"kinds": [KIND]}, "at-least"),
        ({"status": "ok"}, {"kinds": [{**KIND, "extra": {"amountPolicy": "exact"}}]}, "exact"),
        ({"status": "ok"}, {"kinds": [KIND]}, None),  # not reported: overpay checks no policy
        ({"status": "ok", "amountPolicy": 3}, {"kinds": "garbage"}, None),
    ],
)
async def test_the_policy_comes_from_health_or_supported(health, supported, policy) -> None:
    assert await policy_of(health, supported) == policy


async def test_an_unreachable_facilitator_reports_nothing() -> None:
    async with aiohttp.ClientSession() as session:
        assert await reported_amount_policy(session, f"http://127.0.0.1:{free_port()}") is None
