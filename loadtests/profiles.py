"""The load profiles the CLI knows: name -> locustfile, target, what the main entry is."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["PROFILES", "Profile", "locustfile"]

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Profile:
    name: str
    file: str
    target: str  # "server" or "facilitator": where --host points
    main_entry: str  # the entry thresholds apply to
    moves_money: bool  # reconcile balances after the run
    description: str

    @property
    def path(self) -> Path:
        return HERE / self.file


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            "paid-flow", "locustfile_paid.py", "server", "round trip", True,
            "GET -> 402 -> sign -> paid GET against the server",
        ),
        Profile(
            "challenge", "locustfile_challenge.py", "server", "challenge", False,
            "the unpaid GET and its 402 only",
        ),
        Profile(
            "verify", "locustfile_verify.py", "facilitator", "verify", False,
            "facilitator POST /verify with pre-signed payments",
        ),
        Profile(
            "settle", "locustfile_settle.py", "facilitator", "settle", True,
            "facilitator POST /settle, every payment unique",
        ),
    )
}  # fmt: skip


def locustfile(name: str) -> Path:
    return PROFILES[name].path
