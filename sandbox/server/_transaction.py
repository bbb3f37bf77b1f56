"""What the server reads in a payment's Solana transaction (its memos, its identity, and whether
a signature the facilitator reports really signs it) now lives in
`sandbox.protocol.exact_svm.transaction`; this re-export keeps the server's modules importing
it from here until they name the new home."""

from sandbox.protocol.exact_svm.transaction import PaymentTransaction, read_transaction

__all__ = ["PaymentTransaction", "read_transaction"]
