"""Starting and stopping the sandbox's own processes: free ports, health waits, clean stops.

Used by `up`, the pytest fixtures and the integration tests, so every one of them starts a
component the same way: `python -m sandbox.<component> ARGS`, output to a log file, ready when its
health URL answers 200, stopped by pid (never by name), checked against the process's start
time and command line so a reused pid is never signalled.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def free_port_pair(host: str = "127.0.0.1") -> int:
    """A port p such that p and p + 1 are both free (JSON-RPC and PubSub)."""
    for _ in range(100):
        port = free_port(host)
        if port < 65535 and port_is_free(port + 1, host):
            return port
    raise RuntimeError("could not find two adjacent free ports")


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def http_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class ProcessFailed(RuntimeError):
    """A component exited or never became healthy; the message carries its last log lines."""


@dataclass
class ManagedProcess:
    """One component running as `python -m MODULE ARGS` (see `command`), logging to `log_path`."""

    name: str
    module: str
    args: list[str]
    health_url: str
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None  # None: the caller's working directory
    popen: subprocess.Popen | None = None

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def command(self) -> list[str]:
        """The argv to run; subclasses running something other than a sandbox module override it."""
        return [sys.executable, "-m", self.module, *self.args]

    def environment(self) -> dict[str, str]:
        """The child's environment: ours, unbuffered output, then `env` on top."""
        return {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}

    def start(self) -> ManagedProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it from here
        self.popen = subprocess.Popen(
            self.command(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self.environment(),
            cwd=self.cwd,
            start_new_session=True,  # Ctrl-C in the user's shell must not kill the stack
        )
        log.close()
        return self

    def wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen is not None and self.popen.poll() is not None:
                raise ProcessFailed(
                    f"{self.name} exited with code {self.popen.returncode} during startup; "
                    f"last lines of {self.log_path}:\n{log_tail(self.log_path)}"
                )
            if http_ok(self.health_url, timeout=0.5):
                return
            time.sleep(0.02)
        raise ProcessFailed(
            f"{self.name} did not answer {self.health_url} within {timeout:.0f}s; "
            f"last lines of {self.log_path}:\n{log_tail(self.log_path)}"
        )

    def stop(self, timeout: float = 10.0) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        stop_pid(self.popen.pid, timeout)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=1)


def process_start_time(pid: int) -> int | None:
    """When `pid` started, in clock ticks after boot (/proc/PID/stat field 22); None if unknown.

    A pid is reused once its process is gone; the pair (pid, start time) is not.
    """
    try:
        with open(f"/proc/{pid}/stat") as stat:
            # Field 2 (comm) is in parentheses and may hold spaces or ')': split after the last.
            fields = stat.read().rsplit(")", 1)[1].split()
        return int(fields[19])  # fields[0] is field 3 (state), so field 22 is fields[19]
    except (OSError, IndexError, ValueError):
        return None


def process_cmdline(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            raw = cmdline.read()
    except OSError:
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0")[:-1]] if raw else None


def process_identity(pid: int) -> dict[str, Any]:
    """What stack.json records next to a pid so a reused pid is never mistaken for ours."""
    return {"pid": pid, "start_time": process_start_time(pid), "cmdline": process_cmdline(pid)}


def is_same_process(pid: int, identity: dict[str, Any] | None) -> bool:
    """False only when `pid` now runs something other than the recorded process.

    Without a record (stack.json from an older version) or without /proc, the pid is trusted.
    """
    if not identity:
        return True
    recorded_start = identity.get("start_time")
    if recorded_start is not None:
        start = process_start_time(pid)
        if start is not None and start != recorded_start:
            return False
    recorded_cmdline = identity.get("cmdline")
    if recorded_cmdline:
        cmdline = process_cmdline(pid)
        if cmdline is not None and cmdline != list(recorded_cmdline):
            return False
    return True


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still "exists"; treat it as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def pid_alive(pid: int, identity: dict[str, Any] | None = None) -> bool:
    """`pid` runs, and is the process `identity` recorded (when given)."""
    return _exists(pid) and is_same_process(pid, identity)


def pid_reused(pid: int, identity: dict[str, Any] | None) -> bool:
    """`pid` runs, but it is another process than the one recorded."""
    return _exists(pid) and not is_same_process(pid, identity)


def _open_pidfd(pid: int) -> int | None:
    """A handle on exactly this process (Linux): signals sent through it can never reach a
    process that reuses the pid later."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _signal(pid: int, pidfd: int | None, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        if pidfd is not None:
            signal.pidfd_send_signal(pidfd, sig)
        else:
            os.kill(pid, sig)


def stop_pid(pid: int, timeout: float = 10.0, identity: dict[str, Any] | None = None) -> bool:
    """SIGTERM (the component saves its state), then SIGKILL after `timeout`. True if it ran.

    With `identity`, a pid now held by another process is left alone (False).
    """
    pidfd = _open_pidfd(pid)
    try:
        # Checked after the pidfd is open, so the process checked is the one signalled.
        if not pid_alive(pid, identity):
            return False
        _signal(pid, pidfd, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not pid_alive(pid, identity):
                return True
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.02)
        if pid_alive(pid, identity):
            _signal(pid, pidfd, signal.SIGKILL)
        return True
    finally:
        if pidfd is not None:
            os.close(pidfd)
