"""Running the official TypeScript SDK and @solana/kit from the project's test process.

The scripts live in interop/ts/ (plain .mjs, no build step; packages pinned by its
package-lock.json and installed by interop/run.sh with `npm ci`). Each runs as a node
subprocess and talks to the sandbox over loopback HTTP/WebSocket only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sandbox.processes import ManagedProcess, free_port

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
    if not (TS_DIR / "node_modules" / "@x402" / "svm").is_dir():
        pytest.fail(
            f"{TS_DIR / 'node_modules'} is missing: run `bash interop/run.sh` (it runs `npm ci`)"
        )
    return NODE


def run_node_json(script: str, *args: str, timeout: float = 60.0) -> dict[str, Any]:
    """Run `node interop/ts/<script> ARGS`; the JSON object it prints last.

    Exit 0 and 2 both print JSON (2 = the script caught an error and says so in `error`);
    anything else, or no JSON, is a broken script and raises with its stderr.
    """
    done = subprocess.run(
        [_node(), str(TS_DIR / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=TS_DIR,
        env={**os.environ, "NODE_NO_WARNINGS": "1"},
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode not in (0, 2) or not lines:
        raise RuntimeError(f"{script} failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(lines[-1])


def ts_client_pay(url: str, keypair: Path, rpc_url: str) -> dict[str, Any]:
    """One paid GET by the TS SDK's fetch wrapper: the JSON client_pay.mjs prints."""
    return run_node_json("client_pay.mjs", url, str(keypair), rpc_url)


@dataclass
class NodeProcess(ManagedProcess):
    """A ManagedProcess that runs `node interop/ts/<module> ARGS`."""

    def start(self) -> NodeProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it from here
        self.popen = subprocess.Popen(
            [_node(), str(TS_DIR / self.module), *self.args],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "NODE_NO_WARNINGS": "1", **self.env},
            cwd=TS_DIR,
            start_new_session=True,
        )
        log.close()
        return self


def start_ts_facilitator(
    log_dir: Path, rpc_url: str, fee_payer_keypair: Path, timeout: float = 60.0
) -> tuple[NodeProcess, str]:
    """The TS SDK's facilitator (interop/ts/facilitator.mjs) on a free port, healthy."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = NodeProcess(
        name="ts-facilitator",
        module="facilitator.mjs",
        args=[
            *("--port", str(port), "--rpc-url", rpc_url),
            *("--fee-payer-keypair", str(fee_payer_keypair)),
        ],
        health_url=f"{url}/health",
        log_path=log_dir / "ts-facilitator.log",
    ).start()
    proc.wait_healthy(timeout)
    return proc, url
