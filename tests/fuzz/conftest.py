"""The fuzzers: run by `make fuzz`, never by `make test` or a bare `pytest`.

The files here are collected only when asked for: `pytest tests/fuzz` (what `make fuzz` runs),
a path inside this folder, or X402_FUZZ=1. Asked for, every hypothesis test in the session runs
under the "x402-fuzz" profile: no deadline, derandomized (the same inputs on every run, so CI is
reproducible) and no example database. At the end pytest prints how many inputs each fuzzer
sent and what they got back (fuzz_tally.py).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

HERE = Path(__file__).resolve().parent
_ACTIVE = pytest.StashKey[bool]()


def _asked_for(config) -> bool:
    if os.environ.get("X402_FUZZ") == "1":
        return True
    root = Path(config.invocation_params.dir)
    for arg in config.invocation_params.args:
        arg = str(arg)
        if arg.startswith("-"):
            continue
        path = (root / arg.split("::", 1)[0]).resolve()
        if path == HERE or HERE in path.parents:
            return True
    return False


def pytest_configure(config) -> None:
    if not _asked_for(config):
        return
    config.stash[_ACTIVE] = True
    settings.register_profile(
        "x402-fuzz",
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=False,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )
    settings.load_profile("x402-fuzz")
    # The standard library's JSON encoder writes the 1,000-deep payloads the fuzzers send.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))


def pytest_ignore_collect(collection_path, config):
    if collection_path.name.startswith("test_") and not config.stash.get(_ACTIVE, False):
        return True
    return None


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not config.stash.get(_ACTIVE, False):
        return
    from fuzz_tally import TALLIES

    if not TALLIES:
        return
    terminalreporter.section("fuzz inputs")
    for tally in TALLIES.values():
        terminalreporter.write_line(tally.summary())


@pytest.fixture(scope="session")
def fuzz_target(tmp_path_factory):
    """Chain, facilitator and paid server, real processes on free loopback ports (fuzz_stack)."""
    from fuzz_stack import fuzz_stack

    with fuzz_stack(tmp_path_factory.mktemp("fuzz-stack")) as stack:
        yield stack
