"""What `make` runs for a printed `make ...` command: expanded by the real Makefile (`make -n`)."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def make_runs(command: str) -> list[str]:
    """The x402-sandbox argv (after the program) that `make` runs for `command`."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    words = shlex.split(command)
    assert words[0] == "make", command
    dry = subprocess.run(
        ["make", "-n", "--no-print-directory", *words[1:]],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    # A stale .venv adds install lines before it (printed, not run); the recipe comes last.
    recipe = shlex.split(dry.stdout.strip().splitlines()[-1])
    assert recipe[0] == ".venv/bin/x402-sandbox", recipe
    return recipe[1:]
