from __future__ import annotations

import pytest
from payer_ledger import InProcessChain


@pytest.fixture
def ledger() -> InProcessChain:
    return InProcessChain()


@pytest.fixture
async def paywall(ledger: InProcessChain):
    from payer_fake_server import FakePaidServer

    server = await FakePaidServer(ledger).start()
    yield server
    await server.stop()
