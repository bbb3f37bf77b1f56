"""Interop tests: run by `make interop` (interop/run.sh) with the project's .venv python."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sdk_env import SDK_FIXTURES, sdk_python


@pytest.fixture(scope="session")
def interop_python() -> Path:
    try:
        return sdk_python()
    except FileNotFoundError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def sdk_fixtures() -> Path:
    return SDK_FIXTURES
