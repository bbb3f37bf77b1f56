"""Every flag of every stack command appears whole in its --help at 80 columns (Rich's help
tables cut long names: "--facilitator-po…")."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer.main

from sandbox.orchestration.cli import app

COMMAND = typer.main.get_command(app)


@pytest.mark.parametrize("name", sorted(COMMAND.commands))
def test_every_flag_is_whole_in_help_at_80_columns(name: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sandbox.cli", name, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"COLUMNS": "80", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert "…" not in result.stdout, result.stdout
    flags = [opt for p in COMMAND.commands[name].params for opt in p.opts if opt.startswith("--")]
    missing = [flag for flag in flags if flag not in result.stdout]
    assert not missing, missing
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
