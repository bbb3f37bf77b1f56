"""The README's example scenario, run as a user would add it: a new module of the `scenarios`
package, found by discovery and run against the stack (not only parsed)."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import pytest

import scenarios
from sandbox.scenario_runner import framework
from sandbox.scenario_runner.runner import discover, run

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"


def scenarios_section() -> str:
    return README.read_text().split("\n## Scenarios", 1)[1].split("\n## ", 1)[0]


def readme_example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", scenarios_section(), flags=re.S)
    examples = [block for block in blocks if "@scenario(" in block]
    assert len(examples) == 1, "the Scenarios section should show exactly one example scenario"
    return examples[0]


def test_the_readme_says_where_a_new_scenario_goes() -> None:
    assert "`scenarios/` package" in scenarios_section()


def test_the_readme_example_scenario_runs_and_passes(
    x402_stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A folder added to the package's path stands in for the user's new file in scenarios/,
    # so the checkout is not touched while others run the catalogue.
    (tmp_path / "readme_example.py").write_text(readme_example())
    before = set(discover())
    monkeypatch.setattr(scenarios, "__path__", [*scenarios.__path__, str(tmp_path)])
    try:
        catalogue = discover()
        added = [catalogue[name] for name in set(catalogue) - before]
        assert [item.module for item in added] == ["scenarios.readme_example"], added
        results = asyncio.run(
            run(added, x402_stack.server_url, x402_stack.facilitator_url, x402_stack.rpc_url)
        )
    finally:
        for name in set(framework.REGISTRY) - before:
            framework.REGISTRY.pop(name)
        sys.modules.pop("scenarios.readme_example", None)
    (result,) = results
    assert (result.passed, result.skipped) == (True, False), result.detail
    assert result.detail == "paid 1000"  # the weather's $0.001, in atomic units
