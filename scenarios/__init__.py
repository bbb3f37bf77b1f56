"""The scenario catalogue: one payment story per module, run by `x402-sandbox scenarios`."""
