"""Running the official SDK's roles from the project's test process.

The tests run in .venv (solders 0.29, the sandbox); the SDK needs solders 0.27, so every SDK role
runs as a helper script from interop/sdk/ under .venv-interop's python, and the two sides talk
over loopback HTTP only.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.processes import ManagedProcess, free_port

ROOT = Path(__file__).resolve().parents[2]
SDK_DIR = ROOT / "interop" / "sdk"
SDK_FIXTURES = ROOT / "tests" / "fixtures" / "sdk"


def sdk_python() -> Path:
    """.venv-interop's python (run.sh exports X402_INTEROP_PYTHON)."""
    path = Path(os.environ.get("X402_INTEROP_PYTHON", ROOT / ".venv-interop" / "bin" / "python"))
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `make interop` (it builds .venv-interop)")
    return path


@dataclass
class SdkProcess(ManagedProcess):
    """A ManagedProcess that runs `<.venv-interop python> interop/sdk/<script> ARGS`."""

    def start(self) -> SdkProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it from here
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONWARNINGS": "ignore", **self.env}
        env.pop("PYTHONPATH", None)  # nothing from .venv may leak into the SDK's environment
        self.popen = subprocess.Popen(
            [str(sdk_python()), str(SDK_DIR / self.module), *self.args],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
        log.close()
        return self


def start_sdk_facilitator(
    log_dir: Path, rpc_url: str, fee_payer_keypair: Path, timeout: float = 60.0
) -> tuple[SdkProcess, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = SdkProcess(
        name="sdk-facilitator",
        module="facilitator_app.py",
        args=[
            *("--port", str(port), "--rpc-url", rpc_url),
            *("--fee-payer-keypair", str(fee_payer_keypair)),
        ],
        health_url=f"{url}/health",
        log_path=log_dir / "sdk-facilitator.log",
    ).start()
    proc.wait_healthy(timeout)
    return proc, url


def start_sdk_server(
    log_dir: Path,
    facilitator_url: str,
    pay_to: str,
    rpc_url: str | None = None,
    memo: str | None = None,
    timeout: float = 60.0,
) -> tuple[SdkProcess, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = ["--port", str(port), "--facilitator-url", facilitator_url, "--pay-to", pay_to]
    if rpc_url:
        args += ["--rpc-url", rpc_url]
    if memo:
        args += ["--memo", memo]
    proc = SdkProcess(
        name="sdk-server",
        module="server_app.py",
        args=args,
        health_url=f"{url}/health",
        log_path=log_dir / "sdk-server.log",
    ).start()
    proc.wait_healthy(timeout)
    return proc, url


def sdk_client_pay(
    url: str, keypair: Path, rpc_url: str, *extra: str, timeout: float = 120.0
) -> dict[str, Any]:
    """One paid GET by the SDK's httpx client; the JSON that interop/sdk/client_pay.py prints."""
    done = subprocess.run(
        [
            *(str(sdk_python()), str(SDK_DIR / "client_pay.py"), url),
            *("--keypair", str(keypair), "--rpc-url", rpc_url, *extra),
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    if done.returncode not in (0, 2) or not done.stdout.strip():
        raise RuntimeError(f"client_pay.py failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
