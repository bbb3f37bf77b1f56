"""The shipped pytest plugin, used the way a user's own project would use it."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.slow

USER_TEST = """
import httpx


def test_paid_route_answers_402(x402_stack):
    response = httpx.get(f"{x402_stack.server_url}/api/weather")
    assert response.status_code == 402
    assert "PAYMENT-REQUIRED" in response.headers


def test_payer_is_funded(x402_stack, x402_payer, x402_rpc):
    balance = x402_rpc.call("getBalance", x402_payer.address)["value"]
    assert balance == 1_000_000_000
    assert x402_payer.path.exists()


def test_payer_pays_through_the_stack(x402_stack, x402_payer):
    from sandbox.payer import X402ClientSync

    with X402ClientSync(x402_payer.keypair, rpc_url=x402_stack.rpc_url) as client:
        response = client.get(f"{x402_stack.server_url}/api/weather")
    assert response.status == 200
    assert response.receipt.success
"""


def test_user_project_uses_the_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TEST)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", timeout=120)
    result.assert_outcomes(passed=3)
