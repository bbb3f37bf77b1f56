"""docs/github-actions-x402-sandbox.yml, the CI recipe of the README: every make target it
runs exists, and the load test and compare commands it gives parse with our own CLI."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from sandbox.loadtest.cli import _parser

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "docs" / "github-actions-x402-sandbox.yml"


def _runs() -> list[str]:
    workflow = yaml.safe_load(RECIPE.read_text())
    steps = workflow["jobs"]["x402"]["steps"]
    return [line.strip() for step in steps for line in step.get("run", "").splitlines()]


def test_every_make_target_in_the_recipe_exists():
    targets = set(re.findall(r"^([a-z][a-z0-9-]*):", (ROOT / "Makefile").read_text(), re.M))
    used = {m.group(1) for line in _runs() if (m := re.match(r"make ([a-z][a-z0-9-]*)", line))}
    assert used >= {"venv", "up", "scenarios", "loadtest", "down"}
    assert used <= targets, used - targets


def test_the_recipes_load_test_arguments_parse():
    (line,) = [line for line in _runs() if line.startswith("make loadtest")]
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^loadtest:.*\n\t@\$\(SANDBOX\) loadtest (.*)\$\(ARGS\)", makefile, re.M)
    assert recipe is not None
    args = shlex.split(line.split("ARGS=", 1)[1].strip('"'))
    parsed = _parser().parse_args(shlex.split(recipe.group(1)) + args)
    assert parsed.profile == "paid-flow" and parsed.fail_p99 == 2000 and parsed.fail_ratio == 0.01
