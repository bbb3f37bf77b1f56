"""Where the load goes: flags first, else the running sandbox (its stack.json).

Errors say what to do: start the sandbox, or name the target. The wrapper passes what it
resolved to the Locust processes as environment variables, which read them in
loadtests/targets.py.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import httpx

from sandbox.orchestration.stack import StackInfo, StackPaths, read_stack, running_pids

__all__ = ["LoadtestError", "ResolvedTargets", "resolve_home", "resolve_targets"]


class LoadtestError(RuntimeError):
    """Something the user can act on; the message says what and how."""


@dataclass
class ResolvedTargets:
    server_url: str | None
    facilitator_url: str | None
    rpc_url: str | None
    stack: StackInfo | None  # the running sandbox, when one is used

    @property
    def merchant(self) -> str | None:
        if self.stack is None:
            return None
        return next((w.address for w in self.stack.wallets if w.name == "merchant"), None)


def resolve_home(home: str | None) -> Path:
    return Path(home or os.environ.get("X402_SANDBOX_HOME") or ".sandbox").resolve()


def resolve_targets(
    home: Path,
    needs: str,
    server: str | None,
    facilitator: str | None,
    rpc: str | None,
) -> ResolvedTargets:
    """`needs` is "server" or "facilitator": the target of the profile."""
    for flag, value in (("--server", server), ("--facilitator", facilitator), ("--rpc", rpc)):
        if value is not None and not value.startswith(("http://", "https://")):
            raise LoadtestError(f"{flag} {value!r} is not an http(s) URL")
    stack = read_stack(StackPaths(home))
    use_stack = stack if stack is not None and _is_running(stack) else None
    server = server or (use_stack.server_url if use_stack else None)
    facilitator = facilitator or (use_stack.facilitator_url if use_stack else None)
    rpc = rpc or (use_stack.rpc_url if use_stack else None)
    target = server if needs == "server" else facilitator
    if target is None:
        where = f"{home}/stack.json"
        state = "is stopped" if stack is not None else "does not exist"
        raise LoadtestError(
            f"no sandbox stack is running ({where} {state}). Start one with "
            f"`x402-sandbox up` (or set X402_SANDBOX_HOME), or point at your own "
            f"{needs} with --{needs} URL"
        )
    _reachable(target.rstrip("/"), needs)
    return ResolvedTargets(
        server_url=server.rstrip("/") if server else None,
        facilitator_url=facilitator.rstrip("/") if facilitator else None,
        rpc_url=rpc.rstrip("/") if rpc else None,
        stack=use_stack,
    )


def _is_running(stack: StackInfo) -> bool:
    """Ours: its recorded processes are alive. A stack whose processes are not ours to see
    (compose: they live in containers, stack.json records no pid) runs when its server and
    facilitator answer, as `x402-sandbox status` judges it."""
    if stack.pids:
        return bool(running_pids(stack))
    for url in (stack.server_url, stack.facilitator_url):
        try:
            httpx.get(f"{url.rstrip('/')}/health", timeout=5.0)
        except httpx.HTTPError:
            return False
    return True


def _reachable(url: str, what: str) -> None:
    """Any HTTP answer will do (a foreign server may have no /health)."""
    try:
        httpx.get(f"{url}/health", timeout=5.0)
    except httpx.HTTPError as exc:
        raise LoadtestError(f"the {what} at {url} does not answer: {exc}") from None
