"""The "full" RPC family: send, simulate, statuses, transaction history, airdrops."""

from __future__ import annotations

import binascii
from typing import Any

import base58
from solders.message import Message, MessageV0
from solders.signature import Signature
from solders.transaction import VersionedTransaction
from solders.transaction_metadata import FailedTransactionMetadata

from .accounts import encode_account
from .errors import RpcError, shown
from .node import ChainNode
from .params import (
    commitment_of,
    config_at,
    int_at,
    max_supported_version,
    min_context_slot,
    pubkey_at,
    pubkey_from,
    require,
    signature_from,
    str_at,
)
from .tx_errors import err_message
from .tx_json import (
    inner_instructions_json,
    memo_of,
    meta_json,
    return_data_json,
    status_json,
    transaction_json,
)

__all__ = ["METHODS", "simulation_value"]

_ZERO_SIGNATURE = Signature.default()
_LEVEL = {"processed": 0, "confirmed": 1, "finalized": 2}
MAX_STATUSES = 256
MAX_SIGNATURES_FOR_ADDRESS = 1000
# A transaction fits a 1232-byte packet; its encodings are at most this long (as the validator).
PACKET_DATA_SIZE = 1232
MAX_ENCODED = {"base58": 1683, "base64": 1644}


def _check_min_context_slot(node: ChainNode, config: dict) -> None:
    wanted = min_context_slot(config)
    if wanted is not None and wanted > node.producer.slot:
        raise RpcError.min_context_slot_not_reached(node.producer.slot)


def _decode_transaction(params: list, config: dict) -> VersionedTransaction:
    text = str_at(params, 0, "transaction")
    encoding = config.get("encoding", "base58")
    limit = MAX_ENCODED.get(encoding) if isinstance(encoding, str) else None
    if limit is not None and len(text) > limit:
        raise RpcError.invalid_params(
            f"`transaction` too large: {len(text)} {encoding} characters "
            f"(max {limit}, a {PACKET_DATA_SIZE}-byte packet)"
        )
    try:
        if encoding == "base64":
            raw = binascii.a2b_base64(text, strict_mode=True)
        elif encoding == "base58":
            raw = base58.b58decode(text)
        else:
            raise RpcError.invalid_params(
                f"`encoding` {shown(encoding)} is not supported for transactions; "
                "use base64 or base58"
            )
    except (binascii.Error, ValueError):
        raise RpcError.invalid_params(f"`transaction` is not valid {encoding}") from None
    try:
        tx = VersionedTransaction.from_bytes(raw)
    except ValueError as exc:
        raise RpcError.invalid_params(f"`transaction` could not be deserialized: {exc}") from None
    if not tx.signatures:
        raise RpcError.invalid_params("`transaction` has no signatures (the fee payer must sign)")
    return tx


def simulation_value(
    node: ChainNode,
    err: object,
    meta,
    *,
    accounts: list | None = None,
    inner: bool = False,
    replacement: dict | None = None,
) -> dict[str, Any]:
    return {
        "accounts": accounts,
        "err": err,
        "innerInstructions": inner_instructions_json(meta) if (inner and meta) else None,
        "loadedAccountsDataSize": 0,
        "logs": list(meta.logs()) if meta is not None else [],
        "replacementBlockhash": replacement,
        "returnData": return_data_json(meta) if meta is not None else None,
        "unitsConsumed": meta.compute_units_consumed() if meta is not None else 0,
    }


def send_transaction(node: ChainNode, params: list) -> str:
    config = config_at(params, 1)
    tx = _decode_transaction(params, config)
    _check_min_context_slot(node, config)
    producer = node.producer
    producer.stats["sendTransactions"] += 1
    signature = tx.signatures[0]
    if node.faults.drop_rate and node.faults.should_drop():
        return str(signature)  # answered, never lands: what an overloaded leader does
    skip_preflight = config.get("skipPreflight", False)
    outcome = producer.execute(tx, preflight=not skip_preflight)
    if outcome.landed or skip_preflight:
        # Without preflight the validator answers the signature even for a transaction it then
        # drops (bad signature, dead blockhash, duplicate): callers learn it from the status.
        return str(signature)
    if outcome.err == "SignatureFailure":
        raise RpcError.signature_failure()
    raise RpcError.preflight_failure(
        err_message(outcome.err), simulation_value(node, outcome.err, outcome.meta)
    )


def _with_blockhash(tx: VersionedTransaction, blockhash) -> VersionedTransaction:
    message = tx.message
    if isinstance(message, MessageV0):
        replaced = MessageV0(
            message.header,
            list(message.account_keys),
            blockhash,
            list(message.instructions),
            list(message.address_table_lookups),
        )
    else:
        header = message.header
        replaced = Message.new_with_compiled_instructions(
            header.num_required_signatures,
            header.num_readonly_signed_accounts,
            header.num_readonly_unsigned_accounts,
            list(message.account_keys),
            blockhash,
            list(message.instructions),
        )
    return VersionedTransaction.populate(replaced, list(tx.signatures))


def _simulated_accounts(node: ChainNode, wanted: Any, post_accounts) -> list | None:
    if wanted is None:
        return None
    if not isinstance(wanted, dict) or not isinstance(wanted.get("addresses"), list):
        raise RpcError.invalid_params('`accounts` must be {"addresses": [...], "encoding": ...}')
    encoding = wanted.get("encoding", "base64")
    after = dict(post_accounts)
    result = []
    for i, text in enumerate(wanted["addresses"]):
        pubkey = pubkey_from(text, f"accounts.addresses[{i}]")
        account = after.get(pubkey) or node.producer.get_account(pubkey)
        result.append(
            None if account is None else encode_account(account, encoding, node.decimals_of)
        )
    return result


def simulate_transaction(node: ChainNode, params: list) -> dict[str, Any]:
    config = config_at(params, 1)
    tx = _decode_transaction(params, config)
    commitment = commitment_of(config)
    _check_min_context_slot(node, config)
    sig_verify = bool(config.get("sigVerify", False))
    replace = bool(config.get("replaceRecentBlockhash", False))
    if sig_verify and replace:
        raise RpcError.invalid_params("`sigVerify` may not be used with `replaceRecentBlockhash`")
    producer = node.producer
    context = node.context(commitment)
    replacement = None
    if replace:
        blockhash = producer.blockhash
        tx = _with_blockhash(tx, blockhash)
        replacement = {
            "blockhash": str(blockhash),
            "lastValidBlockHeight": producer.last_valid_block_height(blockhash),
        }
    elif not producer.is_live(tx.message.recent_blockhash):
        producer.stats["simulations"] += 1
        return {"context": context, "value": simulation_value(node, "BlockhashNotFound", None)}
    signature = tx.signatures[0]
    if signature != _ZERO_SIGNATURE and signature in producer.statuses:
        producer.stats["simulations"] += 1
        return {"context": context, "value": simulation_value(node, "AlreadyProcessed", None)}
    result = producer.simulate(tx, sig_verify=sig_verify)
    inner = bool(config.get("innerInstructions", False))
    if isinstance(result, FailedTransactionMetadata):
        from .tx_errors import err_to_json

        value = simulation_value(
            node, err_to_json(result.err()), result.meta(), inner=inner, replacement=replacement
        )
        if config.get("accounts") is not None:
            value["accounts"] = [None] * len(config["accounts"].get("addresses", []) or [])
    else:
        accounts = _simulated_accounts(node, config.get("accounts"), result.post_accounts())
        value = simulation_value(
            node, None, result.meta(), accounts=accounts, inner=inner, replacement=replacement
        )
    return {"context": context, "value": value}


def _status(node: ChainNode, signature: Signature) -> dict[str, Any] | None:
    producer = node.producer
    record = producer.statuses.get(signature)
    if record is None:
        return None
    level = producer.commitment_of(record)
    return {
        "confirmationStatus": level,
        "confirmations": None
        if level == "finalized"
        else max(producer.closed_slot - record.slot, 0),
        "err": record.err,
        "slot": record.slot,
        "status": status_json(record.err),
    }


def get_signature_statuses(node: ChainNode, params: list) -> dict[str, Any]:
    wanted = require(params, 0, "signatures")
    if not isinstance(wanted, list):
        raise RpcError.invalid_params("`signatures` must be an array of base58 signatures")
    if len(wanted) > MAX_STATUSES:
        raise RpcError.invalid_params(f"`signatures`: too many inputs provided; max {MAX_STATUSES}")
    config_at(params, 1)
    signatures = [signature_from(s, f"signatures[{i}]") for i, s in enumerate(wanted)]
    return {
        "context": node.context("processed"),
        "value": [_status(node, signature) for signature in signatures],
    }


def get_transaction(node: ChainNode, params: list) -> dict[str, Any] | None:
    signature = signature_from(require(params, 0, "signature"), "signature")
    raw_config = params[1] if len(params) > 1 else None
    config = {"encoding": raw_config} if isinstance(raw_config, str) else config_at(params, 1)
    commitment = commitment_of(config)
    if commitment == "processed":
        raise RpcError.invalid_params("Method does not support commitment below `confirmed`")
    encoding = config.get("encoding", "json")
    if encoding not in ("json", "jsonParsed", "base64", "base58"):
        raise RpcError.invalid_params(
            f"`encoding` {shown(encoding)}: use json, jsonParsed, base64 or base58"
        )
    producer = node.producer
    record = producer.statuses.get(signature)
    if record is None or _LEVEL[producer.commitment_of(record)] < _LEVEL[commitment]:
        return None
    if record.tx is None:
        raise RpcError.transaction_history_not_available()
    is_v0 = isinstance(record.tx.message, MessageV0)
    max_version = max_supported_version(config)
    if is_v0 and max_version is None:
        raise RpcError.unsupported_transaction_version(0)
    result = {
        "blockTime": record.block_time,
        "meta": meta_json(record, node.decimals_of),
        "slot": record.slot,
        "transaction": transaction_json(record.tx, encoding),
    }
    if max_version is not None:
        result["version"] = 0 if is_v0 else "legacy"
    return result


def get_signatures_for_address(node: ChainNode, params: list) -> list[dict[str, Any]]:
    address = pubkey_at(params, 0, "address")
    config = config_at(params, 1)
    commitment = commitment_of(config)
    if commitment == "processed":
        raise RpcError.invalid_params("Method does not support commitment below `confirmed`")
    limit = config.get("limit")
    if limit is None:
        limit = MAX_SIGNATURES_FOR_ADDRESS
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise RpcError.invalid_params("`limit` must be an integer between 1 and 1000")
    before = signature_from(config["before"], "before") if config.get("before") else None
    until = signature_from(config["until"], "until") if config.get("until") else None
    producer = node.producer
    found = []
    started = before is None
    for signature in reversed(producer.by_address.get(address, ())):
        if not started:
            started = signature == before
            continue
        if signature == until:
            break
        record = producer.statuses.get(signature)
        if record is None:
            continue
        level = producer.commitment_of(record)
        if _LEVEL[level] < _LEVEL[commitment]:
            continue
        found.append(
            {
                "blockTime": record.block_time,
                "confirmationStatus": level,
                "err": record.err,
                "memo": memo_of(record.tx),
                "signature": str(signature),
                "slot": record.slot,
            }
        )
        if len(found) >= limit:
            break
    return found


def request_airdrop(node: ChainNode, params: list) -> str:
    pubkey = pubkey_at(params, 0, "pubkey")
    lamports = int_at(params, 1, "lamports", minimum=1)
    config_at(params, 2)
    return str(node.twin.airdrop(pubkey, lamports).signature)


METHODS = {
    "sendTransaction": send_transaction,
    "simulateTransaction": simulate_transaction,
    "getSignatureStatuses": get_signature_statuses,
    "getTransaction": get_transaction,
    "getSignaturesForAddress": get_signatures_for_address,
    "requestAirdrop": request_airdrop,
}
