"""The HTML page of a check-client run: one self-contained file (no scripts, no external
assets), the verdict table, then each case's evidence: requests with their x402 headers decoded,
the payer's transactions with signatures, balances and the client's output."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from sandbox.check_client.harness import CaseResult

__all__ = ["to_html", "write_html"]

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
.PASS { color: #176f2c; font-weight: bold; } .FAIL { color: #b00020; font-weight: bold; }
.WARN { color: #9a6700; font-weight: bold; }
code, pre { font: 12px/1.3 ui-monospace, monospace; word-break: break-all; }
pre { background: #f6f8fa; padding: 8px; white-space: pre-wrap; max-height: 30em; overflow: auto; }
details { margin: 0.3em 0; }
"""


def _verdict(result: CaseResult) -> str:
    if result.passed:
        return "PASS"
    return "FAIL" if result.case.level == "MUST" else "WARN"


def _pre(data: object) -> str:
    text = data if isinstance(data, str) else json.dumps(data, indent=2)
    return f"<pre>{escape(text)}</pre>"


def _case_section(result: CaseResult) -> str:
    ev = result.evidence
    verdict = _verdict(result)
    parts = [
        f'<h2 id="{escape(result.case.name)}">{escape(result.case.name)} '
        f'<span class="{verdict}">{verdict}</span></h2>',
        f"<p>The client {result.case.level.lower()} {escape(result.case.must)}.</p>",
        f"<p>{escape(result.message)}</p>",
        f"<p>Payer <code>{escape(ev.payer)}</code>: USDC {ev.usdc_before} &rarr; {ev.usdc_after}, "
        f"SOL {ev.sol_before} &rarr; {ev.sol_after} lamports; client {escape(ev.client_exit())}."
        "</p>",
        "<h3>Requests the server saw</h3>",
    ]
    for seen in ev.requests:
        decoded = {
            "headers": seen.headers,
            "payment": seen.payment,
            "transaction": seen.transaction and vars(seen.transaction),
            "offers": seen.offers,
            "receipt": seen.receipt,
            "decodeError": seen.decode_error,
        }
        parts.append(f"<details><summary><code>{escape(seen.summary())}</code></summary>")
        parts.append(_pre(decoded) + "</details>")
    parts.append("<h3>The payer's transactions on chain</h3>")
    if not ev.transactions:
        parts.append("<p>none</p>")
    else:
        rows = "".join(
            f"<tr><td><code>{escape(tx.signature)}</code></td>"
            f"<td>{'landed' if tx.landed else escape(str(tx.err))}</td>"
            f"<td><code>{escape(tx.fee_payer)}</code></td><td>{escape(str(tx.memos))}</td>"
            f"<td>{escape(str([t['amount'] for t in tx.transfers]))}</td></tr>"
            for tx in ev.transactions
        )
        parts.append(
            "<table><tr><th>signature</th><th>result</th><th>fee payer</th><th>memos</th>"
            f"<th>transfers</th></tr>{rows}</table>"
        )
    if ev.facilitator:
        rows = "".join(
            f"<tr><td>{escape(str(r['operation']))}</td>"
            f"<td>{'success' if r.get('success') else escape(str(r.get('reason')))}</td>"
            f"<td>{escape(str(r.get('message') or ''))}</td>"
            f"<td><code>{escape(str(r.get('transaction') or ''))}</code></td></tr>"
            for r in ev.facilitator
        )
        parts.append(
            "<h3>The facilitator's records</h3><table><tr><th>operation</th><th>outcome</th>"
            f"<th>message</th><th>transaction</th></tr>{rows}</table>"
        )
    parts.append("<h3>Client output (last lines)</h3>" + _pre(ev.output or "(none)"))
    return "\n".join(parts)


def to_html(results: list[CaseResult], command: list[str]) -> str:
    rows = "".join(
        f'<tr><td><a href="#{escape(r.case.name)}">{escape(r.case.name)}</a></td>'
        f'<td>{r.case.level}</td><td class="{_verdict(r)}">{_verdict(r)}</td>'
        f"<td>{escape(r.message)}</td>"
        f"<td>{len(r.evidence.paid_requests)} sent, {len(r.evidence.landed)} landed</td></tr>"
        for r in results
    )
    sections = "\n".join(_case_section(r) for r in results)
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>x402 check-client</title><style>{STYLE}</style></head><body>"
        f"<h1>x402 check-client</h1><p>Client: <code>{escape(' '.join(command))}</code></p>"
        "<table><tr><th>case</th><th>level</th><th>verdict</th><th>what was seen</th>"
        f"<th>payments</th></tr>{rows}</table>\n{sections}</body></html>\n"
    )


def write_html(path: Path, results: list[CaseResult], command: list[str]) -> None:
    path.write_text(to_html(results, command))
