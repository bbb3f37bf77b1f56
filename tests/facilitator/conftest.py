"""Fixtures: one chain (`--slot-ms 0`) and one facilitator per test module, fresh parties per test.

Helpers live in facilitator_builders.py (transactions) and facilitator_stack.py (processes).
"""

from __future__ import annotations

import pytest
from facilitator_builders import Parties
from facilitator_stack import Funded, start_facilitator

from sandbox.chain.testing import start_chain


@pytest.fixture(scope="module")
def chain0():
    with start_chain(slot_ms=0) as chain:
        yield chain


@pytest.fixture(scope="module")
def fee_payer_party(chain0) -> Funded:
    return Funded(chain0)


@pytest.fixture(scope="module")
def fac(chain0, fee_payer_party):
    with start_facilitator(
        chain0, [fee_payer_party.p.fee_payer], "--confirm-timeout", "1.5"
    ) as running:
        yield running


@pytest.fixture
def funded(chain0, fee_payer_party, fac) -> Funded:
    """A new client and merchant sharing the facilitator's fee payer; faults cleared after."""
    yield Funded(chain0, Parties(fee_payer=fee_payer_party.p.fee_payer))
    fac.set_faults()
    chain0.rpc("sandbox_setFaults", {"latencyMs": 0, "dropRate": 0, "errorRate": 0})
