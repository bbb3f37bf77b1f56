"""The home folder's layout and its secrets: files only their owner can read.

Everything a stack creates lives under one home folder (`.sandbox/` by default); see
sandbox/orchestration/stack.py for what each file holds.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

__all__ = ["StackPaths", "admin_token_for_run", "flag_value", "memo_secret", "read_admin_token"]


@dataclass
class StackPaths:
    home: Path

    def __post_init__(self) -> None:
        self.home = Path(self.home).resolve()

    keys = property(lambda self: self.home / "keys")
    logs = property(lambda self: self.home / "logs")
    chain_state = property(lambda self: self.home / "chain" / "state.json")
    ledger = property(lambda self: self.home / "facilitator" / "ledger.sqlite3")
    memo_secret = property(lambda self: self.home / "server" / "memo-secret")
    payment_record = property(lambda self: self.home / "server" / "payments.sqlite3")
    admin_token = property(lambda self: self.home / "admin-token")
    stack_json = property(lambda self: self.home / "stack.json")
    stack_env = property(lambda self: self.home / "stack.env")
    reports = property(lambda self: self.home / "reports")

    def key(self, name: str) -> Path:
        return self.keys / f"{name}.json"

    def log(self, component: str) -> Path:
        return self.logs / f"{component}.log"


def write_secret(path: Path, text: str) -> None:
    """Write a file only its owner can read, from its first byte (never briefly 0644)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a file that already existed keeps its mode through O_CREAT
    with os.fdopen(fd, "w") as out:
        out.write(text)


def _stored(path: Path) -> str | None:
    with contextlib.suppress(OSError):
        return path.read_text().strip() or None
    return None


def read_admin_token(paths: StackPaths) -> str | None:
    """The admin token our commands send: the home's (its admin-token file), else
    $X402_SANDBOX_ADMIN_TOKEN (a stack this home did not start, such as compose's)."""
    return _stored(paths.admin_token) or os.environ.get("X402_SANDBOX_ADMIN_TOKEN") or None


def admin_token_for_run(
    paths: StackPaths, given: str | None, *component_args: tuple[str, ...]
) -> str:
    """The token `up` hands every component: `given` (--admin-token), else one the user put in
    a component's flags, else the home's own, made once. Stored in the home, so every command
    of ours finds it. Raises ValueError when the flags disagree."""
    tokens = {given, *(flag_value(args, "--admin-token") for args in component_args)} - {None}
    if len(tokens) > 1:
        raise ValueError(
            "different admin tokens for chain and facilitator: give one with `--admin-token TOKEN`"
        )
    stored = _stored(paths.admin_token)
    token = tokens.pop() if tokens else stored or secrets.token_urlsafe(24)
    if token != stored:
        write_secret(paths.admin_token, token + "\n")
    return token


def flag_value(args: tuple[str, ...], flag: str) -> str | None:
    """The value of `--flag VALUE` or `--flag=VALUE` in an argv (the last one wins)."""
    value = None
    for i, arg in enumerate(args):
        if arg == flag and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith(flag + "="):
            value = arg[len(flag) + 1 :]
    return value


def memo_secret(paths: StackPaths) -> str:
    """The paid server's memo secret, created once per home."""
    secret = _stored(paths.memo_secret)
    if secret is None:
        secret = secrets.token_hex(32)
        write_secret(paths.memo_secret, secret + "\n")
    return secret
