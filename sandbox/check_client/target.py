"""The stack check-client runs against: its own, started on free loopback ports in a temporary
home (as the pytest plugin does), or `make up`'s (--use-running) with that home's admin token."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sandbox.orchestration.home import StackPaths, read_admin_token
from sandbox.orchestration.stack import (
    StackConfig,
    StackError,
    StackInfo,
    read_stack,
    running_pids,
    start_stack,
    stop_stack,
)
from sandbox.processes import ProcessFailed, free_port, free_port_pair

__all__ = ["HarnessError", "Target", "own_stack", "running_stack"]

COMPONENTS = ("chain", "facilitator")


class HarnessError(RuntimeError):
    """The harness cannot run (no stack, no command): check-client exits 2 with this message."""


@dataclass
class Target:
    rpc_url: str
    facilitator_url: str
    network: str  # the chain's, CAIP-2
    asset: str  # the test USDC mint
    merchant: str  # payTo of every case
    admin_token: str | None
    home: Path
    owned: bool  # started by check-client (stopped and removed at the end)

    def close(self) -> None:
        if self.owned:
            stop_stack(self.home)
            shutil.rmtree(self.home, ignore_errors=True)


def _target(info: StackInfo, home: Path, owned: bool) -> Target:
    try:
        merchant = info.wallet("merchant").address
    except KeyError:
        raise HarnessError(f"{home}/stack.json names no merchant wallet: run `make up`") from None
    # A running stack's token may come from the environment (stack.env); our own is in its home.
    env_token = None if owned else os.environ.get("X402_SANDBOX_ADMIN_TOKEN")
    token = env_token or read_admin_token(StackPaths(home))
    return Target(
        rpc_url=info.rpc_url,
        facilitator_url=info.facilitator_url,
        network=info.network,
        asset=info.usdc_mint,
        merchant=merchant,
        admin_token=token,
        home=home,
        owned=owned,
    )


def own_stack(slot_ms: int = 0) -> Target:
    """Chain, facilitator and sample server on free ports in a fresh temporary home."""
    home = Path(tempfile.mkdtemp(prefix="x402-check-client-"))
    config = StackConfig(
        home=home,
        rpc_port=free_port_pair(),
        facilitator_port=free_port(),
        server_port=free_port(),
        slot_ms=slot_ms,
        payers=1,
    )
    try:
        info = start_stack(config)
    except (StackError, ProcessFailed, OSError) as exc:
        stop_stack(home)
        shutil.rmtree(home, ignore_errors=True)
        raise HarnessError(f"the sandbox stack did not start: {exc}") from None
    return _target(info, home, owned=True)


def running_stack(home: Path) -> Target:
    """`make up`'s stack in `home` (.sandbox): it must be running."""
    paths = StackPaths(home)
    info = read_stack(paths)
    if info is None:
        raise HarnessError(
            f"--use-running: no stack recorded in {home}/stack.json; start one with `make up` "
            "(or leave --use-running out to let check-client start its own)"
        )
    alive = running_pids(info)
    missing = [name for name in COMPONENTS if name not in alive]
    if missing:
        raise HarnessError(
            f"--use-running: the stack in {home} is not running ({', '.join(missing)} stopped); "
            "run `make up` first"
        )
    return _target(info, home, owned=False)
