"""Start a real chain process on free ports inside tests.

    from sandbox.chain.testing import start_chain

    with start_chain(slot_ms=0) as chain:
        chain.rpc_url, chain.ws_url, chain.port
        chain.rpc("sandbox_mintTo", wallet, 1_000_000)   # blocking helper for setup

Keyword flags map to CLI flags (`slot_ms=0` -> `--slot-ms 0`, `fresh=True` -> `--fresh`,
`state=path` -> `--state path`; `slot_ms="manual"`: blocks close only on sandbox_advanceSlots,
for tests that need no block to close between two asserts). A `chain` pytest fixture is
importable from here:

    from sandbox.chain.testing import chain  # noqa: F401  (in a conftest.py or test module)
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sandbox.jsonrpc import JsonRpcClient
from sandbox.processes import ManagedProcess, free_port_pair

__all__ = ["RunningChain", "chain", "chain_args", "start_chain"]


def chain_args(**flags: Any) -> list[str]:
    """`slot_ms=0, fresh=True, state=Path(...)` -> ["--slot-ms", "0", "--fresh", "--state", ...]."""
    args: list[str] = []
    for name, value in flags.items():
        if value is None or value is False:
            continue
        flag = "--" + name.replace("_", "-")
        if value is True:
            args.append(flag)
        else:
            args += [flag, str(value)]
    return args


@dataclass
class RunningChain:
    host: str
    port: int
    ws_port: int
    process: ManagedProcess
    admin_token: str | None = None
    _clients: dict[float, JsonRpcClient] = field(default_factory=dict)

    @property
    def rpc_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.ws_port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def rpc(self, method: str, *params: Any, timeout: float = 30.0) -> Any:
        """Blocking JSON-RPC call for test setup (the shared client, sandbox/jsonrpc.py); raises
        RpcError (a RuntimeError) on an error answer."""
        client = self._clients.get(timeout)
        if client is None:
            client = self._clients[timeout] = JsonRpcClient(
                self.rpc_url, timeout=timeout, admin_token=self.admin_token
            )
        return client.call(method, *params)

    def stop(self) -> None:
        self.process.stop()
        self.close()

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()


@contextlib.contextmanager
def start_chain(
    *,
    host: str = "127.0.0.1",
    log_dir: Path | None = None,
    startup_timeout: float = 30.0,
    module: str = "sandbox.chain",
    **flags: Any,
) -> Iterator[RunningChain]:
    """A chain subprocess on free ports, healthy on entry, stopped (state saved) on exit.
    `module` is the `python -m` module that takes the chain's flags (another launcher, such as
    `x402-sandbox chain`'s, may add its own)."""
    port = flags.pop("port", None) or free_port_pair(host)
    ws_port = flags.pop("ws_port", None) or port + 1
    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="x402-chain-"))
    process = ManagedProcess(
        name="chain",
        module=module,
        args=["--host", host, "--port", str(port), "--ws-port", str(ws_port), *chain_args(**flags)],
        health_url=f"http://{host}:{port}/health",
        log_path=log_dir / f"chain-{port}.log",
    )
    process.start()
    running = RunningChain(host, port, ws_port, process, flags.get("admin_token"))
    try:
        process.wait_healthy(timeout=startup_timeout)
        yield running
    finally:
        running.close()
        process.stop()


@pytest.fixture
def chain(request) -> Iterator[RunningChain]:
    """A fresh chain per test, `--slot-ms 0` unless the test says otherwise with
    `@pytest.mark.chain_flags(slot_ms=400, ...)`."""
    marker = request.node.get_closest_marker("chain_flags")
    flags = {"slot_ms": 0, **(marker.kwargs if marker else {})}
    with start_chain(**flags) as running:
        yield running
