from __future__ import annotations

import httpx
import pytest
from server_fake_facilitator import FakeFacilitator
from server_tiny_app import PAY_TO, tiny_app
from solders.keypair import Keypair

from sandbox.server import Paywall


@pytest.fixture
async def facilitator():
    fake = await FakeFacilitator().start()
    yield fake
    await fake.stop()


@pytest.fixture
def payer() -> Keypair:
    return Keypair()


@pytest.fixture
async def stack(facilitator):
    """(client, paywall, runs) for the tiny app behind a ready paywall."""
    paywall = Paywall(facilitator_url=facilitator.url, pay_to=PAY_TO, facilitator_timeout=1.0)
    app, runs = tiny_app(paywall)
    assert await paywall.wait_ready(10)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client, paywall, runs
    await paywall.close()
