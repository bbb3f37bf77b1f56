"""The x402 facilitator: exact-SVM verification, exactly-once settlement, fault injection."""
