"""Accounts in the RPC's UI form: base64, base58 and jsonParsed (mints and token accounts).

jsonParsed follows the validator's account decoder (spl-token / spl-token-2022 parsers): a mint
or token account becomes `{"program", "parsed": {"type", "info"}, "space"}`; anything it cannot
parse falls back to base64, as the validator does.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import base58
from solders.account import Account
from solders.pubkey import Pubkey
from solders.token.state import Mint, TokenAccount

from sandbox.protocol.programs import TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID

from .errors import RpcError, shown

__all__ = [
    "ENCODINGS",
    "MINT_SIZE",
    "TOKEN_ACCOUNT_SIZE",
    "encode_account",
    "parse_token_account",
    "token_amount",
]

ENCODINGS = ("base64", "base58", "jsonParsed", "base64+zstd")
MINT_SIZE = 82
TOKEN_ACCOUNT_SIZE = 165
RENT_EPOCH_MAX = 18446744073709551615
_PROGRAM_NAMES = {TOKEN_PROGRAM_ID: "spl-token", TOKEN_2022_PROGRAM_ID: "spl-token-2022"}
_STATES = {0: "uninitialized", 1: "initialized", 2: "frozen"}
# Token-2022 extension type ids -> the names jsonParsed uses (the ones a test token meets).
_EXTENSIONS = {7: "immutableOwner", 6: "memoTransfer", 9: "nonTransferable", 2: "transferFeeAmount"}

DecimalsOf = Callable[[Pubkey], int | None]


def token_amount(amount: int, decimals: int) -> dict[str, Any]:
    """`{"amount", "decimals", "uiAmount", "uiAmountString"}` as the validator formats it."""
    if decimals:
        text = format(Decimal(amount).scaleb(-decimals), "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    else:
        text = str(amount)
    return {
        "amount": str(amount),
        "decimals": decimals,
        "uiAmount": float(text),
        "uiAmountString": text,
    }


def _data_slice(data: bytes, data_slice: dict | None) -> bytes:
    if not data_slice:
        return data
    try:
        offset, length = int(data_slice["offset"]), int(data_slice["length"])
    except (KeyError, TypeError, ValueError):
        raise RpcError.invalid_params("`dataSlice` needs integer `offset` and `length`") from None
    return data[offset : offset + length]


def _extensions(data: bytes) -> list[dict[str, Any]]:
    # Token-2022 TLV extensions start after the account-type byte at offset 165.
    found = []
    pos = TOKEN_ACCOUNT_SIZE + 1
    while pos + 4 <= len(data):
        kind = int.from_bytes(data[pos : pos + 2], "little")
        length = int.from_bytes(data[pos + 2 : pos + 4], "little")
        if kind == 0:
            break
        name = _EXTENSIONS.get(kind, f"unparseableExtension{kind}")
        found.append({"extension": name})
        pos += 4 + length
    return found


def parse_token_account(data: bytes, decimals_of: DecimalsOf) -> dict[str, Any] | None:
    """`{"type": "account", "info": ...}` for an initialized token account, else None."""
    try:
        account = TokenAccount.from_bytes(data[:TOKEN_ACCOUNT_SIZE])
    except ValueError:
        return None
    state = int(account.state)
    if state == 0:
        return None
    decimals = decimals_of(account.mint)
    if decimals is None:
        return None
    info: dict[str, Any] = {
        "isNative": account.is_native is not None,
        "mint": str(account.mint),
        "owner": str(account.owner),
        "state": _STATES.get(state, "initialized"),
        "tokenAmount": token_amount(account.amount, decimals),
    }
    if account.delegate is not None:
        info["delegate"] = str(account.delegate)
        info["delegatedAmount"] = token_amount(account.delegated_amount, decimals)
    if account.is_native is not None:
        info["rentExemptReserve"] = token_amount(account.is_native, decimals)
    if account.close_authority is not None:
        info["closeAuthority"] = str(account.close_authority)
    if len(data) > TOKEN_ACCOUNT_SIZE:
        info["extensions"] = _extensions(data)
    return {"type": "account", "info": info}


def _parse_mint(data: bytes) -> dict[str, Any] | None:
    try:
        mint = Mint.from_bytes(data[:MINT_SIZE])
    except ValueError:
        return None
    if not mint.is_initialized:
        return None
    info: dict[str, Any] = {
        "decimals": mint.decimals,
        "freezeAuthority": str(mint.freeze_authority) if mint.freeze_authority else None,
        "isInitialized": True,
        "mintAuthority": str(mint.mint_authority) if mint.mint_authority else None,
        "supply": str(mint.supply),
    }
    if len(data) > TOKEN_ACCOUNT_SIZE:
        info["extensions"] = _extensions(data)
    return {"type": "mint", "info": info}


def _parsed(account: Account, data: bytes, decimals_of: DecimalsOf) -> dict[str, Any] | None:
    program = _PROGRAM_NAMES.get(account.owner)
    if program is None:
        return None
    size = len(data)
    # Token-2022 accounts with extensions are longer; the byte at 165 says which kind it is.
    if size == MINT_SIZE or (size > TOKEN_ACCOUNT_SIZE and data[TOKEN_ACCOUNT_SIZE] == 1):
        parsed = _parse_mint(data)
    elif size == TOKEN_ACCOUNT_SIZE or (
        size > TOKEN_ACCOUNT_SIZE and data[TOKEN_ACCOUNT_SIZE] == 2
    ):
        parsed = parse_token_account(data, decimals_of)
    else:
        parsed = None
    if parsed is None:
        return None
    return {"program": program, "parsed": parsed, "space": size}


def encode_account(
    account: Account,
    encoding: str,
    decimals_of: DecimalsOf,
    data_slice: dict | None = None,
) -> dict[str, Any]:
    data = bytes(account.data)
    if encoding == "jsonParsed":
        parsed = _parsed(account, data, decimals_of)
        encoded: Any = parsed if parsed is not None else [base64.b64encode(data).decode(), "base64"]
    elif encoding == "base64":
        encoded = [base64.b64encode(_data_slice(data, data_slice)).decode(), "base64"]
    elif encoding == "base58":
        sliced = _data_slice(data, data_slice)
        if len(sliced) > 128:
            raise RpcError.invalid_params(
                "Encoded binary (base 58) data should be less than 128 bytes, "
                "please use Base64 encoding."
            )
        encoded = [base58.b58encode(sliced).decode(), "base58"]
    elif encoding == "binary":  # legacy: bare base58 string
        encoded = base58.b58encode(_data_slice(data, data_slice)).decode()
    else:
        raise RpcError.invalid_params(
            f"`encoding` {shown(encoding)} is not supported; use base64, base58 or jsonParsed"
        )
    return {
        "data": encoded,
        "executable": account.executable,
        "lamports": account.lamports,
        "owner": str(account.owner),
        "rentEpoch": RENT_EPOCH_MAX,
        "space": len(data),
    }
