"""x402 reason strings: one `Reason` enum, spelled as the official Python SDK 2.25 spells them.

They travel in `invalidReason` (verify) and `errorReason` (settle), and in the `error` field of a
402 that answers a rejected payment. A `Reason` is a `StrEnum`: it compares equal to its string,
hashes like it, and orjson, pydantic and sqlite write it as the string, so the wire is unchanged.

Each member's comment names where the rule that answers it lives, so a reason read on the wire
leads to its check. "facilitator.py" is `sandbox/protocol/exact_svm/facilitator.py`
(`check_payment`), "transaction.py" its decoder beside it.

Every member is also a module attribute (`reasons.INVALID_PAYLOAD is Reason.INVALID_PAYLOAD`).
The unknown instruction after the transfer is answered by position from `UNKNOWN_INSTRUCTION`;
past that table the instruction-count reason is answered (no SDK spells an eighth).
"""

from __future__ import annotations

from enum import StrEnum, unique


@unique
class Reason(StrEnum):
    # ---------------------------------------------------------------- core
    # simulation: the transfer (instruction 2) failed with the token program's InsufficientFunds
    # (facilitator/service.py, _simulation_message)
    INSUFFICIENT_FUNDS = "insufficient_funds"
    # the facilitator has not learned its network from the chain yet (facilitator/app.py, 503)
    INVALID_NETWORK = "invalid_network"
    # a header or body that is not an x402 message: base64, JSON, shape, size, depth
    # (protocol/headers.py, protocol/errors.py ProtocolError's default; facilitator/app.py 413)
    INVALID_PAYLOAD = "invalid_payload"
    # requirements that are not terms of an exact payment: asset or payTo not an address,
    # extra.memo not a string, v2 accepted != requirements (facilitator.py _check_envelope);
    # the server: the payload echoes terms it did not offer (server/binding.py)
    INVALID_PAYMENT_REQUIREMENTS = "invalid_payment_requirements"
    # spelled by the SDK; not answered by this project
    INVALID_SCHEME = "invalid_scheme"
    # an x402Version other than 1 or 2, or in the other version's header
    # (protocol/headers.py read_version, server/paywall.py _check_header_version)
    INVALID_X402_VERSION = "invalid_x402_version"
    # spelled by the SDK; not answered by this project
    INVALID_TRANSACTION_STATE = "invalid_transaction_state"
    # /verify reached no verdict: the chain failed, or an unexpected error (facilitator/app.py)
    UNEXPECTED_VERIFY_ERROR = "unexpected_verify_error"
    # /settle could not reach a verdict: the chain or the ledger failed (facilitator/app.py,
    # facilitator/settlement.py); the server, on a failure that names no reason (server/paywall.py)
    UNEXPECTED_SETTLE_ERROR = "unexpected_settle_error"
    # a scheme other than "exact" (facilitator.py _check_envelope, server/binding.py)
    UNSUPPORTED_SCHEME = "unsupported_scheme"
    # requirements or payload on another network than the facilitator's or the offer's
    # (facilitator.py _check_envelope, server/binding.py)
    NETWORK_MISMATCH = "network_mismatch"

    # ---------------------------------------------------------------- exact scheme on Solana
    # payload.transaction missing or not a string (transaction.py decode_transaction); also the
    # default reason of an injected `invalid` fault (facilitator/faults.py)
    SVM_PAYLOAD = "invalid_exact_svm_payload"
    # not base64, over 1232 bytes, not a canonical Solana transaction, signature count
    # (transaction.py decode_transaction; the server's read_transaction)
    SVM_NOT_DECODABLE = "invalid_exact_svm_payload_transaction_could_not_be_decoded"
    # fewer than 3 or more than max_instructions instructions, or an unknown instruction past
    # the UNKNOWN_INSTRUCTION table (facilitator.py _check_instructions; the count also in
    # layouts.py check_roles)
    SVM_INSTRUCTIONS_LENGTH = "invalid_exact_svm_payload_transaction_instructions_length"
    # an instruction after the transfer that is neither Memo nor Lighthouse, by position
    # (facilitator.py _check_instructions, via unknown_instruction)
    SVM_UNKNOWN_FOURTH_INSTRUCTION = "invalid_exact_svm_payload_unknown_fourth_instruction"
    SVM_UNKNOWN_FIFTH_INSTRUCTION = "invalid_exact_svm_payload_unknown_fifth_instruction"
    SVM_UNKNOWN_SIXTH_INSTRUCTION = "invalid_exact_svm_payload_unknown_sixth_instruction"
    # the TypeScript SDK's spelling (the Python SDK stops at six instructions)
    SVM_UNKNOWN_SEVENTH_INSTRUCTION = "invalid_exact_svm_payload_unknown_seventh_instruction"
    # instruction 0 is not ComputeBudget SetComputeUnitLimit (facilitator.py _check_instructions;
    # role-based: none before the transfer, layouts.py check_roles)
    SVM_COMPUTE_LIMIT_INSTRUCTION = (
        "invalid_exact_svm_payload_transaction_instructions_compute_limit_instruction"
    )
    # the compute unit limit is above max_compute_unit_limit (facilitator.py _check_instructions,
    # layouts.py check_roles)
    SVM_COMPUTE_LIMIT_TOO_HIGH = (
        "invalid_exact_svm_payload_transaction_instructions_compute_limit_instruction_too_high"
    )
    # instruction 1 is not ComputeBudget SetComputeUnitPrice (facilitator.py _check_instructions;
    # role-based: none after the compute limit, layouts.py check_roles)
    SVM_COMPUTE_PRICE_INSTRUCTION = (
        "invalid_exact_svm_payload_transaction_instructions_compute_price_instruction"
    )
    # the compute unit price is above max_compute_unit_price: 5,000,000 microlamports in the
    # scheme (the SDKs' cap), 50,000 by default in this facilitator (facilitator.py
    # _check_instructions, layouts.py check_roles, facilitator/settings.py)
    SVM_COMPUTE_PRICE_TOO_HIGH = (
        "invalid_exact_svm_payload_transaction_instructions_compute_price_instruction_too_high"
    )
    # instruction 2 is not a four-account TransferChecked of Token or Token-2022
    # (facilitator.py _check_instructions, transaction.py transfer_checked; role-based: no
    # TransferChecked, or one without its four accounts, layouts.py check_roles)
    SVM_NO_TRANSFER_INSTRUCTION = "invalid_exact_svm_payload_no_transfer_instruction"
    # the transfer's mint is not the requirements' asset (facilitator.py check_payment)
    SVM_MINT_MISMATCH = "invalid_exact_svm_payload_mint_mismatch"
    # the transfer's destination is not payTo's associated token account (facilitator.py)
    SVM_RECIPIENT_MISMATCH = "invalid_exact_svm_payload_recipient_mismatch"
    # the transfer pays less than asked (facilitator.py _check_amount)
    SVM_AMOUNT_INSUFFICIENT = "invalid_exact_svm_payload_amount_insufficient"
    # the transfer pays more than asked under the "exact" amount policy (facilitator.py
    # _check_amount); the server: the payload names another amount than offered (server/binding.py)
    SVM_AMOUNT_MISMATCH = "invalid_exact_svm_payload_amount_mismatch"
    # requirements without extra.feePayer (facilitator.py check_payment)
    SVM_MISSING_FEE_PAYER = "invalid_exact_svm_payload_missing_fee_payer"
    # extra.feePayer, or the transaction's account 0, is not one of this facilitator's fee payers
    # (facilitator.py check_payment)
    FEE_PAYER_NOT_MANAGED = "fee_payer_not_managed_by_facilitator"
    # a managed fee payer is the transfer's authority or source, or an account of any
    # instruction (facilitator.py _check_fee_payer_isolation)
    SVM_FEE_PAYER_TRANSFERRING_FUNDS = (
        "invalid_exact_svm_payload_transaction_fee_payer_transferring_funds"
    )
    # the memo differs from extra.memo or is over MAX_MEMO_BYTES (layouts.py check_memos);
    # the server: a v1 memo that binds no offer of this route (server/paywall.py)
    SVM_MEMO_MISMATCH = "invalid_exact_svm_payload_memo_mismatch"
    # more than one memo, or not exactly one when extra.memo is set (layouts.py check_memos)
    SVM_MEMO_COUNT = "invalid_exact_svm_payload_memo_count"
    # the transfer authority does not sign, or a client signature does not verify
    # (facilitator.py _check_signers, _check_signatures)
    SVM_SIGNATURE_INVALID = "invalid_exact_svm_payload_signature_invalid"
    # a signer other than the client and the fee payer (facilitator.py _check_signers)
    SVM_EXCESSIVE_SIGNERS = "invalid_exact_svm_payload_excessive_signers"
    # a v0 message with address lookup tables (facilitator.py check_payment)
    SVM_ADDRESS_LOOKUP_TABLES = "invalid_exact_svm_payload_address_lookup_tables"

    # ---------------------------------------------------------------- role-based layout
    # (`--layout role-based`; layouts.py is `sandbox/protocol/exact_svm/layouts.py`)
    # a program that is none of the payment's, nor Lighthouse, nor allow-listed; an ATA
    # instruction without --allow-create-ata (layouts.py check_roles)
    SVM_UNKNOWN_INSTRUCTION = "invalid_exact_svm_payload_unknown_instruction"
    # compute limit, compute price, [create-ATA], transfer, memos out of that relative order, or
    # one of them twice (layouts.py check_roles)
    SVM_INSTRUCTIONS_ORDER = "invalid_exact_svm_payload_transaction_instructions_order"
    # an allow-listed preflight or postflight instruction uses a fee payer (layouts.py
    # _flight_blocks)
    SVM_FLIGHT_FEE_PAYER_NOT_ISOLATED = (
        "invalid_exact_svm_preflight_postflight_fee_payer_not_isolated"
    )
    # the CreateAssociatedTokenIdempotent before the transfer (--allow-create-ata), one reason a
    # pin (layouts.py check_create_ata): data not exactly 0x01, not six accounts, funder not
    # extra.feePayer, owner not payTo, mint not the asset, account 4 not the System Program,
    # account 5 not the transfer's token program, account 1 not payTo's associated token account
    SVM_CREATE_ATA_NOT_IDEMPOTENT = "invalid_exact_svm_payload_create_ata_not_idempotent"
    SVM_CREATE_ATA_ACCOUNT_COUNT = "invalid_exact_svm_payload_create_ata_account_count"
    SVM_CREATE_ATA_FUNDER_MISMATCH = "invalid_exact_svm_payload_create_ata_funder_mismatch"
    SVM_CREATE_ATA_OWNER_MISMATCH = "invalid_exact_svm_payload_create_ata_owner_mismatch"
    SVM_CREATE_ATA_MINT_MISMATCH = "invalid_exact_svm_payload_create_ata_mint_mismatch"
    SVM_CREATE_ATA_SYSTEM_PROGRAM_MISMATCH = (
        "invalid_exact_svm_payload_create_ata_system_program_mismatch"
    )
    SVM_CREATE_ATA_TOKEN_PROGRAM_MISMATCH = (
        "invalid_exact_svm_payload_create_ata_token_program_mismatch"
    )
    SVM_CREATE_ATA_DESTINATION_MISMATCH = (
        "invalid_exact_svm_payload_create_ata_destination_mismatch"
    )

    # ---------------------------------------------------------------- chain and settlement
    # the chain's simulation failed or refused the transaction (facilitator/service.py simulate)
    TRANSACTION_SIMULATION_FAILED = "transaction_simulation_failed"
    # sent, and landed with an error or expired unseen (facilitator/settlement.py)
    TRANSACTION_FAILED = "transaction_failed"
    # the same message already settled or being settled, or a reused memo nonce
    # (facilitator/service.py ledger_rejection, facilitator/settlement.py; server/paywall.py)
    DUPLICATE_SETTLEMENT = "duplicate_settlement"
    # sent, not yet at the commitment within the wait (facilitator/settlement.py; the server
    # keeps the payment pending, server/paywall.py)
    SETTLEMENT_PENDING = "settlement_pending"
    # this project's own: the payer's settlements failed on chain (each cost the fee payer its
    # fee), so its payments are refused for the cool-down (facilitator/guard.py, --payer-cooldown-s)
    PAYER_TEMPORARILY_REFUSED = "payer_temporarily_refused"
    # this project's own: a create-ATA whose rent the fee payer would fund again for an account
    # it funded before (closed since), or beyond --max-created-accounts-per-minute
    # (facilitator/guard.py RentGuard, facilitator/verification.py rent_rejection)
    CREATE_ATA_REFUSED = "create_ata_refused"

    # ---------------------------------------------------------------- extensions (this project's)
    # extensions["payment-identifier"] is there but malformed: not an object, or an id that is
    # not 16-128 of [A-Za-z0-9_-] (protocol/payment_identifier.py read_payment_id)
    INVALID_PAYMENT_IDENTIFIER = "invalid_payment_identifier"
    # the route declares the identifier required and the payment carries none (server/
    # idempotent.py; 400)
    PAYMENT_IDENTIFIER_REQUIRED = "payment_identifier_required"
    # the id was first used with another payload (server/idempotent.py, facilitator/app.py; 409)
    PAYMENT_IDENTIFIER_CONFLICT = "payment_identifier_conflict"
    # SIGN-IN-WITH-X is not base64 JSON of a sign-in: a field missing or of the wrong type, a
    # time that is not ISO 8601, a version other than "1" (protocol/siws.py; server/sign_in.py 400)
    INVALID_SIGN_IN = "invalid_sign_in_with_x"
    # the sign-in's domain, or its uri's origin, is not the server's configured public origin
    # (protocol/siws.py check; the request's Host is never asked)
    SIGN_IN_DOMAIN_MISMATCH = "sign_in_domain_mismatch"
    SIGN_IN_URI_MISMATCH = "sign_in_uri_mismatch"
    # chainId is not the server's Solana network (CAIP-2), or type is not ed25519 (siws.py)
    SIGN_IN_CHAIN_MISMATCH = "sign_in_chain_mismatch"
    # issuedAt more than five minutes old, or ahead of the server's clock by more than the skew;
    # expirationTime passed; notBefore not reached (siws.py check)
    SIGN_IN_TOO_OLD = "sign_in_too_old"
    SIGN_IN_ISSUED_IN_FUTURE = "sign_in_issued_in_future"
    SIGN_IN_EXPIRED = "sign_in_expired"
    SIGN_IN_NOT_YET_VALID = "sign_in_not_yet_valid"
    # the signature is not the address's ed25519 signature of the SIWS text (siws.py)
    SIGN_IN_SIGNATURE_INVALID = "sign_in_signature_invalid"
    # the nonce was not issued by this server for this route, or was used already
    # (server/sign_in.py)
    SIGN_IN_NONCE_UNKNOWN = "sign_in_nonce_unknown"
    SIGN_IN_NONCE_REUSED = "sign_in_nonce_reused"
    # a valid sign-in of a wallet that has no settled payment for this route (server/sign_in.py)
    SIGN_IN_NOT_PAID = "sign_in_not_paid"


# The unknown instruction after the transfer, by its 0-based position in the message.
UNKNOWN_INSTRUCTION: dict[int, Reason] = {
    3: Reason.SVM_UNKNOWN_FOURTH_INSTRUCTION,
    4: Reason.SVM_UNKNOWN_FIFTH_INSTRUCTION,
    5: Reason.SVM_UNKNOWN_SIXTH_INSTRUCTION,
    6: Reason.SVM_UNKNOWN_SEVENTH_INSTRUCTION,
}


def unknown_instruction(index: int) -> Reason:
    """The reason for an unknown instruction at `index`; the count reason past the table."""
    return UNKNOWN_INSTRUCTION.get(index, Reason.SVM_INSTRUCTIONS_LENGTH)


# `reasons.INVALID_PAYLOAD` and the other module-level names: the members themselves.
globals().update(Reason.__members__)
__all__ = ["UNKNOWN_INSTRUCTION", "Reason", "unknown_instruction", *Reason.__members__]
