"""The state file: LiteSVM cannot save itself, so the chain saves the accounts it wrote.

Format (JSON, version 1): slot, block height, the authority keypair (mint authority and faucet),
and every account transactions or cheat codes touched, except programs and sysvars. Written to
a temporary file and renamed, so a crash mid-save never leaves half a state behind. Both are
created mode 0600 (they hold the mint authority's secret key), never chmod-ed afterwards.

With a state file the chain also keeps a journal (journal.py): the state file is where its
replay starts, and the seed in both says which ledger they belong to.

Snapshots (`sandbox_saveState NAME` / `sandbox_loadState NAME`) are state files named by a
plain name, `[A-Za-z0-9_-]{1,64}`, stored as <state dir>/snapshots/NAME.json: the cheat codes
never take a path, so no request can write or probe a file elsewhere.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
from pathlib import Path
from typing import Any

from solders.account import Account
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from .errors import RpcError, shown
from .node import ChainNode

__all__ = ["SNAPSHOT_NAME", "StateError", "load_state", "save_state", "snapshot_path"]

FORMAT_VERSION = 1
SNAPSHOT_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SYSVAR_OWNER = Pubkey.from_string("Sysvar1111111111111111111111111111111111111")


class StateError(ValueError):
    """A state file that cannot be read; the message says which file and why."""


def _snapshot(node: ChainNode) -> dict[str, Any]:
    producer = node.producer
    accounts: dict[str, Any] = {}
    keys = set(producer.touched) | {node.twin.authority.pubkey(), *node.twin.mints}
    for pubkey in keys:
        account = producer.svm.get_account(pubkey)
        if account is None or account.executable or account.owner == _SYSVAR_OWNER:
            continue
        if account.lamports == 0 and not account.data:
            continue
        accounts[str(pubkey)] = {
            "lamports": account.lamports,
            "data": base64.b64encode(bytes(account.data)).decode(),
            "owner": str(account.owner),
            "executable": False,
        }
    return {
        "version": FORMAT_VERSION,
        "slot": producer.slot,
        "blockHeight": producer.block_height,
        "genesisHash": node.settings.genesis_hash,
        "seed": producer.seed.hex(),  # names the ledger: its journal frames carry the same
        "usdcMint": str(node.twin.usdc_mint),
        "authority": list(bytes(node.twin.authority)),
        "accounts": accounts,
    }


def save_state(node: ChainNode, path: Path) -> int:
    """Write the state file; returns how many accounts it holds."""
    snapshot = _snapshot(node)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with _create_private(tmp) as out:
        json.dump(snapshot, out, separators=(",", ":"))
        out.flush()
        os.fsync(out.fileno())  # on disk before the rename (a checkpoint then drops the journal)
    os.replace(tmp, path)
    return len(snapshot["accounts"])


def _create_private(path: Path):
    """A new file open for writing, mode 0600 from its creation (a leftover is replaced)."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    return os.fdopen(os.open(path, flags, 0o600), "w")


def load_state(node: ChainNode, path: Path, *, same_ledger: bool = False) -> int:
    """Replace the ledger with the saved one; returns how many accounts were loaded.

    `same_ledger` (the chain's own state file at start): keep the saved ledger's seed, so its
    journal replays over it and its blockhashes stay live. Otherwise (sandbox_loadState) the
    loaded ledger is a new one, with a new seed."""
    try:
        snapshot = json.loads(path.read_text())
        if snapshot.get("version") != FORMAT_VERSION:
            raise StateError(f"{path}: unknown state format {snapshot.get('version')!r}")
        authority = Keypair.from_bytes(bytes(snapshot["authority"]))
        accounts = [
            (
                Pubkey.from_string(key),
                Account(
                    lamports=int(value["lamports"]),
                    data=base64.b64decode(value["data"]),
                    owner=Pubkey.from_string(value["owner"]),
                    executable=False,
                ),
            )
            for key, value in snapshot["accounts"].items()
        ]
        slot, height = int(snapshot["slot"]), int(snapshot["blockHeight"])
        seed = bytes.fromhex(snapshot["seed"]) if same_ledger and "seed" in snapshot else None
    except OSError as exc:
        raise StateError(f"{path}: cannot read state file: {exc}") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise StateError(f"{path}: not a valid chain state file ({exc})") from None
    node.producer.reset(slot=slot, height=height)
    if seed is not None:
        node.producer.seed = seed
    node.forget_caches()
    node.twin.authority = authority
    for pubkey, account in accounts:
        node.producer.set_account(pubkey, account)
    node.twin.install()
    return len(accounts)


def snapshot_path(node: ChainNode, name: Any) -> Path:
    """The file of snapshot `name` (None: the main state file); -32602 naming `name` otherwise."""
    if name is None:
        if node.state_file is None:
            raise RpcError.invalid_params(
                "`name` is required: the chain runs without --state (give a snapshot name, "
                "and start the chain with --state-dir DIR)"
            )
        return node.state_file
    if not isinstance(name, str) or not SNAPSHOT_NAME.fullmatch(name):
        raise RpcError.invalid_params(
            f"`name` must be a snapshot name matching [A-Za-z0-9_-]{{1,64}}, not a path; "
            f"got {shown(name)}"
        )
    folder = node.settings.snapshot_dir
    if folder is None:
        raise RpcError.invalid_params(
            "`name`: snapshots need --state-dir DIR (or --state FILE); the chain runs with neither"
        )
    return folder / f"{name}.json"
