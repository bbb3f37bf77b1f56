"""The x402 facilitator: exact-SVM verification, exactly-once settlement, fault injection."""

# Nothing re-exported: import from the module that owns the name (app, service, settlement...).
__all__: list[str] = []
