"""x402 reason strings, spelled as the official Python SDK 2.25 spells them.

They travel in `invalidReason` (verify) and `errorReason` (settle), and in the `error` field of a
402 that answers a rejected payment.
"""

# core
INSUFFICIENT_FUNDS = "insufficient_funds"
INVALID_NETWORK = "invalid_network"
INVALID_PAYLOAD = "invalid_payload"
INVALID_PAYMENT_REQUIREMENTS = "invalid_payment_requirements"
INVALID_SCHEME = "invalid_scheme"
INVALID_X402_VERSION = "invalid_x402_version"
INVALID_TRANSACTION_STATE = "invalid_transaction_state"
UNEXPECTED_VERIFY_ERROR = "unexpected_verify_error"
UNEXPECTED_SETTLE_ERROR = "unexpected_settle_error"
UNSUPPORTED_SCHEME = "unsupported_scheme"
NETWORK_MISMATCH = "network_mismatch"

# exact scheme on Solana
SVM_PAYLOAD = "invalid_exact_svm_payload"
SVM_NOT_DECODABLE = "invalid_exact_svm_payload_transaction_could_not_be_decoded"
SVM_INSTRUCTIONS_LENGTH = "invalid_exact_svm_payload_transaction_instructions_length"
SVM_UNKNOWN_FOURTH_INSTRUCTION = "invalid_exact_svm_payload_unknown_fourth_instruction"
SVM_UNKNOWN_FIFTH_INSTRUCTION = "invalid_exact_svm_payload_unknown_fifth_instruction"
SVM_UNKNOWN_SIXTH_INSTRUCTION = "invalid_exact_svm_payload_unknown_sixth_instruction"
SVM_COMPUTE_LIMIT_INSTRUCTION = (
    "invalid_exact_svm_payload_transaction_instructions_compute_limit_instruction"
)
SVM_COMPUTE_LIMIT_TOO_HIGH = (
    "invalid_exact_svm_payload_transaction_instructions_compute_limit_instruction_too_high"
)
SVM_COMPUTE_PRICE_INSTRUCTION = (
    "invalid_exact_svm_payload_transaction_instructions_compute_price_instruction"
)
SVM_COMPUTE_PRICE_TOO_HIGH = (
    "invalid_exact_svm_payload_transaction_instructions_compute_price_instruction_too_high"
)
SVM_NO_TRANSFER_INSTRUCTION = "invalid_exact_svm_payload_no_transfer_instruction"
SVM_MINT_MISMATCH = "invalid_exact_svm_payload_mint_mismatch"
SVM_RECIPIENT_MISMATCH = "invalid_exact_svm_payload_recipient_mismatch"
SVM_AMOUNT_INSUFFICIENT = "invalid_exact_svm_payload_amount_insufficient"
SVM_AMOUNT_MISMATCH = "invalid_exact_svm_payload_amount_mismatch"
SVM_MISSING_FEE_PAYER = "invalid_exact_svm_payload_missing_fee_payer"
FEE_PAYER_NOT_MANAGED = "fee_payer_not_managed_by_facilitator"
SVM_FEE_PAYER_TRANSFERRING_FUNDS = (
    "invalid_exact_svm_payload_transaction_fee_payer_transferring_funds"
)
SVM_MEMO_MISMATCH = "invalid_exact_svm_payload_memo_mismatch"
SVM_MEMO_COUNT = "invalid_exact_svm_payload_memo_count"
SVM_SIGNATURE_INVALID = "invalid_exact_svm_payload_signature_invalid"
SVM_EXCESSIVE_SIGNERS = "invalid_exact_svm_payload_excessive_signers"
SVM_ADDRESS_LOOKUP_TABLES = "invalid_exact_svm_payload_address_lookup_tables"
TRANSACTION_SIMULATION_FAILED = "transaction_simulation_failed"
TRANSACTION_FAILED = "transaction_failed"
DUPLICATE_SETTLEMENT = "duplicate_settlement"
SETTLEMENT_PENDING = "settlement_pending"
