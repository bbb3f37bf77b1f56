"""Cheat codes: JSON-RPC methods under the `sandbox_` prefix (switched off by --no-cheats).

Funding and time travel for tests: mint test tokens (creating the associated token account),
overwrite an account, advance slots, expire every blockhash, reset, save and load state, set
faults, describe the chain.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from solders.account import Account

from .errors import RpcError
from .node import ChainNode
from .params import config_at, int_at, pubkey_at, pubkey_from, require
from .state import StateError, load_state, save_state, snapshot_path

__all__ = ["METHODS"]

MAX_ADVANCE = 1_000_000


def mint_to(node: ChainNode, params: list) -> dict[str, Any]:
    owner = pubkey_at(params, 0, "owner")
    amount = int_at(params, 1, "amount")
    if amount >= 2**64:
        raise RpcError.invalid_params("`amount` must fit in a u64")
    mint = pubkey_at(params, 2, "mint") if len(params) > 2 and params[2] else node.twin.usdc_mint
    token_account, balance = node.twin.mint_to(owner, amount, mint)
    return {"tokenAccount": str(token_account), "amount": str(balance)}


def set_account(node: ChainNode, params: list) -> dict[str, Any]:
    pubkey = pubkey_at(params, 0, "pubkey")
    fields = require(params, 1, "account")
    if not isinstance(fields, dict):
        raise RpcError.invalid_params("`account` must be an object")
    current = node.producer.svm.get_account(pubkey)
    lamports = fields.get("lamports", current.lamports if current else 0)
    if isinstance(lamports, bool) or not isinstance(lamports, int) or not 0 <= lamports < 2**64:
        raise RpcError.invalid_params("`account.lamports` must be a u64 integer")
    data = bytes(current.data) if current else b""
    if "data" in fields:
        try:
            data = base64.b64decode(fields["data"], validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise RpcError.invalid_params("`account.data` must be base64") from None
    owner = current.owner if current else pubkey_from("11111111111111111111111111111111", "owner")
    if "owner" in fields:
        owner = pubkey_from(fields["owner"], "account.owner")
    executable = fields.get("executable", current.executable if current else False)
    if not isinstance(executable, bool):
        raise RpcError.invalid_params("`account.executable` must be a boolean")
    try:
        node.producer.set_account(
            pubkey, Account(lamports=lamports, data=data, owner=owner, executable=executable)
        )
    except Exception as exc:  # LiteSVMError (not importable): e.g. no loadable program data
        if type(exc).__name__ != "LiteSVMError":
            raise
        raise RpcError.invalid_params(f"`account`: the runtime refused it: {exc}") from None
    node.forget_caches()
    return {"pubkey": str(pubkey), "lamports": lamports, "space": len(data)}


def advance_slots(node: ChainNode, params: list) -> dict[str, int]:
    n = int_at(params, 0, "n", minimum=1) if params else 1
    if n > MAX_ADVANCE:
        raise RpcError.invalid_params(f"`n` at most {MAX_ADVANCE}")
    return {"slot": node.producer.advance_slots(n)}


def expire_blockhashes(node: ChainNode, params: list) -> dict[str, int]:
    return {"slot": node.producer.expire_blockhashes()}


def _new_ledger(node: ChainNode) -> None:
    """After a reset or a load: the new ledger (a new seed) replaces the old on disk too."""
    if node.journal is not None:
        try:
            node.journal.checkpoint()
        except OSError as exc:
            raise RpcError(-32000, f"cannot write the state file: {exc.strerror}") from None


def reset(node: ChainNode, params: list) -> dict[str, int]:
    node.producer.reset()
    node.forget_caches()
    node.twin.install()
    _new_ledger(node)
    return {"slot": node.producer.slot}


def save(node: ChainNode, params: list) -> dict[str, Any]:
    """sandbox_saveState(name?): the state as snapshot `name`, or to the main state file."""
    name = params[0] if params else None
    path = snapshot_path(node, name)
    try:
        if name is None and node.journal is not None:
            # The main state file is where replay starts: a checkpoint, so that no older
            # journal frame is replayed over it.
            count = node.journal.checkpoint()
            if count is None:  # deferred behind a group flush: written as it finishes
                count = len(node.producer.touched)
        else:
            count = save_state(node, path)
    except OSError as exc:
        raise RpcError(-32000, f"cannot write snapshot {path}: {exc.strerror}") from None
    return {"name": name, "path": str(path), "accounts": count}


def load(node: ChainNode, params: list) -> dict[str, Any]:
    """sandbox_loadState(name?): snapshot `name`, or the main state file, replaces the state."""
    name = params[0] if params else None
    path = snapshot_path(node, name)
    if not path.is_file():
        raise RpcError.invalid_params(
            f"`name`: no snapshot {name!r} (save one with sandbox_saveState first)"
            if name is not None
            else "`name`: the state file has not been saved yet"
        )
    try:
        count = load_state(node, path)
    except StateError as exc:
        raise RpcError.invalid_params(f"`name`: {exc}") from None
    _new_ledger(node)
    return {"name": name, "path": str(path), "accounts": count, "slot": node.producer.slot}


def set_faults(node: ChainNode, params: list) -> dict[str, Any]:
    current = node.faults.update(require(params, 0, "faults"))
    node.set_late_confirm()
    return current


def get_faults(node: ChainNode, params: list) -> dict[str, Any]:
    return node.faults.to_json()


def get_info(node: ChainNode, params: list) -> dict[str, Any]:
    config_at(params, 0)
    return node.info()


METHODS = {
    "sandbox_mintTo": mint_to,
    "sandbox_setAccount": set_account,
    "sandbox_advanceSlots": advance_slots,
    "sandbox_expireBlockhashes": expire_blockhashes,
    "sandbox_reset": reset,
    "sandbox_saveState": save,
    "sandbox_loadState": load,
    "sandbox_setFaults": set_faults,
    "sandbox_getFaults": get_faults,
    "sandbox_getInfo": get_info,
}
