"""check-client's own tests: run by `make test-check-client` (and .ci/run), not `make test`.

They start a whole stack and run clients through every case (about a minute on 2 cores), which
`make test` cannot afford within its ten minutes. Collected only when asked for: `pytest
tests/check_client`, a path inside this folder, or X402_CHECK_CLIENT_TESTS=1.
"""

from __future__ import annotations

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _asked_for(config) -> bool:
    if os.environ.get("X402_CHECK_CLIENT_TESTS") == "1":
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


def pytest_ignore_collect(collection_path, config):
    if collection_path.name.startswith("test_") and not _asked_for(config):
        return True
    return None
