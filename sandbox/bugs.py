"""Parsing of deliberate-bug names, shared by the components that offer `--bug NAME`.

Each component lists its own bugs (sandbox/facilitator/bugs.py, sandbox/server/bugs.py); this
only turns flags plus a comma-separated environment variable into a checked set.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

__all__ = ["parse_bug_names"]


def parse_bug_names(
    known: Mapping[str, str], names: Iterable[str], env_var: str, env: str | None = None
) -> frozenset[str]:
    """`names` plus those in $env_var (or `env`); ValueError naming any unknown one."""
    env = os.environ.get(env_var, "") if env is None else env
    chosen = [n.strip() for n in [*names, *env.split(",")] if n.strip()]
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        raise ValueError(
            f"unknown --bug {', '.join(unknown)} (from the flag or {env_var}); "
            f"choose from: {', '.join(known)}"
        )
    return frozenset(chosen)
