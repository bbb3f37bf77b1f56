"""Starting what the interop tests talk to: the SDKs' helper scripts and our own server.

Helpers (interop/sdk/*.py under .venv-interop, interop/ts/*.mjs under node) run as
ManagedProcess subclasses that override only `command()`, so they start, log, wait and stop
exactly as the sandbox's own components do.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from sandbox.processes import ManagedProcess, free_port

__all__ = ["our_server", "run_json", "start_helper", "start_helper_facilitator"]

P = TypeVar("P", bound=ManagedProcess)


def start_helper(
    kind: type[P], name: str, module: str, log_dir: Path, *args: str, timeout: float = 60.0
) -> tuple[P, str]:
    """`kind(module --port PORT ARGS)` on a free port, healthy at /health; (process, its URL)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = kind(
        name=name,
        module=module,
        args=["--port", str(port), *args],
        health_url=f"{url}/health",
        log_path=log_dir / f"{name}.log",
    ).start()
    proc.wait_healthy(timeout)
    return proc, url


def start_helper_facilitator(
    kind: type[P],
    name: str,
    module: str,
    log_dir: Path,
    rpc_url: str,
    fee_payer_keypair: Path,
    timeout: float = 60.0,
) -> tuple[P, str]:
    """An SDK's facilitator script (both take the same flags) on `rpc_url`, paying fees with
    the key in `fee_payer_keypair`."""
    return start_helper(
        kind,
        name,
        module,
        log_dir,
        *("--rpc-url", rpc_url, "--fee-payer-keypair", str(fee_payer_keypair)),
        timeout=timeout,
    )


def run_json(
    command: list[str], *, name: str, cwd: Path, env: dict[str, str], timeout: float
) -> dict[str, Any]:
    """Run a helper script to the end; the JSON object it prints last.

    Exit 0 and 2 both print JSON (2 = the script caught an error and says so in `error`);
    anything else, or no output, is a broken script and raises with its stderr.
    """
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode not in (0, 2) or not lines:
        raise RuntimeError(f"{name} failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(lines[-1])


@contextlib.contextmanager
def our_server(
    log_dir: Path, facilitator_url: str, pay_to: str, usdc_mint: str, rpc_url: str
) -> Iterator[str]:
    """`python -m sandbox.server` on another facilitator (only --facilitator-url differs from
    the test stack's); yields its URL, stops it on exit."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = ManagedProcess(
        "server",
        "sandbox.server",
        [
            *("--host", "127.0.0.1", "--port", str(port), "--facilitator-url", facilitator_url),
            *("--pay-to", pay_to, "--usdc-mint", usdc_mint, "--rpc-url", rpc_url),
        ],
        f"{url}/health",
        log_dir / "server.log",
    ).start()
    try:
        server.wait_healthy(timeout=60)
        yield url
    finally:
        server.stop()
