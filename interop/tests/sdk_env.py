"""Running the official SDK's roles from the project's test process.

The tests run in .venv (solders 0.29, the sandbox); the SDK needs solders 0.27, so every SDK role
runs as a helper script from interop/sdk/ under .venv-interop's python, and the two sides talk
over loopback HTTP only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from launch import run_json, start_helper, start_helper_facilitator

from sandbox.processes import ManagedProcess

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

    def __post_init__(self) -> None:
        self.cwd = self.cwd or ROOT
        self.env = {"PYTHONWARNINGS": "ignore", **self.env}

    def command(self) -> list[str]:
        return [str(sdk_python()), str(SDK_DIR / self.module), *self.args]

    def environment(self) -> dict[str, str]:
        env = super().environment()
        env.pop("PYTHONPATH", None)  # nothing from .venv may leak into the SDK's environment
        return env


def start_sdk_facilitator(
    log_dir: Path, rpc_url: str, fee_payer_keypair: Path, timeout: float = 60.0
) -> tuple[SdkProcess, str]:
    return start_helper_facilitator(
        SdkProcess,
        "sdk-facilitator",
        "facilitator_app.py",
        log_dir,
        rpc_url,
        fee_payer_keypair,
        timeout,
    )


def start_sdk_server(
    log_dir: Path,
    facilitator_url: str,
    pay_to: str,
    rpc_url: str | None = None,
    memo: str | None = None,
    timeout: float = 60.0,
) -> tuple[SdkProcess, str]:
    args = ["--facilitator-url", facilitator_url, "--pay-to", pay_to]
    if rpc_url:
        args += ["--rpc-url", rpc_url]
    if memo:
        args += ["--memo", memo]
    return start_helper(SdkProcess, "sdk-server", "server_app.py", log_dir, *args, timeout=timeout)


def sdk_client_pay(
    url: str, keypair: Path, rpc_url: str, *extra: str, timeout: float = 120.0
) -> dict[str, Any]:
    """One paid GET by the SDK's httpx client; the JSON that interop/sdk/client_pay.py prints."""
    return run_json(
        [
            *(str(sdk_python()), str(SDK_DIR / "client_pay.py"), url),
            *("--keypair", str(keypair), "--rpc-url", rpc_url, *extra),
        ],
        name="client_pay.py",
        cwd=ROOT,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        timeout=timeout,
    )
