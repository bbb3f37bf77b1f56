"""README.md is the front door: every command it shows must exist with the flags it shows."""

from __future__ import annotations

import ast
import re
import shlex
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def shell_lines() -> list[str]:
    lines = []
    for block in code_blocks("bash"):
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            line = line.split("  #", 1)[0].strip()
            if line:
                lines.append(line)
    return lines


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][a-z-]*):", text, flags=re.M))


@cache
def help_text(command: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "sandbox.cli", command, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"COLUMNS": "300", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_every_make_target_shown_exists() -> None:
    shown = {line.split()[1] for line in shell_lines() if line.startswith("make ")}
    assert shown, "the README shows no make command"
    assert shown <= make_targets(), shown - make_targets()
    assert {"up", "test", "down"} <= shown


CLI_LINES = [line for line in shell_lines() if line.startswith(".venv/bin/x402-sandbox ")]


@pytest.mark.parametrize("line", CLI_LINES)
def test_every_cli_flag_shown_exists(line: str) -> None:
    words = shlex.split(line.replace("<", "").replace(">", ""))
    command = words[1]
    flags = [w.split("=")[0] for w in words[2:] if w.startswith("--")]
    text = help_text(command)
    for flag in flags:
        assert flag in text, f"`{line}`: {command} has no {flag}"


@pytest.mark.parametrize("block", code_blocks("python"))
def test_python_examples_are_valid_python(block: str) -> None:
    ast.parse(block)
