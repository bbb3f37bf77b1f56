"""x402 Solana sandbox: a local devnet, facilitator, paid server and load-testing harness."""

__version__ = "0.1.0"
