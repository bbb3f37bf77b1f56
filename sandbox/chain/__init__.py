"""The embedded Solana devnet: JSON-RPC and PubSub over an in-process LiteSVM ledger.

Run it with `x402-sandbox chain` or `python -m sandbox.chain`; start it inside tests with
`sandbox.chain.testing.start_chain()`.
"""

from .devnet import TEST_TOKEN_2022_MINT
from .settings import ChainSettings, FaultSettings

__all__ = ["TEST_TOKEN_2022_MINT", "ChainSettings", "FaultSettings"]
