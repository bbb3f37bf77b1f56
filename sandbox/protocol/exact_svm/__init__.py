"""The exact scheme on Solana, by role, pure and without I/O (the x402-rs and SDK layout).

- `transaction.py`: decode a wire transaction, its payment identity (SHA-256 of the message),
  memos, the instruction decoders (compute budget, TransferChecked, Memo, associated token
  account create) and the scheme's constants, each stated once.
- `client.py`: build and sign an exact-SVM payment transaction (what the payer sends).
- `server.py`: payment requirements (v1 and v2) and the 402 bodies a paid server answers.
- `facilitator.py`: `check_payment`, every exact check a facilitator runs before it signs.
- `wire.py`: builders for every answer the facilitator gives (VerifyResponse, SettleResponse,
  the /supported body), plain dicts on the hot path, each checked against its model by a test.

The payer, server and facilitator packages are thin shells that add I/O around these modules.
Nothing here imports another sandbox component.
"""

# Nothing re-exported: import from the role module, which says where the rule lives.
__all__: list[str] = []
