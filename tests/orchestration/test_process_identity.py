"""`down` and `status` trust a recorded pid only while it is still the process `up` started.

After a crash or a reboot the pid in stack.json may belong to an unrelated program: `down` must
not signal it, `up` must not call the stack "already running", and `status` must say so. These
tests stand a real unrelated process (`sleep`) in for that program.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.orchestration.stack import (
    NOT_OURS,
    NOT_RUNNING,
    STOPPED,
    StackPaths,
    read_stack,
    reused_pids,
    running_pids,
    stop_stack,
)
from sandbox.processes import (
    pid_alive,
    pid_reused,
    process_cmdline,
    process_identity,
    process_start_time,
    stop_pid,
)

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def _spawn_sleep() -> subprocess.Popen:
    process = subprocess.Popen(["sleep", "30"])
    # /proc/PID/cmdline can read empty for a moment after Popen returns; `up` records
    # identities only once every component answers its health check.
    deadline = time.monotonic() + 5
    while process_cmdline(process.pid) is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return process


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen]:
    process = _spawn_sleep()
    try:
        yield process
    finally:
        process.kill()
        process.wait()


def _still_running(process: subprocess.Popen) -> bool:
    return process.poll() is None


def _wrong(identity: dict) -> dict:
    return {**identity, "start_time": identity["start_time"] + 1}


def _write_stack_json(home: Path, pids: dict[str, int], processes: dict | None) -> None:
    """A stack.json as `up` writes it; without `processes` as versions before it did."""
    home.mkdir(parents=True, exist_ok=True)
    data = {
        "home": str(home),
        "rpc_url": "http://127.0.0.1:9",  # nothing answers: the components are "down"
        "ws_url": "ws://127.0.0.1:10",
        "facilitator_url": "http://127.0.0.1:9",
        "server_url": "http://127.0.0.1:9",
        "network": "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1",
        "network_v1": "solana-devnet",
        "usdc_mint": "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU",
        "pids": pids,
        "wallets": [],
    }
    if processes is not None:
        data["processes"] = processes
    (home / "stack.json").write_text(json.dumps(data))


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sandbox.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_identity_is_start_time_and_command_line(sleeper: subprocess.Popen) -> None:
    identity = process_identity(sleeper.pid)
    assert identity["pid"] == sleeper.pid
    assert identity["cmdline"] == ["sleep", "30"]
    assert process_cmdline(sleeper.pid) == ["sleep", "30"]
    # Field 22 counts clock ticks from boot to the process's start: it just started, so that is
    # the uptime now (fields 21 and 23 are 0 and a size in bytes).
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    started = identity["start_time"] / os.sysconf("SC_CLK_TCK")
    assert uptime - 5 < started <= uptime + 0.1
    assert identity["start_time"] >= process_start_time(os.getpid())
    assert process_start_time(2**22 + 12345) is None  # no such pid


def test_stop_pid_leaves_a_process_with_another_start_time_alone(
    sleeper: subprocess.Popen,
) -> None:
    wrong = _wrong(process_identity(sleeper.pid))
    assert not pid_alive(sleeper.pid, wrong)
    assert pid_reused(sleeper.pid, wrong)
    assert stop_pid(sleeper.pid, timeout=1, identity=wrong) is False
    assert _still_running(sleeper)

    other_command = {**process_identity(sleeper.pid), "cmdline": ["python", "-m", "sandbox.chain"]}
    assert stop_pid(sleeper.pid, timeout=1, identity=other_command) is False
    assert _still_running(sleeper)

    assert stop_pid(sleeper.pid, timeout=5, identity=process_identity(sleeper.pid)) is True
    assert sleeper.wait(timeout=5) is not None


def test_down_does_not_kill_a_reused_pid(tmp_path: Path, sleeper: subprocess.Popen) -> None:
    home = tmp_path / "sandbox"
    wrong = _wrong(process_identity(sleeper.pid))
    _write_stack_json(home, {"chain": sleeper.pid}, {"chain": wrong})
    info = read_stack(StackPaths(home))
    assert running_pids(info) == {}  # so `up` does not say "already running"
    assert reused_pids(info) == {"chain": sleeper.pid}

    status = cli("status", "--home", str(home), "--json")
    chain = json.loads(status.stdout)["components"]["chain"]
    assert chain["running"] is False and chain["pid_reused"] is True
    shown = cli("status", "--home", str(home))
    assert f"pid {sleeper.pid} now belongs to another program" in shown.stdout

    down = cli("down", "--home", str(home))
    assert down.returncode == 0, down.stderr
    assert "No sandbox process was running." in down.stdout
    assert f"recorded pid {sleeper.pid} now belongs to another program" in down.stdout
    assert _still_running(sleeper)
    assert read_stack(StackPaths(home)).pids == {}  # forgotten: a later `down` cannot hit it


def test_stop_stack_reports_each_outcome(tmp_path: Path, sleeper: subprocess.Popen) -> None:
    home = tmp_path / "sandbox"
    gone = subprocess.Popen(["true"])
    gone.wait()
    ours = _spawn_sleep()
    try:
        _write_stack_json(
            home,
            {"chain": sleeper.pid, "facilitator": ours.pid, "server": gone.pid},
            {
                "chain": _wrong(process_identity(sleeper.pid)),
                "facilitator": process_identity(ours.pid),
            },
        )
        outcomes = stop_stack(home)
        assert outcomes == {"server": NOT_RUNNING, "facilitator": STOPPED, "chain": NOT_OURS}
        assert ours.wait(timeout=5) is not None
        assert _still_running(sleeper)
    finally:
        ours.kill()
        ours.wait()


def test_stack_json_without_identities_still_stops_its_pids(
    tmp_path: Path, sleeper: subprocess.Popen
) -> None:
    """stack.json from before identities were recorded: the bare pid is trusted, as it was."""
    home = tmp_path / "sandbox"
    _write_stack_json(home, {"server": sleeper.pid}, processes=None)
    info = read_stack(StackPaths(home))
    assert info is not None and info.processes == {}
    assert running_pids(info) == {"server": sleeper.pid}
    assert stop_stack(home) == {"server": STOPPED}
    assert sleeper.wait(timeout=5) is not None


def test_an_identity_recorded_for_another_pid_is_ignored(
    tmp_path: Path, sleeper: subprocess.Popen
) -> None:
    """A hand-edited pid with a stale identity: the identity describes another pid, so it cannot
    vouch for this one either way; the pid is treated as an old-format record."""
    home = tmp_path / "sandbox"
    stale = {"pid": sleeper.pid + 1, "start_time": 1, "cmdline": ["x"]}
    _write_stack_json(home, {"server": sleeper.pid}, {"server": stale})
    assert running_pids(read_stack(StackPaths(home))) == {"server": sleeper.pid}
