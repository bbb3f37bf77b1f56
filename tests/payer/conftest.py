from __future__ import annotations

import pytest
from payer_ledger import Ledger


@pytest.fixture
def ledger() -> Ledger:
    return Ledger()


@pytest.fixture
async def paywall(ledger: Ledger):
    from payer_fake_server import FakePaidServer

    server = await FakePaidServer(ledger).start()
    yield server
    await server.stop()
