"""The "accounts data" and "accounts scan" RPC families: accounts, balances, token accounts."""

from __future__ import annotations

from typing import Any

from solders.pubkey import Pubkey

from sandbox.protocol.programs import TOKEN_PROGRAMS

from .accounts import TOKEN_ACCOUNT_SIZE, encode_account, parse_token_account, token_amount
from .errors import RpcError
from .node import ChainNode
from .params import commitment_of, config_at, pubkey_at, pubkey_from, require

__all__ = ["METHODS"]

MAX_MULTIPLE_ACCOUNTS = 100


def _encoding(config: dict, default: str = "base64") -> str:
    encoding = config.get("encoding", default)
    if not isinstance(encoding, str):
        raise RpcError.invalid_params("`encoding` must be a string")
    return encoding


def _ui_account(
    node: ChainNode, pubkey: Pubkey, config: dict, commitment: str
) -> dict[str, Any] | None:
    account = node.producer.get_account(pubkey, commitment)
    if account is None:
        return None
    # The validator's default encoding for account reads is base58, but the clients that
    # matter (solana-py, kit, web3.js) always ask; base64 is the safe answer when they don't.
    return encode_account(
        account, _encoding(config, "base64"), node.decimals_of, config.get("dataSlice")
    )


def get_account_info(node: ChainNode, params: list) -> dict[str, Any]:
    pubkey = pubkey_at(params, 0, "pubkey")
    config = config_at(params, 1)
    commitment = commitment_of(config)
    return {
        "context": node.context(commitment),
        "value": _ui_account(node, pubkey, config, commitment),
    }


def get_multiple_accounts(node: ChainNode, params: list) -> dict[str, Any]:
    keys = require(params, 0, "pubkeys")
    if not isinstance(keys, list):
        raise RpcError.invalid_params("`pubkeys` must be an array of base58 public keys")
    if len(keys) > MAX_MULTIPLE_ACCOUNTS:
        raise RpcError.invalid_params(
            f"`pubkeys`: too many inputs provided; max {MAX_MULTIPLE_ACCOUNTS}"
        )
    pubkeys = [pubkey_from(key, f"pubkeys[{i}]") for i, key in enumerate(keys)]
    config = config_at(params, 1)
    commitment = commitment_of(config)
    return {
        "context": node.context(commitment),
        "value": [_ui_account(node, pubkey, config, commitment) for pubkey in pubkeys],
    }


def get_balance(node: ChainNode, params: list) -> dict[str, Any]:
    pubkey = pubkey_at(params, 0, "pubkey")
    commitment = commitment_of(config_at(params, 1))
    account = node.producer.get_account(pubkey, commitment)
    return {"context": node.context(commitment), "value": account.lamports if account else 0}


def get_token_account_balance(node: ChainNode, params: list) -> dict[str, Any]:
    pubkey = pubkey_at(params, 0, "pubkey")
    commitment = commitment_of(config_at(params, 1))
    account = node.producer.get_account(pubkey, commitment)
    if account is None:
        raise RpcError.invalid_params("Invalid param: could not find account")
    parsed = None
    if account.owner in TOKEN_PROGRAMS and len(account.data) >= TOKEN_ACCOUNT_SIZE:
        parsed = parse_token_account(bytes(account.data), node.decimals_of)
    if parsed is None:
        raise RpcError.invalid_params("Invalid param: not a Token account")
    return {"context": node.context(commitment), "value": parsed["info"]["tokenAmount"]}


def get_token_supply(node: ChainNode, params: list) -> dict[str, Any]:
    mint = pubkey_at(params, 0, "mint")
    commitment = commitment_of(config_at(params, 1))
    decimals = node.decimals_of(mint)
    account = node.producer.get_account(mint, commitment)
    if decimals is None or account is None:
        raise RpcError.invalid_params("Invalid param: not a Token mint")
    supply = int.from_bytes(bytes(account.data[36:44]), "little")
    return {"context": node.context(commitment), "value": token_amount(supply, decimals)}


def get_token_accounts_by_owner(node: ChainNode, params: list) -> dict[str, Any]:
    owner = pubkey_at(params, 0, "owner")
    selector = require(params, 1, "filter")
    if (
        not isinstance(selector, dict)
        or len(selector) != 1
        or not ("mint" in selector or "programId" in selector)
    ):
        raise RpcError.invalid_params('`filter` must be {"mint": KEY} or {"programId": KEY}')
    config = config_at(params, 2)
    commitment = commitment_of(config)
    mint = pubkey_from(selector["mint"], "filter.mint") if "mint" in selector else None
    if mint is not None:
        program = node.producer.get_account(mint, commitment)
        if program is None or program.owner not in TOKEN_PROGRAMS:
            raise RpcError.invalid_params("Invalid param: could not find mint")
        programs = [program.owner]
    else:
        program_id = pubkey_from(selector["programId"], "filter.programId")
        if program_id not in TOKEN_PROGRAMS:
            raise RpcError.invalid_params("Invalid param: unrecognized Token program id")
        programs = [program_id]
    owner_bytes = bytes(owner)
    mint_bytes = bytes(mint) if mint is not None else None
    encoding = _encoding(config, "base64")
    found = []
    # At confirmed/finalized, accounts written since answer with their state at that level
    # (None: created since), and accounts closed since still count.
    overlay = node.producer.overlay(commitment)
    for program_id in programs:
        accounts = node.producer.svm.get_program_accounts(program_id)
        if overlay:
            current = dict(accounts)
            for pubkey, image in overlay.items():
                if image is None or image.owner != program_id:
                    current.pop(pubkey, None)
                else:
                    current[pubkey] = image
            accounts = list(current.items())
        for pubkey, account in accounts:
            data = bytes(account.data)
            if len(data) < TOKEN_ACCOUNT_SIZE or data[32:64] != owner_bytes:
                continue
            if len(data) > TOKEN_ACCOUNT_SIZE and data[TOKEN_ACCOUNT_SIZE] != 2:
                continue  # a Token-2022 mint, not an account
            if mint_bytes is not None and data[:32] != mint_bytes:
                continue
            found.append(
                {
                    "pubkey": str(pubkey),
                    "account": encode_account(
                        account, encoding, node.decimals_of, config.get("dataSlice")
                    ),
                }
            )
    return {"context": node.context(commitment), "value": found}


METHODS = {
    "getAccountInfo": get_account_info,
    "getMultipleAccounts": get_multiple_accounts,
    "getBalance": get_balance,
    "getTokenAccountBalance": get_token_account_balance,
    "getTokenSupply": get_token_supply,
    "getTokenAccountsByOwner": get_token_accounts_by_owner,
}
