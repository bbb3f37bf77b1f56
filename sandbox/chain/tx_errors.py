"""Transaction errors: solders' error objects to their JSON wire form, and their messages.

The JSON form is what the real RPC puts in `err`: `"BlockhashNotFound"` or
`{"InstructionError": [2, {"Custom": 1}]}`. The messages are the validator's Display strings,
used in -32002 preflight errors ("Transaction simulation failed: <message>").
"""

from __future__ import annotations

import orjson
from solders.transaction_status import (
    InstructionErrorBorshIO,
    InstructionErrorCustom,
    TransactionErrorDuplicateInstruction,
    TransactionErrorInstructionError,
    TransactionErrorInsufficientFundsForRent,
    TransactionErrorProgramExecutionTemporarilyRestricted,
)

__all__ = ["NOT_LANDED", "err_message", "err_to_json"]

# Failures the runtime rejects before execution: nothing lands, no fee is charged.
NOT_LANDED = frozenset(
    {
        "AccountNotFound",
        "InsufficientFundsForFee",
        "InvalidAccountForFee",
        "BlockhashNotFound",
        "AlreadyProcessed",
        "SignatureFailure",
        "SanitizeFailure",
        "AccountLoadedTwice",
        "TooManyAccountLocks",
        "MissingSignatureForFee",
        "UnsupportedVersion",
        "AddressLookupTableNotFound",
        "InvalidAddressLookupTableOwner",
        "InvalidAddressLookupTableData",
        "InvalidAddressLookupTableIndex",
        "WouldExceedMaxBlockCostLimit",
        "WouldExceedAccountDataBlockLimit",
        "DuplicateInstruction",
    }
)

_MESSAGES = {
    "AccountInUse": "Account in use",
    "AccountLoadedTwice": "Account loaded twice",
    "AccountNotFound": "Attempt to debit an account but found no record of a prior credit.",
    "ProgramAccountNotFound": "Attempt to load a program that does not exist",
    "InsufficientFundsForFee": "Insufficient funds for fee",
    "InvalidAccountForFee": "This account may not be used to pay transaction fees",
    "AlreadyProcessed": "This transaction has already been processed",
    "BlockhashNotFound": "Blockhash not found",
    "CallChainTooDeep": "Loader call chain is too deep",
    "MissingSignatureForFee": "Transaction requires a fee but has no signature present",
    "InvalidAccountIndex": "Transaction contains an invalid account reference",
    "SignatureFailure": "Transaction did not pass signature verification",
    "InvalidProgramForExecution": "This program may not be used for executing instructions",
    "SanitizeFailure": "Transaction failed to sanitize accounts offsets correctly",
    "UnsupportedVersion": "Transaction version is unsupported",
    "InvalidWritableAccount": "Transaction loads a writable account that cannot be written",
}

_cache: dict[str, object] = {}


def err_to_json(err) -> object:
    """solders TransactionErrorType -> JSON value (cached by its repr: errors repeat)."""
    key = repr(err)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    value = _convert(err)
    if len(_cache) < 10_000:
        _cache[key] = value
    return value


def _instruction_error(inner) -> object:
    if isinstance(inner, InstructionErrorCustom):
        return {"Custom": inner.code}
    if isinstance(inner, InstructionErrorBorshIO):
        return {"BorshIoError": orjson.loads(inner.to_json())}
    return repr(inner).rsplit(".", 1)[-1]


def _convert(err) -> object:
    # solders' own to_json drops the enum tags ([2, 1] for InstructionError(2, Custom(1))).
    if isinstance(err, TransactionErrorInstructionError):
        return {"InstructionError": [err.index, _instruction_error(err.err)]}
    if isinstance(err, TransactionErrorDuplicateInstruction):
        return {"DuplicateInstruction": orjson.loads(err.to_json())}
    if isinstance(err, TransactionErrorInsufficientFundsForRent):
        return {"InsufficientFundsForRent": {"account_index": err.account_index}}
    if isinstance(err, TransactionErrorProgramExecutionTemporarilyRestricted):
        return {"ProgramExecutionTemporarilyRestricted": {"account_index": err.account_index}}
    # Fieldless enum members: repr is "TransactionErrorFieldless.Name".
    return repr(err).rsplit(".", 1)[-1]


def err_message(err: object) -> str:
    if isinstance(err, str):
        return _MESSAGES.get(err, err)
    if isinstance(err, dict) and "InstructionError" in err:
        index, inner = err["InstructionError"]
        if isinstance(inner, dict) and "Custom" in inner:
            return (
                f"Error processing Instruction {index}: custom program error: {inner['Custom']:#x}"
            )
        return f"Error processing Instruction {index}: {inner}"
    return str(err)
