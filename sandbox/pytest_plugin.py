"""pytest plugin shipped with the package (entry point `pytest11`): the whole stack as a fixture.

In a project that has `x402-solana-sandbox` installed:

    def test_my_client_pays(x402_stack, x402_payer):
        response = my_client.get(f"{x402_stack.server_url}/api/weather", keypair=x402_payer.path)
        assert response.status_code == 200

`x402_stack` starts chain, facilitator and paid server once per test session on free loopback
ports, in a temporary folder, with blocks closed per transaction (`--x402-slot-ms` to change);
`x402_payer` gives each test a freshly funded payer wallet of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from solders.keypair import Keypair

    from sandbox.orchestration.stack import StackInfo


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("x402-sandbox")
    group.addoption(
        "--x402-slot-ms",
        type=int,
        default=0,
        help="slot time of the sandbox chain started by the x402_stack fixture (0: block per tx)",
    )


@dataclass(frozen=True)
class FundedPayer:
    """A payer wallet with SOL and test USDC: its keypair, address and keypair file."""

    keypair: Keypair
    path: Path

    @property
    def address(self) -> str:
        return str(self.keypair.pubkey())


@pytest.fixture(scope="session")
def x402_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StackInfo]:
    """The whole sandbox (chain, facilitator, paid server) for this test session."""
    from sandbox.orchestration.stack import StackConfig, start_stack, stop_stack
    from sandbox.processes import free_port, free_port_pair

    home = tmp_path_factory.mktemp("x402-sandbox")
    config = StackConfig(
        home=home,
        rpc_port=free_port_pair(),
        facilitator_port=free_port(),
        server_port=free_port(),
        slot_ms=request.config.getoption("--x402-slot-ms"),
        payers=2,
    )
    info = start_stack(config)
    try:
        yield info
    finally:
        stop_stack(home)


@pytest.fixture
def x402_payer(x402_stack: StackInfo, tmp_path: Path) -> FundedPayer:
    """A new payer wallet with 1 SOL and 10 USDC, its key written as a Solana CLI JSON file."""
    from solders.keypair import Keypair

    from sandbox.orchestration.wallets import write_keypair

    keypair = Keypair()
    path = tmp_path / "payer.json"
    write_keypair(path, keypair)
    rpc = _rpc(x402_stack)
    try:
        rpc.call("requestAirdrop", str(keypair.pubkey()), 1_000_000_000)
        rpc.call("sandbox_mintTo", str(keypair.pubkey()), 10_000_000)
    finally:
        rpc.close()
    return FundedPayer(keypair, path)


@pytest.fixture
def x402_rpc(x402_stack: StackInfo) -> Iterator[Any]:
    """A JSON-RPC client for the sandbox chain (`.call(method, *params)`), sending the stack's
    admin token, so cheat codes (`sandbox_*`) work."""
    rpc = _rpc(x402_stack)
    yield rpc
    rpc.close()


def _rpc(stack: StackInfo):
    from sandbox.orchestration.home import StackPaths, read_admin_token
    from sandbox.orchestration.rpc import ChainRpc

    return ChainRpc(stack.rpc_url, admin_token=read_admin_token(StackPaths(Path(stack.home))))
