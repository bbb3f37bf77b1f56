"""interop/agreement.json is well formed, fully observed, and every case can be built by our payer.

The verdicts are observed by `make interop` (interop/tests/test_agreement_observed.py: our
facilitator and the SDK's judge each case on the real chain); this checks the parts that must hold
at all times, so a broken or half-filled table fails `make test` already.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import pytest

from sandbox.payer import build_payment
from sandbox.payer.mutations import MUTATIONS

ROOT = Path(__file__).resolve().parents[2]
TABLE = json.loads((ROOT / "interop" / "agreement.json").read_text())
SCHEMA = json.loads((ROOT / "interop" / "agreement.schema.json").read_text())
CASES: list[dict[str, Any]] = TABLE["cases"]
DECISIONS = set(SCHEMA["$defs"]["verdict"]["properties"]["decision"]["enum"])
FOLLOWS = set(
    SCHEMA["$defs"]["case"]["properties"]["divergence"]["oneOf"][1]["properties"]["follows"]["enum"]
)
DECISIONS_BY_ENDPOINT = {
    "verify": {"valid", "invalid", "rejected"},
    "settle": {"settled", "failed", "rejected"},
}


def verdict_problems(verdict: Any, endpoint: str, what: str) -> list[str]:
    if verdict is None:
        return []
    if not isinstance(verdict, dict) or set(verdict) - {"decision", "reason", "message", "source"}:
        return [f"{what}: not a verdict object: {verdict!r}"]
    problems = []
    decision, reason = verdict.get("decision"), verdict.get("reason")
    if decision not in DECISIONS_BY_ENDPOINT[endpoint]:
        problems.append(f"{what}: decision {decision!r} is not one of {endpoint}'s")
    if decision in ("valid", "settled") and reason is not None:
        problems.append(f"{what}: a {decision} verdict carries no reason")
    if decision in ("invalid", "failed", "rejected") and not isinstance(reason, str):
        problems.append(f"{what}: a {decision} verdict needs a reason string")
    return problems


def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return all(a.get(k) == b.get(k) for k in TABLE["compare"])


def test_table_header() -> None:
    assert TABLE["sdk"] == {"package": "x402", "version": "2.25.0"}
    assert set(TABLE["compare"]) <= {"decision", "reason"} and TABLE["compare"]
    assert {"valid", "invalid", "settled", "failed", "rejected"} == DECISIONS


def test_case_ids_are_unique() -> None:
    ids = [case["id"] for case in CASES]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case_shape(case: dict[str, Any]) -> None:
    required = set(SCHEMA["$defs"]["case"]["required"])
    assert required <= set(case), f"missing {required - set(case)}"
    assert set(case) <= set(SCHEMA["$defs"]["case"]["properties"]), "unknown keys"
    assert case["x402Version"] in (1, 2)
    endpoint = case["endpoint"]
    assert endpoint in DECISIONS_BY_ENDPOINT
    problems = [
        *verdict_problems(case["ours"], endpoint, "ours"),
        *verdict_problems(case["sdk"], endpoint, "sdk"),
        *verdict_problems(case.get("sdkPredicted"), endpoint, "sdkPredicted"),
    ]
    assert not problems, problems


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case_is_buildable_by_our_payer(case: dict[str, Any]) -> None:
    mutation, args = case["build"]["mutation"], case["build"]["args"]
    if mutation is None:
        function = build_payment  # a correct payment; args are its keywords (memo, resource)
    else:
        assert mutation in MUTATIONS, f"{mutation!r} is not a sandbox.payer mutation"
        function = MUTATIONS[mutation]
    keywords = {
        name
        for name, p in inspect.signature(function).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }
    unknown = set(args) - keywords
    assert not unknown, f"{function.__name__} takes no keyword {sorted(unknown)}"
    offer = case.get("offer", {})
    assert set(offer) <= {"extra"} and isinstance(offer.get("extra", {}), dict), offer


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_both_verdicts_are_observed(case: dict[str, Any]) -> None:
    assert case["ours"] is not None and case["sdk"] is not None, (
        "run X402_INTEROP_RECORD=1 bash interop/run.sh -k agreement to observe this case"
    )


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_the_role_based_layout_is_observed_and_explained_where_it_differs(case) -> None:
    """Every case has our role-based verdict; `roleBased` says why exactly where it is not
    the positional one's."""
    role_based, note = case.get("oursRoleBased"), case.get("roleBased")
    assert role_based is not None, (
        "run X402_INTEROP_RECORD=1 bash interop/run.sh -k agreement to observe this case"
    )
    assert not verdict_problems(role_based, case["endpoint"], "oursRoleBased")
    if same(role_based, case["ours"]):
        assert note is None, "the layouts agree: nothing to explain"
    else:
        assert isinstance(note, dict) and len(note.get("why", "")) >= 10, (
            "the layouts differ: say why in roleBased.why"
        )


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_divergence_is_written_down_exactly_when_they_differ(case: dict[str, Any]) -> None:
    ours, sdk, divergence = case["ours"], case["sdk"], case["divergence"]
    if ours is None or sdk is None:
        assert divergence is None, "a divergence needs both verdicts observed"
        return
    if same(ours, sdk):
        assert divergence is None, "they agree: no divergence to explain"
    else:
        assert isinstance(divergence, dict), "they differ: say which follows the spec and why"
        assert divergence.get("follows") in FOLLOWS
        assert len(divergence.get("why", "")) >= 10
