"""Running the official TypeScript SDK and @solana/kit from the project's test process.

The scripts live in interop/ts/ (plain .mjs, no build step; packages pinned by the workspace's
one package-lock.json at the root and installed by interop/run.sh with js/npm-ci.sh). Each runs
as a node subprocess and talks to the sandbox over loopback HTTP/WebSocket only.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from launch import run_json, start_helper_facilitator

from sandbox.processes import ManagedProcess

__all__ = [
    "NODE",
    "TS_DIR",
    "needs_node",
    "run_node_json",
    "start_ts_facilitator",
    "ts_client_pay",
]

ROOT = Path(__file__).resolve().parents[2]
TS_DIR = ROOT / "interop" / "ts"
NODE = shutil.which("node")

needs_node = pytest.mark.skipif(
    NODE is None, reason="node is not installed: the TypeScript SDK interop tests need Node >= 20"
)


def _node() -> str:
    assert NODE is not None  # guarded by needs_node
    if not (ROOT / "node_modules" / "@x402" / "svm").is_dir():
        pytest.fail(f"{ROOT / 'node_modules'} is missing: run `bash interop/run.sh` (js/npm-ci.sh)")
    return NODE


def run_node_json(script: str, *args: str, timeout: float = 60.0) -> dict[str, Any]:
    """Run `node interop/ts/<script> ARGS`; the JSON object it prints last (see `run_json`)."""
    return run_json(
        [_node(), str(TS_DIR / script), *args],
        name=script,
        cwd=TS_DIR,
        env={**os.environ, "NODE_NO_WARNINGS": "1"},
        timeout=timeout,
    )


def ts_client_pay(url: str, keypair: Path, rpc_url: str) -> dict[str, Any]:
    """One paid GET by the TS SDK's fetch wrapper: the JSON client_pay.mjs prints."""
    return run_node_json("client_pay.mjs", url, str(keypair), rpc_url)


@dataclass
class NodeProcess(ManagedProcess):
    """A ManagedProcess that runs `node interop/ts/<module> ARGS` from interop/ts/."""

    def __post_init__(self) -> None:
        self.cwd = self.cwd or TS_DIR
        self.env = {"NODE_NO_WARNINGS": "1", **self.env}

    def command(self) -> list[str]:
        return [_node(), str(TS_DIR / self.module), *self.args]


def start_ts_facilitator(
    log_dir: Path, rpc_url: str, fee_payer_keypair: Path, timeout: float = 60.0
) -> tuple[NodeProcess, str]:
    """The TS SDK's facilitator (interop/ts/facilitator.mjs) on a free port, healthy."""
    return start_helper_facilitator(
        NodeProcess,
        "ts-facilitator",
        "facilitator.mjs",
        log_dir,
        rpc_url,
        fee_payer_keypair,
        timeout,
    )
