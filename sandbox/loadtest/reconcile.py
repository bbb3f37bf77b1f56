"""After a run that moves money: does the chain agree with what the load generator saw?

Every paid 200 and every successful settle was counted by the Locust process that got it,
per payer, with the transaction signature of its receipt (loadtests.accounting). Against
that, the chain's own figures over the run: the merchant's USDC gain, each payer's USDC loss
and the number of transactions executed. A payment lost (content or success without money)
or taken twice (money without content, or twice for one) shows up as a difference and fails
the run. Profiles that move no money (challenge, verify) must leave every balance unchanged.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.loadtest.chain_accounts import Snapshot

__all__ = ["Reconciliation", "merge_accounting", "reconcile"]


def merge_accounting(folder: Path) -> dict[str, Any]:
    """The sum of every Locust process's `process-<pid>.json` in `folder`."""
    merged: dict[str, Any] = {
        "processes": 0, "paid": {}, "signatures": [], "unconfirmed": 0,
        "signed": 0, "signSeconds": 0.0, "starved": 0, "failures": {},
    }  # fmt: skip
    for path in sorted(folder.glob("process-*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        merged["processes"] += 1
        for payer, (count, amount) in data.get("paid", {}).items():
            entry = merged["paid"].setdefault(payer, [0, 0])
            entry[0] += count
            entry[1] += amount
        merged["signatures"] += data.get("signatures", [])
        for key in ("unconfirmed", "signed", "signSeconds", "starved"):
            merged[key] += data.get(key, 0)
        for name, error, count in data.get("failures", []):
            merged["failures"][(name, error)] = merged["failures"].get((name, error), 0) + count
    return merged


@dataclass
class Reconciliation:
    checked: bool
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "ok": self.ok,
            "problems": self.problems,
            "notes": self.notes,
            **self.figures,
        }


def _delta(before: int | None, after: int | None) -> int | None:
    if before is None and after is None:
        return None
    return (after or 0) - (before or 0)


def reconcile(
    moves_money: bool, before: Snapshot, after: Snapshot, merged: dict[str, Any]
) -> Reconciliation:
    result = Reconciliation(checked=True)
    paid: dict[str, list[int]] = merged["paid"]
    payments = sum(count for count, _ in paid.values())
    expected = sum(amount for _, amount in paid.values())
    merchant = _delta(before.merchant, after.merchant)
    spent = {p: -(_delta(before.payers[p], after.payers.get(p)) or 0) for p in before.payers}
    payers_spent = sum(spent.values())
    transactions = (
        None
        if before.transactions is None or after.transactions is None
        else after.transactions - before.transactions
    )
    signatures = merged["signatures"]
    duplicates = {sig: n for sig, n in Counter(signatures).items() if n > 1}
    result.figures = {
        "payments": payments,
        "expectedAtomic": expected,
        "merchantReceivedAtomic": merchant,
        "payersSpentAtomic": payers_spent,
        "chainTransactions": transactions,
        "receiptSignatures": len(signatures),
        "duplicateSignatures": len(duplicates),
        "unconfirmed": merged["unconfirmed"],
    }
    problems = result.problems
    if not moves_money:
        if payers_spent or merchant:
            problems.append(
                f"a profile that moves no money moved some: payers spent {payers_spent}, "
                f"merchant received {merchant} (atomic USDC)"
            )
        if transactions:
            result.notes.append(
                f"the chain executed {transactions} transactions during the run (other traffic?)"
            )
        return result
    if merchant is None:
        problems.append("the merchant has no USDC account: cannot check what it received")
    elif merchant > expected:
        problems.append(
            f"merchant received {merchant - expected} atomic USDC more than the {payments} "
            f"paid responses account for ({expected}): money taken without a paid answer, "
            "or taken twice"
        )
    elif merchant < expected:
        problems.append(
            f"merchant received {expected - merchant} atomic USDC less than the {payments} "
            f"paid responses account for ({expected}): payments lost (served or reported "
            "settled without the money arriving)"
        )
    if merchant is not None and payers_spent != merchant:
        problems.append(
            f"payers spent {payers_spent} atomic USDC but the merchant received {merchant}"
        )
    wrong = [
        (p, spent[p], paid.get(p, [0, 0])[1])
        for p in before.payers
        if spent[p] != paid.get(p, [0, 0])[1]
    ]
    for payer, was, counted in wrong[:5]:
        problems.append(f"payer {payer} spent {was} atomic USDC; its paid responses say {counted}")
    if len(wrong) > 5:
        problems.append(f"... and {len(wrong) - 5} more payers whose spending does not match")
    unknown = set(paid) - set(before.payers)
    if unknown:
        problems.append(f"{len(unknown)} payers paid that the run did not snapshot: {unknown}")
    if duplicates:
        problems.append(
            f"{len(duplicates)} transaction signatures were reported for more than one payment"
        )
    if transactions is not None and transactions != payments:
        problems.append(
            f"the chain executed {transactions} transactions during the run; "
            f"{payments} payments were counted (one transaction each)"
        )
    if merged["unconfirmed"]:
        result.notes.append(
            f"{merged['unconfirmed']} paid responses carried no successful receipt header"
        )
    return result
