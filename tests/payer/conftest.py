from __future__ import annotations

import pytest
from payer_ledger import Ledger


@pytest.fixture
def ledger() -> Ledger:
    return Ledger()


@pytest.fixture
async def paywall(ledger: Ledger):
    from payer_paywall import Paywall

    server = await Paywall(ledger).start()
    yield server
    await server.stop()
