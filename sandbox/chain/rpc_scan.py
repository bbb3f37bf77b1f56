"""getProgramAccounts: every account a program owns, with the validator's filters.

Filters (at most MAX_FILTERS, all must match): `{"dataSize": N}`, `{"memcmp": {"offset": N,
"bytes": STR, "encoding": "base58" | "base64"}}` (base58 when no encoding; at most 128 bytes
decoded, as the validator) and `{"tokenAccountState": null}` (an initialized SPL Token or
Token-2022 account). A bad filter answers -32602 naming it (`filters[1].memcmp.offset`).
Encodings: base64 (the default here), base58 and jsonParsed, as account reads (accounts.py);
`dataSlice` too. `withContext: true` wraps the list in `{"context", "value"}`.

Bounded: when more than MAX_PROGRAM_ACCOUNTS accounts match (a program owning that many
without filters narrow enough), the request is refused with -32602 saying how many matched and
which filters narrow it, rather than answered with a silently truncated list. The scan itself
is LiteSVM's (~1 ms per 1,500 accounts); results come sorted by address.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable
from typing import Any

import base58
from solders.account import Account

from .accounts import TOKEN_ACCOUNT_SIZE, encode_account
from .errors import RpcError, shown
from .node import ChainNode
from .params import commitment_of, config_at, min_context_slot, pubkey_at

__all__ = ["MAX_FILTERS", "MAX_PROGRAM_ACCOUNTS", "METHODS"]

MAX_FILTERS = 4  # the validator's MAX_GET_PROGRAM_ACCOUNT_FILTERS
MAX_PROGRAM_ACCOUNTS = 10_000
MAX_MEMCMP_BYTES = 128
_MAX_ENCODED = {"base58": 175, "base64": 172}
_STATE_OFFSET = 108  # the token account's state byte (0: uninitialized)

Filter = Callable[[bytes], bool]


def _int_field(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**64:
        raise RpcError.invalid_params(f"`{name}` must be an integer >= 0, got {shown(value)}")
    return value


def _memcmp(raw: Any, name: str) -> Filter:
    if not isinstance(raw, dict):
        raise RpcError.invalid_params(f'`{name}` must be {{"offset": N, "bytes": STR}}')
    offset = _int_field(raw.get("offset"), f"{name}.offset")
    text = raw.get("bytes")
    if not isinstance(text, str):
        raise RpcError.invalid_params(f"`{name}.bytes` must be a string, got {shown(text)}")
    encoding = raw.get("encoding", "base58")
    if not isinstance(encoding, str) or encoding not in _MAX_ENCODED:
        raise RpcError.invalid_params(f"`{name}.encoding` {shown(encoding)}: use base58 or base64")
    if len(text) > _MAX_ENCODED[encoding]:
        raise RpcError.invalid_params(
            f"`{name}.bytes`: encoded binary data should be less than {MAX_MEMCMP_BYTES + 1} bytes"
        )
    try:
        wanted = (
            base58.b58decode(text)
            if encoding == "base58"
            else binascii.a2b_base64(text, strict_mode=True)
        )
    except (binascii.Error, ValueError):
        raise RpcError.invalid_params(f"`{name}.bytes` is not valid {encoding}") from None
    if len(wanted) > MAX_MEMCMP_BYTES:
        raise RpcError.invalid_params(
            f"`{name}.bytes`: encoded binary data should be less than {MAX_MEMCMP_BYTES + 1} bytes"
        )
    end = offset + len(wanted)
    return lambda data: len(data) >= end and data[offset:end] == wanted


def _token_account_state(data: bytes) -> bool:
    """What the validator's tokenAccountState filter keeps (it tells owners apart by size and,
    past 165 bytes, by Token-2022's account-type byte)."""
    size = len(data)
    if size < TOKEN_ACCOUNT_SIZE or (size > TOKEN_ACCOUNT_SIZE and data[TOKEN_ACCOUNT_SIZE] != 2):
        return False
    return data[_STATE_OFFSET] != 0


def _filters(raw: Any) -> list[Filter]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise RpcError.invalid_params("`filters` must be an array of filter objects")
    if len(raw) > MAX_FILTERS:
        raise RpcError.invalid_params(f"`filters`: too many filters provided; max {MAX_FILTERS}")
    found: list[Filter] = []
    for index, item in enumerate(raw):
        name = f"filters[{index}]"
        if not isinstance(item, dict) or len(item) != 1:
            raise RpcError.invalid_params(
                f'`{name}` must be one of {{"dataSize": N}}, {{"memcmp": {{...}}}}, '
                '{"tokenAccountState": null}'
            )
        kind, value = next(iter(item.items()))
        if kind == "dataSize":
            size = _int_field(value, f"{name}.dataSize")
            found.append(lambda data, size=size: len(data) == size)
        elif kind == "memcmp":
            found.append(_memcmp(value, f"{name}.memcmp"))
        elif kind == "tokenAccountState":
            found.append(_token_account_state)
        else:
            raise RpcError.invalid_params(
                f"`{name}`: unknown filter {shown(kind)}; use dataSize, memcmp or tokenAccountState"
            )
    return found


def _owned(node: ChainNode, program_id, commitment: str) -> list[tuple[Any, Account]]:
    """The program's accounts as of `commitment`: accounts written since answer with their
    state at that level (None: created since), and accounts closed since still count."""
    producer = node.producer
    accounts = producer.svm.get_program_accounts(program_id)
    overlay = producer.overlay(commitment)
    if not overlay:
        return accounts
    current = dict(accounts)
    for pubkey, image in overlay.items():
        if image is None or image.owner != program_id:
            current.pop(pubkey, None)
        else:
            current[pubkey] = image
    return list(current.items())


def get_program_accounts(node: ChainNode, params: list) -> Any:
    program_id = pubkey_at(params, 0, "programId")
    config = config_at(params, 1)
    commitment = commitment_of(config)
    wanted = min_context_slot(config)
    if wanted is not None and wanted > node.producer.slot_for(commitment):
        raise RpcError.min_context_slot_not_reached(node.producer.slot_for(commitment))
    encoding = config.get("encoding", "base64")
    if not isinstance(encoding, str):
        raise RpcError.invalid_params("`encoding` must be a string")
    with_context = config.get("withContext", False)
    if not isinstance(with_context, bool):
        raise RpcError.invalid_params(
            f"`withContext` must be true or false, got {shown(with_context)}"
        )
    data_slice = config.get("dataSlice")
    if data_slice is not None and not isinstance(data_slice, dict):
        raise RpcError.invalid_params('`dataSlice` must be {"offset": N, "length": N}')
    filters = _filters(config.get("filters"))
    matched = []
    for pubkey, account in _owned(node, program_id, commitment):
        if account.lamports == 0 and not account.data:
            continue  # closed: an empty account reads as absent
        data = bytes(account.data)
        if all(keep(data) for keep in filters):
            matched.append((pubkey, account))
    if len(matched) > MAX_PROGRAM_ACCOUNTS:
        raise RpcError.invalid_params(
            f"`filters`: {len(matched):,} accounts of {program_id} match, more than the "
            f"{MAX_PROGRAM_ACCOUNTS:,} answered at once; narrow them with dataSize and memcmp "
            "filters (a token account's mint is at offset 0, its owner at offset 32)"
        )
    matched.sort(key=lambda item: bytes(item[0]))
    value = [
        {
            "account": encode_account(account, encoding, node.decimals_of, data_slice),
            "pubkey": str(pubkey),
        }
        for pubkey, account in matched
    ]
    if with_context:
        return {"context": node.context(commitment), "value": value}
    return value


METHODS = {"getProgramAccounts": get_program_accounts}
