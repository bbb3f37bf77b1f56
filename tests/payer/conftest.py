from __future__ import annotations

import pytest
from payer_ledger import Ledger


@pytest.fixture
def ledger() -> Ledger:
    return Ledger()
