"""The x402 client side on Solana: build and sign exact-SVM payments, pay 402s automatically,
and build deliberately broken payments for tests (`sandbox.payer.mutations`).

    build_payment(requirements, keypair, mint_info, blockhash) -> Payment    pure, no I/O
                                  (the transaction: sandbox.protocol.exact_svm.client)
    X402Client(keypair, rpc_url=..., policy=PaymentPolicy(...))            aiohttp, async
    X402ClientSync(keypair, ...)                                            blocking wrapper
    X402Client.sign_in(url)           sign-in-with-x instead of paying (payer/sign_in.py)
    ChainFacts(RpcClient(url))        cached blockhash (short TTL) and mint facts (forever)
"""

from sandbox.payer.chain_facts import DEFAULT_BLOCKHASH_TTL, ChainFacts, parse_mint_account
from sandbox.payer.client import (
    DEFAULT_RPC_URL,
    PhaseTimings,
    X402Client,
    X402Response,
    read_challenge,
)
from sandbox.payer.errors import (
    ChallengeError,
    KeypairError,
    MintError,
    NoAcceptablePayment,
    PayerError,
    PaymentBuildError,
    RpcError,
    RpcUnreachable,
    ServerUnreachable,
)
from sandbox.payer.keys import load_keypair, save_keypair
from sandbox.payer.payment import (
    Payment,
    blockhash_hint,
    build_payment,
    build_transaction,
    sign_partial,
    wrap_transaction,
)
from sandbox.payer.policy import DEFAULT_MAX_AMOUNT, PaymentPolicy
from sandbox.payer.rpc import RpcClient
from sandbox.payer.sign_in import SignInUnavailable
from sandbox.payer.sync_client import X402ClientSync
from sandbox.protocol.exact_svm.client import (
    COMPUTE_UNIT_LIMIT,
    COMPUTE_UNIT_PRICE_MICROLAMPORTS,
    MintInfo,
    TransferSpec,
)

__all__ = [
    "COMPUTE_UNIT_LIMIT",
    "COMPUTE_UNIT_PRICE_MICROLAMPORTS",
    "DEFAULT_BLOCKHASH_TTL",
    "DEFAULT_MAX_AMOUNT",
    "DEFAULT_RPC_URL",
    "ChainFacts",
    "ChallengeError",
    "KeypairError",
    "MintError",
    "MintInfo",
    "NoAcceptablePayment",
    "PayerError",
    "Payment",
    "PaymentBuildError",
    "PaymentPolicy",
    "PhaseTimings",
    "RpcClient",
    "RpcError",
    "RpcUnreachable",
    "ServerUnreachable",
    "SignInUnavailable",
    "TransferSpec",
    "X402Client",
    "X402ClientSync",
    "X402Response",
    "blockhash_hint",
    "build_payment",
    "build_transaction",
    "load_keypair",
    "parse_mint_account",
    "read_challenge",
    "save_keypair",
    "sign_partial",
    "wrap_transaction",
]
