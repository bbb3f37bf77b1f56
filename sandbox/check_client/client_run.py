"""Running the client under test once: its placeholders filled, its environment set, killed
(with everything it started) when it outlives the case's timeout."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from sandbox.check_client.target import HarnessError

__all__ = ["ClientRun", "check_startable", "client_env", "render", "run_client"]

PLACEHOLDERS = ("url", "rpc", "keypair", "network")
OUTPUT_KEPT = 4000  # characters of the client's output kept as evidence
KILL_WAIT = 5.0  # seconds for a killed client's output to end


@dataclass
class ClientRun:
    exit_code: int | None
    timed_out: bool
    seconds: float
    output: str


def render(argv: list[str], values: dict[str, str]) -> list[str]:
    """{url} {rpc} {keypair} {network} replaced in each argument (other braces left alone)."""
    out = []
    for arg in argv:
        for name in PLACEHOLDERS:
            arg = arg.replace("{" + name + "}", values[name])
        out.append(arg)
    return out


def client_env(values: dict[str, str]) -> dict[str, str]:
    return {
        **os.environ,
        "X402_URL": values["url"],
        "X402_RPC_URL": values["rpc"],
        "X402_KEYPAIR": values["keypair"],
        "X402_NETWORK": values["network"],
    }


def check_startable(argv: list[str]) -> None:
    """HarnessError unless argv[0] is a program that can be run."""
    if not argv:
        raise HarnessError(
            "no client command: give it after `--`, e.g. "
            "`x402-sandbox check-client -- node pay.mjs {url}`"
        )
    program = argv[0]
    found = shutil.which(program) if os.sep not in program else program
    if not found or not os.access(found, os.X_OK) or Path(found).is_dir():
        raise HarnessError(
            f"client command {program!r} cannot be started: not found or not executable "
            "(give a program on PATH or a path to one after `--`)"
        )


async def run_client(argv: list[str], env: dict[str, str], timeout: float) -> ClientRun:
    started = time.monotonic()
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed whole on timeout
        )
    except OSError as exc:
        raise HarnessError(f"client command {argv[0]!r} cannot be started: {exc}") from None
    timed_out = False
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        timed_out = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        try:
            output, _ = await asyncio.wait_for(process.communicate(), KILL_WAIT)
        except TimeoutError:
            # A grandchild that left the group still holds the pipe: judge without its output.
            output = b""
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    text = output.decode(errors="replace")
    return ClientRun(
        exit_code=None if timed_out else process.returncode,
        timed_out=timed_out,
        seconds=time.monotonic() - started,
        output=text[-OUTPUT_KEPT:],
    )
