"""Run Locust headless in a subprocess, watch it, and measure the load generator itself.

While Locust runs, once a second: the CPU use of every Locust process (master and workers;
one process cannot use more than one core, so the busiest one tells whether the generator is
saturated), the machine's CPU, and the latest line of Locust's history CSV for the progress
display.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from rich.console import Console
from rich.live import Live
from rich.text import Text

__all__ = ["RunPlan", "RunResult", "locust_command", "run_locust"]


AUTOQUIT_S = 10  # --ui --autostart: the web UI stays this long after the run


@dataclass
class RunPlan:
    locustfile: Path
    host: str
    users: int
    spawn_rate: float
    duration: float
    report_dir: Path
    env: dict[str, str]
    shape: str = "constant"
    processes: int = 1
    main_entry: str = "round trip"
    stop_timeout: float = 15.0
    web_ui: bool = False
    autostart: bool = False  # with web_ui: start at once, stop after the duration
    web_port: int = 8089
    watch: dict[str, int] = field(default_factory=dict)  # target processes: name -> pid

    @property
    def csv_prefix(self) -> Path:
        return self.report_dir / "locust"


@dataclass
class RunResult:
    returncode: int
    wall_seconds: float
    cpu: dict[str, Any] = field(default_factory=dict)
    interrupted: bool = False
    target_cpu: dict[str, Any] = field(default_factory=dict)


def locust_command(plan: RunPlan) -> list[str]:
    command = [
        sys.executable, "-m", "locust", "-f", str(plan.locustfile), "--host", plan.host,
        "--users", str(plan.users), "--spawn-rate", f"{plan.spawn_rate:g}",
        "--stop-timeout", f"{plan.stop_timeout:g}",
        "--csv", str(plan.csv_prefix), "--csv-full-history",
        "--html", str(plan.report_dir / "locust.html"),
        "--json-file", str(plan.report_dir / "locust_stats"),
        "--exit-code-on-error", "0",
    ]  # fmt: skip
    if plan.web_ui:
        command += ["--web-host", "127.0.0.1", "--web-port", str(plan.web_port)]
        if plan.autostart:  # the UI stays AUTOQUIT_S after the run, for a last look
            command += ["--autostart", "--autoquit", str(AUTOQUIT_S)]
            if plan.shape == "constant":
                command += ["--run-time", f"{round(plan.duration)}s"]
    else:
        command += ["--headless", "--only-summary"]
        if plan.shape == "constant":
            command += ["--run-time", f"{round(plan.duration)}s"]
    if plan.processes > 1:
        command += ["--processes", str(plan.processes)]
    return command


class _CpuMeter:
    """CPU percent of a process tree, from cpu_times deltas (no sleeping inside psutil)."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.last: dict[int, tuple[float, float]] = {}
        psutil.cpu_percent(None)
        self.samples: list[dict[str, float]] = []
        self.started = time.monotonic()

    def sample(self) -> dict[str, float] | None:
        try:
            processes = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return None
        now = time.monotonic()
        total, busiest, measured = 0.0, 0.0, False
        for process in processes:
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            used = times.user + times.system
            before = self.last.get(process.pid)
            self.last[process.pid] = (now, used)
            if before is None or now <= before[0]:
                continue
            percent = 100.0 * (used - before[1]) / (now - before[0])
            measured = True
            total += percent
            busiest = max(busiest, percent)
        point = {
            "t": round(now - self.started, 1),
            "cpu": round(total, 1),
            "busiest": round(busiest, 1),
            "machine": psutil.cpu_percent(None),
            "processes": len(processes),
        }
        if measured:
            self.samples.append(point)
        return point

    def summary(self) -> dict[str, Any]:
        points = self.samples[1:-1] or self.samples  # ramp-up and shutdown seconds distort
        if not points:
            return {"cores": psutil.cpu_count(), "series": []}
        return {
            "cores": psutil.cpu_count(),
            "processes": max(p["processes"] for p in self.samples),
            "avgPercent": round(sum(p["cpu"] for p in points) / len(points), 1),
            "maxPercent": max(p["cpu"] for p in points),
            "busiestProcessMaxPercent": max(p["busiest"] for p in points),
            "busiestProcessAvgPercent": round(sum(p["busiest"] for p in points) / len(points), 1),
            "machineAvgPercent": round(sum(p["machine"] for p in points) / len(points), 1),
            "series": self.samples,
        }


class _TargetMeter:
    """CPU percent of each target process on this machine (the stack's chain, facilitator,
    server), to tell a saturated target from a saturated generator."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.processes: dict[str, psutil.Process] = {}
        for name, pid in pids.items():
            try:
                self.processes[name] = psutil.Process(pid)
            except psutil.Error:
                continue
        self.first: dict[str, tuple[float, float]] = {}
        self.last: dict[str, tuple[float, float]] = {}
        self.peak: dict[str, float] = {}

    def sample(self) -> None:
        now = time.monotonic()
        for name, process in self.processes.items():
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            used = times.user + times.system
            before = self.last.get(name)
            if before is not None and now > before[0]:
                percent = 100.0 * (used - before[1]) / (now - before[0])
                self.peak[name] = max(self.peak.get(name, 0.0), percent)
            self.first.setdefault(name, (now, used))
            self.last[name] = (now, used)

    def summary(self) -> dict[str, Any]:
        out = {}
        for name, (t0, used0) in self.first.items():
            t1, used1 = self.last[name]
            if t1 > t0:
                out[name] = {
                    "avgPercent": round(100.0 * (used1 - used0) / (t1 - t0), 1),
                    "maxPercent": round(self.peak.get(name, 0.0), 1),
                }
        return out


def _latest(history: Path, name: str) -> dict[str, str] | None:
    try:
        with history.open(newline="") as handle:
            rows = [r for r in csv.DictReader(handle) if r.get("Name") == name]
    except OSError:
        return None
    return rows[-1] if rows else None


def _status(plan: RunPlan, elapsed: float, cpu: dict[str, float] | None) -> Text:
    row = _latest(Path(f"{plan.csv_prefix}_stats_history.csv"), plan.main_entry)
    done = min(1.0, elapsed / plan.duration) if plan.duration else 0.0
    bar = "━" * int(done * 30) + "╺" + " " * (30 - int(done * 30))
    text = Text(f"{bar} {elapsed:4.0f}/{plan.duration:.0f} s  ", style="cyan")
    if row:
        text.append(
            f"users {row['User Count']}  {plan.main_entry}: {row['Total Request Count']} "
            f"({float(row['Requests/s']):.0f}/s), failures {row['Total Failure Count']}, "
            f"p50 {row['50%']} ms  "
        )
    if cpu:
        text.append(f"generator CPU {cpu['cpu']:.0f}%", style="magenta")
    return text


def run_locust(plan: RunPlan, console: Console, progress: bool = True) -> RunResult:
    plan.report_dir.mkdir(parents=True, exist_ok=True)
    log_path = plan.report_dir / "locust.log"
    env = {**os.environ, **plan.env}
    started = time.monotonic()
    deadline = plan.duration + plan.stop_timeout + 90.0
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            locust_command(plan), stdout=log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,
        )  # fmt: skip
        meter = _CpuMeter(process.pid)
        targets = _TargetMeter(plan.watch)
        targets.sample()
        interrupted = False
        live = Live(console=console, auto_refresh=False, transient=True) if progress else None
        try:
            if live:
                live.start()
            while process.poll() is None:
                time.sleep(1.0)
                point = meter.sample()
                targets.sample()
                elapsed = time.monotonic() - started
                if live:
                    live.update(_status(plan, elapsed, point), refresh=True)
                if elapsed > deadline + (AUTOQUIT_S if plan.autostart else 0) and (
                    plan.autostart or not plan.web_ui
                ):
                    console.print(f"[red]Locust did not stop after {elapsed:.0f} s; killing it[/]")
                    os.killpg(process.pid, signal.SIGKILL)
        except KeyboardInterrupt:
            interrupted = True
            os.killpg(process.pid, signal.SIGTERM)  # Locust stops and still writes its reports
            try:
                process.wait(timeout=plan.stop_timeout + 15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        finally:
            if live:
                live.stop()
        process.wait()
    return RunResult(
        returncode=process.returncode,
        wall_seconds=round(time.monotonic() - started, 2),
        cpu=meter.summary(),
        interrupted=interrupted,
        target_cpu=targets.summary(),
    )
