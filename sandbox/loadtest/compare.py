"""`x402-sandbox loadtest compare A B` (or `--last`): two runs side by side, with the change per
phase, and a regression verdict: exit 1 when B's main phase lost more than `--threshold`
percent (default 20) of A's throughput or its median latency grew by more than that."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = [
    "DEFAULT_THRESHOLD",
    "CompareError",
    "compare_table",
    "last_two",
    "load_summary",
    "regressions",
]

DEFAULT_THRESHOLD = 20.0

METRICS = (("count", "count"), ("rps", "req/s"), ("p50", "p50 ms"), ("p90", "p90 ms"),
           ("p99", "p99 ms"), ("failures", "failures"))  # fmt: skip
LOWER_IS_BETTER = {"p50", "p90", "p99", "failures"}


class CompareError(ValueError):
    pass


def load_summary(path: str | Path) -> dict[str, Any]:
    """A report folder or its summary.json."""
    path = Path(path)
    file = path / "summary.json" if path.is_dir() else path
    try:
        return json.loads(file.read_text())
    except FileNotFoundError:
        raise CompareError(
            f"{file} does not exist (give a report folder or its summary.json)"
        ) from None
    except (OSError, ValueError) as exc:
        raise CompareError(f"{file} is not a readable summary.json: {exc}") from None


def _change(metric: str, a: float, b: float) -> str:
    if a == b:
        return "="
    if a == 0:
        return "new"
    percent = 100.0 * (b - a) / a
    better = (b < a) if metric in LOWER_IS_BETTER else (b > a)
    color = "green" if better else "red"
    return f"[{color}]{percent:+.1f}%[/]"


def compare_table(a: dict[str, Any], b: dict[str, Any], name_a: str, name_b: str) -> Table:
    table = Table(title=f"{name_a} (A) vs {name_b} (B)")
    table.add_column("phase")
    table.add_column("metric")
    table.add_column("A", justify="right")
    table.add_column("B", justify="right")
    table.add_column("change", justify="right")
    phases = list(a.get("phases", {}))
    phases += [p for p in b.get("phases", {}) if p not in phases]
    for phase in phases:
        pa, pb = a["phases"].get(phase), b["phases"].get(phase)
        for index, (key, label) in enumerate(METRICS):
            va = pa.get(key) if pa else None
            vb = pb.get(key) if pb else None
            change = _change(key, va, vb) if va is not None and vb is not None else "-"
            table.add_row(
                phase if index == 0 else "", label,
                "-" if va is None else f"{va:g}", "-" if vb is None else f"{vb:g}", change,
                end_section=index == len(METRICS) - 1,
            )  # fmt: skip
    ga, gb = a.get("generator", {}), b.get("generator", {})
    for key, label in (("signPerSecond", "signatures/s"),):
        if key in ga or key in gb:
            table.add_row("generator", label, str(ga.get(key, "-")), str(gb.get(key, "-")), "")
    ca = ga.get("cpu", {}).get("avgPercent")
    cb = gb.get("cpu", {}).get("avgPercent")
    table.add_row("generator", "CPU % avg", str(ca), str(cb), "")
    return table


def last_two(reports: Path) -> tuple[Path, Path]:
    """The two newest report folders of the newest one's profile, older first."""
    folders = sorted(
        (p for p in reports.glob("*") if (p / "summary.json").is_file()),
        key=lambda p: p.stat().st_mtime,
    )
    if not folders:
        raise CompareError(f"no load test reports in {reports}: run `make loadtest` first")
    newest = load_summary(folders[-1])
    same = [p for p in folders if load_summary(p).get("profile") == newest.get("profile")]
    if len(same) < 2:
        raise CompareError(
            f"only one {newest.get('profile')} report in {reports}: run it again to compare"
        )
    return same[-2], same[-1]


def regressions(a: dict[str, Any], b: dict[str, Any], threshold: float) -> list[str]:
    """What got worse from A to B by more than `threshold` percent (main phase req/s, p50)."""
    name = b.get("mainPhase") or a.get("mainPhase")
    pa, pb = a.get("phases", {}).get(name), b.get("phases", {}).get(name)
    if not pa or not pb:
        return [f"the main phase {name!r} is missing from one of the runs"]
    found = []
    if pa["rps"] > 0 and pb["rps"] < pa["rps"] * (1 - threshold / 100):
        drop = 100 * (pa["rps"] - pb["rps"]) / pa["rps"]
        found.append(
            f"{name} throughput fell {drop:.1f}% ({pa['rps']:g} -> {pb['rps']:g} req/s), "
            f"more than {threshold:g}%"
        )
    if pa["p50"] > 0 and pb["p50"] > pa["p50"] * (1 + threshold / 100):
        rise = 100 * (pb["p50"] - pa["p50"]) / pa["p50"]
        found.append(
            f"{name} p50 rose {rise:.1f}% ({pa['p50']:g} -> {pb['p50']:g} ms), "
            f"more than {threshold:g}%"
        )
    return found


def print_comparison(
    path_a: str | Path, path_b: str | Path, console: Console, threshold: float = DEFAULT_THRESHOLD
) -> list[str]:
    """Print the table and the regressions; returns the regressions (empty: none)."""
    a, b = load_summary(path_a), load_summary(path_b)
    if a.get("profile") != b.get("profile"):
        console.print(
            f"[yellow]note:[/] comparing different profiles ({a.get('profile')} vs "
            f"{b.get('profile')})"
        )
    console.print(compare_table(a, b, Path(path_a).name, Path(path_b).name))
    found = regressions(a, b, threshold)
    for regression in found:
        console.print(f"[red]regression:[/] {regression}")
    if not found:
        console.print(f"[green]no regression[/] beyond {threshold:g}% on the main phase")
    return found
