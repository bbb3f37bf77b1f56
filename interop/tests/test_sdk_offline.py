"""The SDK environment and the SDK roles' plumbing, with no chain: what can be proven offline.

The SDK's facilitator answers /supported and its middleware answers 402s without any RPC call
(the server only calls RPC when given rpc_url, the facilitator only to simulate/send), so the
three-process wiring and the wire format are checked here; payments need the sandbox stack.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest
import solders
from sdk_env import SDK_DIR, start_sdk_facilitator, start_sdk_server

from sandbox.processes import free_port
from sandbox.protocol import (
    SOLANA_DEVNET,
    USDC_DEVNET_MINT,
    SupportedResponse,
    decode_payment_required,
)


def keypair_address(path: Path) -> str:
    from solders.keypair import Keypair

    return str(Keypair.from_bytes(bytes(json.loads(path.read_text()))).pubkey())


def test_sdk_environment_is_the_pinned_sdk_apart_from_ours(interop_python: Path) -> None:
    done = subprocess.run(
        [str(interop_python), str(SDK_DIR / "check_env.py")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    versions = json.loads(done.stdout)
    assert versions["x402"] == "2.25.0"
    assert versions["solders"].startswith("0.27")
    # Ours is a different solders: the reason the SDK lives in its own environment.
    assert not solders.__version__.startswith("0.27")


@pytest.fixture
def sdk_facilitator(tmp_path: Path, sdk_fixtures: Path):
    # Nothing listens on this RPC port: /supported must not need the chain.
    rpc_url = f"http://127.0.0.1:{free_port()}"
    proc, url = start_sdk_facilitator(tmp_path, rpc_url, sdk_fixtures / "fee-payer-keypair.json")
    yield url
    proc.stop()


def test_sdk_facilitator_supported_parses_with_our_models(
    sdk_facilitator: str, sdk_fixtures: Path
) -> None:
    fee_payer = keypair_address(sdk_fixtures / "fee-payer-keypair.json")
    response = httpx.get(f"{sdk_facilitator}/supported", timeout=30)
    assert response.status_code == 200
    supported = SupportedResponse.model_validate(response.json())
    v2 = [k for k in supported.kinds if k.x402_version == 2]
    assert [(k.scheme, k.network) for k in v2] == [("exact", SOLANA_DEVNET)]
    assert v2[0].extra == {"feePayer": fee_payer}
    assert {k.network for k in supported.kinds if k.x402_version == 1} == {
        "solana",
        "solana-devnet",
        "solana-testnet",
    }
    assert supported.signers == {"solana:*": [fee_payer]}


def test_sdk_facilitator_wrapper_rejects_a_malformed_body_with_400(sdk_facilitator: str) -> None:
    response = httpx.post(f"{sdk_facilitator}/verify", content=b"{not json", timeout=30)
    assert response.status_code == 400
    assert "invalid request" in response.json()["error"]


def test_sdk_middleware_challenge_decodes_with_our_protocol(
    tmp_path: Path, sdk_facilitator: str, sdk_fixtures: Path
) -> None:
    pay_to = keypair_address(sdk_fixtures / "pay-to-keypair.json")
    fee_payer = keypair_address(sdk_fixtures / "fee-payer-keypair.json")
    proc, url = start_sdk_server(tmp_path, sdk_facilitator, pay_to)
    try:
        assert httpx.get(f"{url}/health", timeout=30).status_code == 200
        response = httpx.get(f"{url}/api/premium-content", timeout=30)
    finally:
        proc.stop()
    assert response.status_code == 402
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {}  # v2 only: no v1 body from the SDK's middleware
    challenge = decode_payment_required(response.headers["payment-required"])
    (offer,) = challenge.accepts
    assert (offer.scheme, offer.network, offer.asset) == ("exact", SOLANA_DEVNET, USDC_DEVNET_MINT)
    assert (offer.amount, offer.pay_to, offer.max_timeout_seconds) == ("10000", pay_to, 300)
    assert offer.extra == {"feePayer": fee_payer}
    assert challenge.resource is not None
    assert challenge.resource.url == f"{url}/api/premium-content"
