"""The payer wallets a load test pays from: keypair files, handed out round robin.

Many payers spread the load the way real traffic does (one payer's token account is written
by every one of its payments). Users of one process get wallets in turn; processes of a
distributed run may share a wallet, which is safe: every payment carries a unique memo.
"""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

from solders.keypair import Keypair

from sandbox.payer import KeypairError, load_keypair

__all__ = ["WalletPool", "keypair_files"]


def keypair_files(folder: Path) -> list[Path]:
    """`payer-*.json` in `folder` if there are any (a sandbox home's keys/ also holds the
    merchant and fee payers), otherwise every `*.json`; sorted by name, numbers in order."""
    if not folder.is_dir():
        raise KeypairError(f"keypair folder {folder} does not exist")
    files = sorted(folder.glob("payer-*.json")) or sorted(folder.glob("*.json"))
    return sorted(files, key=lambda p: (len(p.stem), p.stem))


class WalletPool:
    def __init__(self, keypairs: list[Keypair]) -> None:
        if not keypairs:
            raise KeypairError("the wallet pool is empty: give at least one payer keypair")
        self.keypairs = keypairs
        self._next = itertools.cycle(range(len(keypairs)))
        self._lock = threading.Lock()

    @classmethod
    def from_folder(cls, folder: Path, limit: int | None = None) -> WalletPool:
        files = keypair_files(folder)
        if not files:
            raise KeypairError(f"no keypair files (*.json) in {folder}")
        if limit:
            files = files[:limit]
        return cls([load_keypair(path) for path in files])

    def __len__(self) -> int:
        return len(self.keypairs)

    def next(self) -> Keypair:
        with self._lock:
            return self.keypairs[next(self._next)]

    @property
    def addresses(self) -> list[str]:
        return [str(k.pubkey()) for k in self.keypairs]
