"""`x402-sandbox loadtest compare A B`: two runs side by side, with the change per phase."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["CompareError", "compare_table", "load_summary"]

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


def print_comparison(path_a: str, path_b: str, console: Console) -> None:
    a, b = load_summary(path_a), load_summary(path_b)
    if a.get("profile") != b.get("profile"):
        console.print(
            f"[yellow]note:[/] comparing different profiles ({a.get('profile')} vs "
            f"{b.get('profile')})"
        )
    console.print(compare_table(a, b, Path(path_a).name, Path(path_b).name))
