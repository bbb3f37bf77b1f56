"""report.html: one self-contained page (inline SVG charts and CSS, no scripts, no network).

The verdict with its reasons and warnings first; the phase table; per step of a step ramp;
failures by reason; the main phase's throughput (smoothed to the block time), the median of
every phase in one chart and each phase's percentiles; the generator's and the targets' CPU;
the reconciliation in USDC. Readable at a glance, printable, diffable.
"""

from __future__ import annotations

import html
from typing import Any

__all__ = ["line_chart", "render_report"]

COLORS = ("#2563eb", "#f59e0b", "#dc2626", "#059669", "#7c3aed", "#6b7280")
W, H, PAD_L, PAD_R, PAD_T, PAD_B = 620, 220, 56, 16, 28, 34


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** len(str(int(value))) / 10
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return value


def line_chart(title: str, lines: dict[str, list[tuple[float, float]]], unit: str) -> str:
    """An SVG line chart: x in seconds from the start, one polyline per label."""
    points = [p for values in lines.values() for p in values]
    x_max = max((x for x, _ in points), default=1.0) or 1.0
    y_max = _nice_max(max((y for _, y in points), default=0.0))
    plot_w, plot_h = W - PAD_L - PAD_R, H - PAD_T - PAD_B

    def sx(x: float) -> float:
        return PAD_L + plot_w * x / x_max

    def sy(y: float) -> float:
        return PAD_T + plot_h * (1 - y / y_max)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
        f'viewBox="0 0 {W} {H}" role="img" aria-label="{html.escape(title)}">',
        f'<text x="{PAD_L}" y="16" class="t">{html.escape(title)}</text>',
    ]
    for i in range(5):
        y_value = y_max * i / 4
        y = sy(y_value)
        parts.append(f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{y:.1f}" y2="{y:.1f}" class="g"/>')
        parts.append(f'<text x="{PAD_L - 6}" y="{y + 4:.1f}" class="a" text-anchor="end">'
                     f"{y_value:g}</text>")  # fmt: skip
    for i in range(6):
        x_value = x_max * i / 5
        parts.append(f'<text x="{sx(x_value):.1f}" y="{H - PAD_B + 16}" class="a" '
                     f'text-anchor="middle">{x_value:.0f}s</text>')  # fmt: skip
    parts.append(f'<text x="12" y="{PAD_T + plot_h / 2}" class="a" '
                 f'transform="rotate(-90 12 {PAD_T + plot_h / 2})" text-anchor="middle">'
                 f"{html.escape(unit)}</text>")  # fmt: skip
    legend_x = W - PAD_R
    for index, (label, values) in enumerate(lines.items()):
        color = COLORS[index % len(COLORS)]
        if values:
            path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in values)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" '
                         'stroke-width="1.8"/>')  # fmt: skip
        legend_x -= 8 + 7 * len(label) + 14
        label_text = html.escape(label)
        parts.append(f'<rect x="{legend_x}" y="7" width="10" height="10" fill="{color}"/>')
        parts.append(f'<text x="{legend_x + 14}" y="16" class="a">{label_text}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _phase_rows(phases: dict[str, dict[str, Any]]) -> list[list[Any]]:
    return [
        [name, p["type"], p["count"], p["failures"], f"{p['p50']:g}", f"{p['p90']:g}",
         f"{p['p99']:g}", f"{p['max']:.0f}", f"{p['rps']:.1f}"]
        for name, p in phases.items()
    ]  # fmt: skip


FILES = (
    "<h2>Files</h2><div class='meta'>locust.html (Locust's report), locust_stats.csv, "
    "locust_stats_history.csv, locust_failures.csv, summary.json, locust.log</div>"
)

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#111}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:24px 0 8px}
.meta{color:#555} .ok{color:#059669;font-weight:600} .bad{color:#dc2626;font-weight:600}
table{border-collapse:collapse;margin:6px 0} td,th{border:1px solid #ddd;padding:3px 8px;
text-align:right} th{background:#f3f4f6} td:first-child,th:first-child{text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:12px} svg{background:#fff;border:1px solid #e5e7eb}
svg .t{font-size:13px;font-weight:600} svg .a{font-size:10px;fill:#555}
svg .g{stroke:#eee} ul{margin:4px 0}
.banner{padding:8px 12px;margin:10px 0;border-radius:4px} .banner.bad{background:#fee2e2}
.banner.warn{background:#fef3c7}
"""


def _usdc(value: Any) -> str:
    """Atomic units of a 6-decimal stablecoin as dollars (USDC, PYUSD)."""
    if not isinstance(value, int):
        return str(value)
    return f"{value / 1_000_000:,.6f} USDC ({value:,} atomic)"


def _reconciliation_rows(reconciliation: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for key, value in reconciliation.items():
        if key in ("problems", "notes"):
            continue
        if key.endswith("Atomic"):
            rows.append([key.removesuffix("Atomic"), _usdc(value)])
        else:
            rows.append([key, value])
    return rows


def _banner(summary: dict[str, Any]) -> list[str]:
    verdict = summary.get("verdict", {})
    out = []
    if verdict.get("reasons"):
        out.append("<div class='banner bad'><b>FAIL</b><ul>")
        out += [f"<li>{html.escape(r)}</li>" for r in verdict["reasons"]]
        out.append("</ul></div>")
    for warning in verdict.get("warnings", []):
        out.append(f"<div class='banner warn'>{html.escape(warning)}</div>")
    return out


def _charts(summary: dict[str, Any]) -> list[str]:
    series = summary.get("series", {})
    phases = [
        name
        for name in summary.get("phases", {})
        if series.get(name) and not name.startswith("RPC ") and name != "supported"
    ]
    out = ["<h2>Over time</h2><div class='charts'>"]
    throughput = summary.get("throughput", {})
    main = throughput.get("phase")
    if main and series.get(main):
        lines = {
            f"{main}/s": [(p["t"], p["rps"]) for p in throughput.get("series", [])],
            "failures/s": [(p["t"], p["fps"]) for p in series[main]],
        }
        out.append(line_chart(f"{main}: throughput", lines, "per second"))
    if len(phases) > 1:  # where the time of one round trip goes
        means = {
            name: [(p["t"], p["mean"]) for p in series[name] if p.get("mean") is not None]
            for name in phases
        }
        out.append(line_chart("mean latency per phase, each second", means, "ms"))
    for name in phases:
        latency = {
            key: [(p["t"], p[key]) for p in series[name] if p.get(key) is not None]
            for key in ("p50", "p90", "p99")
        }
        out.append(line_chart(f"{name}: latency", latency, "ms"))
    cpu = summary.get("generator", {}).get("cpu", {})
    if cpu.get("series"):
        lines = {
            "generator": [(p["t"], p["cpu"]) for p in cpu["series"]],
            "busiest process": [(p["t"], p["busiest"]) for p in cpu["series"]],
            "machine": [(p["t"], p["machine"]) for p in cpu["series"]],
        }
        out.append(line_chart("load generator CPU", lines, "% of one core (machine: %)"))
    out.append("</div>")
    if throughput.get("note"):
        out.append(f"<div class='meta'>Throughput: {html.escape(throughput['note'])}.</div>")
    return out


def render_report(summary: dict[str, Any]) -> str:
    verdict = "PASS" if summary.get("ok") else "FAIL"
    css_class = "ok" if summary.get("ok") else "bad"
    run = summary.get("run", {})
    out = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>x402 load test: {html.escape(summary['profile'])}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>x402 load test: {html.escape(summary['profile'])} "
        f"<span class='{css_class}'>{verdict}</span></h1>",
        f"<div class='meta'>{html.escape(summary.get('startedAt', ''))} · "
        f"{run.get('users')} users, shape {html.escape(str(run.get('shape')))}, "
        f"{run.get('durationSeconds')} s, {run.get('processes')} process(es) · target "
        f"{html.escape(str(run.get('host')))}</div>",
        *_banner(summary),
        "<h2>Phases (milliseconds)</h2>",
        _table(
            ["phase", "type", "count", "failures", "p50", "p90", "p99", "max", "req/s"],
            _phase_rows(summary.get("phases", {})),
        ),
    ]
    if summary.get("steps"):
        out.append("<h2>Per step</h2>")
        rows = [
            [s["users"], s["fromSeconds"], s["seconds"], s["perSecond"], s["failures"],
             s["p50"], s["p99"]]
            for s in summary["steps"]
        ]  # fmt: skip
        out.append(_table(["users", "from s", "seconds", "per s", "failures", "p50", "p99"], rows))
    if summary.get("failureReasons"):
        out.append("<h2 class='bad'>Failures by reason</h2>")
        rows = [[f["name"], f["error"], f["occurrences"]] for f in summary["failureReasons"]]
        out.append(_table(["request", "error", "times"], rows))
    out += _charts(summary)
    cpu = summary.get("generator", {}).get("cpu", {})
    generator = {k: v for k, v in summary.get("generator", {}).items() if k != "cpu"}
    generator.update({f"cpu {k}": v for k, v in cpu.items() if k != "series"})
    out.append("<h2>Load generator</h2>")
    out.append(_table(["figure", "value"], [[k, v] for k, v in generator.items()]))
    split = summary.get("serverSplit")
    if split:
        out.append("<h2>Where the paid server's time goes (its /metrics, mean ms)</h2>")
        rows = [
            ["facilitator /verify", split["verifyMs"], split["verifies"]],
            ["facilitator /settle", split["settleMs"], split["settles"]],
            ["whole request (402s included)", split["requestMs"], split["requests"]],
            ["the rest: handler and server, per request", split["restMsPerRequest"], ""],
        ]
        out.append(_table(["part", "mean ms", "calls"], rows))
    if summary.get("targetCpu"):
        out.append("<h2>Target processes (CPU, % of one core)</h2>")
        rows = [[n, f["avgPercent"], f["maxPercent"]] for n, f in summary["targetCpu"].items()]
        out.append(_table(["process", "average", "max"], rows))
    reconciliation = summary.get("reconciliation", {})
    if reconciliation.get("checked"):
        out.append("<h2>Reconciliation with the chain</h2>")
        out.append(_table(["figure", "value"], _reconciliation_rows(reconciliation)))
        for problem in reconciliation.get("problems", []):
            out.append(f"<div class='bad'>{html.escape(problem)}</div>")
        for note in reconciliation.get("notes", []):
            out.append(f"<div class='meta'>{html.escape(note)}</div>")
    out.append(FILES)
    out.append("</body></html>")
    return "\n".join(out)
