"""One well-formed sample of every x402 wire model, as the JSON a peer would send."""

from __future__ import annotations

from sandbox.protocol import SOLANA_DEVNET, USDC_DEVNET_MINT

FEE_PAYER = "7ccYgSQsZWQLFbKBtfNcfwH72Gn9FCmwsryJtbbw49KZ"
PAY_TO = "8MRZNPNt6BcPJXSwJFren2L6Z3gVU4DoczoXYrYmidap"
CLIENT = "E8nMtjRyTSRUfAMbMQBLPgNmGtZhysb6kQRLgwdEMnUe"
SIGNATURE = (
    "4sQugn4ofMy6S3Gn2x8wfCZGFLCURWAh9sgX167kycU4pxDXjTPa8vEnJSnxWiuLePNZrkKRtQmCkYFQQWpqzQN2"
)

RESOURCE = {
    "url": "http://127.0.0.1:4021/api/weather",
    "description": "Weather",
    "mimeType": "application/json",
}

REQUIREMENTS_V2 = {
    "scheme": "exact",
    "network": SOLANA_DEVNET,
    "amount": "1000",
    "asset": USDC_DEVNET_MINT,
    "payTo": PAY_TO,
    "maxTimeoutSeconds": 60,
    "extra": {"feePayer": FEE_PAYER, "memo": "m-1"},
}
REQUIREMENTS_V1 = {
    "scheme": "exact",
    "network": "solana-devnet",
    "maxAmountRequired": "1000",
    "resource": RESOURCE["url"],
    "description": "Weather",
    "mimeType": "application/json",
    "outputSchema": {"type": "object"},
    "payTo": PAY_TO,
    "maxTimeoutSeconds": 60,
    "asset": USDC_DEVNET_MINT,
    "extra": {"feePayer": FEE_PAYER},
}
PAYLOAD_V2 = {
    "x402Version": 2,
    "resource": RESOURCE,
    "accepted": REQUIREMENTS_V2,
    "payload": {"transaction": "AQID"},
}
PAYLOAD_V1 = {
    "x402Version": 1,
    "scheme": "exact",
    "network": "solana-devnet",
    "payload": {"transaction": "AQID"},
}
PAYMENT_REQUIRED_V2 = {
    "x402Version": 2,
    "error": "Payment required",
    "resource": RESOURCE,
    "accepts": [REQUIREMENTS_V2],
    "extensions": {"bazaar": {"info": 1}},
}
PAYMENT_REQUIRED_V1 = {
    "x402Version": 1,
    "error": "X-PAYMENT header is required",
    "accepts": [REQUIREMENTS_V1],
}
VERIFY_OK = {"isValid": True, "payer": CLIENT}
VERIFY_BAD = {
    "isValid": False,
    "invalidReason": "invalid_exact_svm_payload_amount_insufficient",
    "invalidMessage": "paid 1, asked 1000",
    "payer": CLIENT,
}
SETTLE_V2 = {
    "success": True,
    "payer": CLIENT,
    "transaction": SIGNATURE,
    "network": SOLANA_DEVNET,
    "amount": "1000",
}
SETTLE_V1 = {"success": True, "payer": CLIENT, "transaction": SIGNATURE, "network": "solana-devnet"}
SETTLE_FAILED = {
    "success": False,
    "errorReason": "settlement_pending",
    "errorMessage": "not confirmed in time",
    "transaction": SIGNATURE,
    "network": SOLANA_DEVNET,
}
SUPPORTED = {
    "kinds": [
        {
            "x402Version": 2,
            "scheme": "exact",
            "network": SOLANA_DEVNET,
            "extra": {"feePayer": FEE_PAYER},
        },
        {
            "x402Version": 1,
            "scheme": "exact",
            "network": "solana-devnet",
            "extra": {"feePayer": FEE_PAYER},
        },
    ],
    "extensions": [],
    "signers": {"solana:*": [FEE_PAYER]},
}
SUPPORTED_V1 = {"kinds": [{"x402Version": 1, "scheme": "exact", "network": "solana-devnet"}]}
FACILITATOR_V2 = {
    "x402Version": 2,
    "paymentPayload": PAYLOAD_V2,
    "paymentRequirements": REQUIREMENTS_V2,
}
FACILITATOR_V1 = {
    "x402Version": 1,
    "paymentPayload": PAYLOAD_V1,
    "paymentRequirements": REQUIREMENTS_V1,
}
