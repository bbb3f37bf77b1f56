"""What a case is judged on: the requests the case server saw (x402 headers decoded), the
payer's transactions on chain, the payer's balances before and after, and the client's exit.

Everything here is read from the wire or from the chain; nothing is reported by the client.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field
from typing import Any

from solders.signature import Signature
from solders.transaction import VersionedTransaction

from sandbox.protocol import (
    PAYMENT_RESPONSE,
    PAYMENT_SIGNATURE,
    X_PAYMENT,
    X_PAYMENT_RESPONSE,
    ProtocolError,
    decode_payment_payload,
    decode_payment_required,
    decode_settle_response,
)
from sandbox.protocol.exact_svm.transaction import memo_texts, transfer_checked

__all__ = [
    "ChainTx",
    "Evidence",
    "Offer",
    "RequestSeen",
    "TxFacts",
    "decode_request",
    "record_response",
    "tx_facts",
]

# Request headers shown as they came; the x402 ones are decoded next to them.
_PAYMENT_HEADERS = {PAYMENT_SIGNATURE.lower(): PAYMENT_SIGNATURE, X_PAYMENT.lower(): X_PAYMENT}
_RECEIPT_HEADERS = {
    PAYMENT_RESPONSE.lower(): PAYMENT_RESPONSE,
    X_PAYMENT_RESPONSE.lower(): X_PAYMENT_RESPONSE,
}


@dataclass
class TxFacts:
    """What one Solana transaction does, as the judge needs it."""

    signature: str  # the id: the fee payer's signature, or the client's before co-signing
    fee_payer: str
    signers: list[str]
    signatures: list[str]  # every signature present, in signer order (matches sent to landed)
    blockhash: str
    memos: list[str]
    # one dict per TransferChecked: amount, mint, source, destination, authority
    transfers: list[dict[str, Any]]


def tx_facts(tx: VersionedTransaction) -> TxFacts:
    message = tx.message
    keys = list(message.account_keys)
    transfers = []
    for ix in message.instructions:
        transfer = transfer_checked(ix, keys)
        if transfer is not None:
            transfers.append(
                {
                    "amount": transfer.amount,
                    "mint": str(transfer.mint),
                    "source": str(transfer.source),
                    "destination": str(transfer.destination),
                    "authority": str(transfer.authority),
                }
            )
    # The id is the fee payer's signature; a payment not yet settled lacks it, so the first
    # signature present (the client's) names it then.
    signed = [sig for sig in tx.signatures if sig != Signature.default()]
    return TxFacts(
        signature=str(signed[0]) if signed else "",
        fee_payer=str(keys[0]) if keys else "",
        signers=[str(key) for key in keys[: message.header.num_required_signatures]],
        signatures=[str(sig) for sig in signed],
        blockhash=str(message.recent_blockhash),
        memos=list(memo_texts(message, keys)),
        transfers=transfers,
    )


@dataclass
class ChainTx(TxFacts):
    """One of the payer's transactions as the chain has it."""

    slot: int = 0
    err: Any = None

    @property
    def landed(self) -> bool:
        return self.err is None


@dataclass
class RequestSeen:
    """One request to the case server and its answer."""

    method: str
    path: str
    headers: dict[str, str]
    status: int = 0
    payment_header: str | None = None  # PAYMENT-SIGNATURE or X-PAYMENT when one came
    payment: dict[str, Any] | None = None  # the payload, decoded
    transaction: TxFacts | None = None  # the payload's transaction, decoded
    decode_error: str | None = None
    offers: list[dict[str, Any]] = field(default_factory=list)  # a 402's v2 accepts
    error: str | None = None  # a 402's error: why the server refused this request's payment
    receipt: dict[str, Any] | None = None  # PAYMENT-RESPONSE / X-PAYMENT-RESPONSE, decoded

    @property
    def paid(self) -> bool:
        return self.payment_header is not None

    def summary(self) -> str:
        text = f"{self.method} {self.path} -> {self.status}"
        if self.paid:
            text += f" (paid with {self.payment_header}"
            if self.transaction is not None:
                text += f", client signature {self.transaction.signatures[-1][:16]}.."
            text += ")"
        if self.paid and self.error:
            text += f" refused: {self.error}"
        if self.receipt is not None:
            state = "settled" if self.receipt.get("success") else self.receipt.get("errorReason")
            text += f" receipt: {state}"
        return text


def decode_request(method: str, path: str, raw_headers: list[tuple[bytes, bytes]]) -> RequestSeen:
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in raw_headers}
    seen = RequestSeen(method, path, headers)
    # PAYMENT-SIGNATURE wins over X-PAYMENT, as servers read them.
    for lower in (PAYMENT_SIGNATURE.lower(), X_PAYMENT.lower()):
        if lower in headers:
            seen.payment_header = _PAYMENT_HEADERS[lower]
            try:
                payload = decode_payment_payload(headers[lower], seen.payment_header)
                seen.payment = payload.to_wire()
                raw = base64.b64decode(payload.transaction or "", validate=True)
                seen.transaction = tx_facts(VersionedTransaction.from_bytes(raw))
            except ProtocolError as exc:
                seen.decode_error = str(exc)
            except Exception as exc:  # solders' own errors for bytes that are no transaction
                seen.decode_error = f"payload.transaction is not a Solana transaction ({exc})"
            break
    return seen


def record_response(seen: RequestSeen, status: int, raw_headers: list[tuple[bytes, bytes]]) -> None:
    seen.status = status
    for name, value in raw_headers:
        lower = name.decode("latin-1").lower()
        try:
            if lower == "payment-required":
                challenge = decode_payment_required(value).to_wire()
                seen.offers = challenge.get("accepts", [])
                seen.error = challenge.get("error") or None
            elif lower in _RECEIPT_HEADERS:
                seen.receipt = decode_settle_response(value, _RECEIPT_HEADERS[lower]).to_wire()
        except ProtocolError as exc:
            seen.decode_error = f"{lower}: {exc}"


@dataclass(frozen=True)
class Offer:
    """What the case server asks for: the terms a correct payment meets exactly."""

    amount: int
    asset: str
    pay_to: str
    recipient: str  # payTo's associated token account for the asset
    network: str  # as offered (a disguised case offers another network than the chain's)
    fee_payer: str
    blockhash_hint: str = ""  # extra.recentBlockhash as offered (a stale one, in its case)


@dataclass
class Evidence:
    case: str
    payer: str
    offer: Offer | None = None
    requests: list[RequestSeen] = field(default_factory=list)
    transactions: list[ChainTx] = field(default_factory=list)
    # the facilitator's records of this payer's payments: each verify refused and each settle
    # (operation, reason, message, transaction), oldest first
    facilitator: list[dict[str, Any]] = field(default_factory=list)
    usdc_before: int = 0
    usdc_after: int = 0
    sol_before: int = 0
    sol_after: int = 0
    exit_code: int | None = None
    timed_out: bool = False
    seconds: float = 0.0
    output: str = ""  # the client's last lines (stdout and stderr)

    @property
    def memos_issued(self) -> list[str]:
        return [
            o["extra"]["memo"]
            for r in self.requests
            for o in r.offers
            if isinstance(o.get("extra"), dict) and isinstance(o["extra"].get("memo"), str)
        ]

    @property
    def paid_requests(self) -> list[RequestSeen]:
        return [r for r in self.requests if r.paid]

    @property
    def landed(self) -> list[ChainTx]:
        """The payer's transactions that landed without error and move its tokens."""
        return [
            tx
            for tx in self.transactions
            if tx.landed and any(t["authority"] == self.payer for t in tx.transfers)
        ]

    @property
    def usdc_change(self) -> int:
        return self.usdc_after - self.usdc_before

    @property
    def sol_change(self) -> int:
        return self.sol_after - self.sol_before

    def client_exit(self) -> str:
        if self.timed_out:
            return f"killed after {self.seconds:.0f} s"
        return f"exit {self.exit_code}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["landed"] = [tx.signature for tx in self.landed]
        data["usdcChange"] = self.usdc_change
        data["solChange"] = self.sol_change
        return data
