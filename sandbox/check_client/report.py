"""The verdicts: a table on the terminal (with the evidence of each failed case under it) and a
JSON report of every case with everything seen."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from rich.console import Console
from rich.table import Table

from sandbox.check_client.harness import CaseResult

__all__ = ["print_report", "to_json", "to_junit", "write_json", "write_junit"]


def _verdict(result: CaseResult) -> str:
    if result.passed:
        return "[green]PASS[/green]"
    return "[red]FAIL[/red]" if result.case.level == "MUST" else "[yellow]WARN[/yellow]"


def _memo_less(results: list[CaseResult]) -> bool:
    """The memo case saw only transactions without a Memo instruction."""
    for result in results:
        if result.case.name == "memo-copied" and not result.passed:
            sent = [r.transaction for r in result.evidence.paid_requests if r.transaction]
            return bool(sent) and all(not tx.memos for tx in sent)
    return False


def print_report(results: list[CaseResult], console: Console, route_binding: str = "memo") -> None:
    table = Table("case", "level", "verdict", "what was seen", "payments", "client")
    for result in results:
        ev = result.evidence
        payments = f"{len(ev.paid_requests)} sent, {len(ev.landed)} landed"
        table.add_row(
            result.case.name,
            result.case.level,
            _verdict(result),
            result.message,
            payments,
            ev.client_exit(),
        )
    console.print(table)
    for result in results:
        if result.passed:
            continue
        ev = result.evidence
        level = result.case.level.lower()
        console.print(f"[bold]{result.case.name}[/bold]: the client {level} {result.case.must}")
        for seen in ev.requests:
            console.print(f"  request  {seen.summary()}", highlight=False)
        for tx in ev.transactions:
            state = "landed" if tx.landed else f"failed {tx.err}"
            client = tx.signatures[-1][:16] if len(tx.signatures) > 1 else "-"
            console.print(
                f"  chain    {tx.signature} {state}, blockhash {tx.blockhash}, fee payer "
                f"{tx.fee_payer}, client signature "
                f"{client}.., memos {tx.memos}, transfers {[t['amount'] for t in tx.transfers]}",
                highlight=False,
            )
        for record in ev.facilitator:
            outcome = "success" if record.get("success") else record.get("reason")
            console.print(
                f"  facilitator {record['operation']}: {outcome} {record.get('message') or ''}",
                highlight=False,
                markup=False,
            )
        console.print(
            f"  balances USDC {ev.usdc_before} -> {ev.usdc_after}, "
            f"SOL {ev.sol_before} -> {ev.sol_after} lamports",
            highlight=False,
        )
        tail = ev.output.strip().splitlines()[-5:]
        for line in tail:
            short = line if len(line) <= 200 else line[:200] + "..."  # the rest is in --json
            console.print(f"  client | {short}", highlight=False, markup=False)
    if route_binding == "memo" and _memo_less(results):
        console.print(
            "[yellow]hint:[/yellow] this client puts no Memo instruction in its transactions, "
            "so every offer with extra.memo refused it; run again with --route-binding none to "
            "judge it on the other cases (offers without extra.memo)"
        )
    failed = [r.case.name for r in results if not r.passed and r.case.level == "MUST"]
    warned = [r.case.name for r in results if not r.passed and r.case.level != "MUST"]
    if warned:
        console.print(f"[yellow]{len(warned)} warning(s):[/yellow] {', '.join(warned)}")
    if failed:
        console.print(f"[red]{len(failed)} MUST case(s) failed:[/red] {', '.join(failed)}")
    elif not warned:
        console.print(f"[green]all {len(results)} case(s) passed[/green]")
    else:
        console.print(f"[green]every MUST case passed[/green] ({len(results)} case(s) run)")


def to_json(results: list[CaseResult], command: list[str]) -> dict[str, Any]:
    return {
        "command": command,
        "passed": all(r.passed for r in results if r.case.level == "MUST"),
        "cases": [r.to_json() for r in results],
    }


def write_json(path: Path, results: list[CaseResult], command: list[str]) -> None:
    path.write_text(json.dumps(to_json(results, command), indent=2) + "\n")


def to_junit(results: list[CaseResult]) -> bytes:
    """One testcase per case: a failed MUST is a failure; a failed SHOULD passes with its
    warning in system-out (CI stays green on a warning, as the exit code does)."""
    failed = [r for r in results if not r.passed and r.case.level == "MUST"]
    suite = ElementTree.Element(
        "testsuite",
        name="x402-check-client",
        tests=str(len(results)),
        failures=str(len(failed)),
        time=f"{sum(r.evidence.seconds for r in results):.3f}",
    )
    for result in results:
        case = ElementTree.SubElement(
            suite,
            "testcase",
            classname=f"check-client.{result.case.level}",
            name=result.case.name,
            time=f"{result.evidence.seconds:.3f}",
        )
        seen = "\n".join(r.summary() for r in result.evidence.requests)
        if result in failed:
            failure = ElementTree.SubElement(case, "failure", message=result.message)
            failure.text = f"the client must {result.case.must}\n{seen}"
        elif not result.passed:
            ElementTree.SubElement(case, "system-out").text = f"WARNING: {result.message}"
    return ElementTree.tostring(suite, encoding="utf-8", xml_declaration=True)


def write_junit(path: Path, results: list[CaseResult]) -> None:
    path.write_bytes(to_junit(results))
