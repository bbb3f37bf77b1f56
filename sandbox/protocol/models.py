"""x402 wire models, v1 and v2 side by side.

Every model inherits `WireModel`: camelCase on the wire, snake_case in Python, strict types (an
amount is a string of digits, a version is an integer) so that a malformed message is named
precisely instead of being coerced. Unknown fields are kept, so messages from newer peers
round-trip unchanged.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

Scheme = str


class WireModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        strict=True,
        extra="allow",
        frozen=True,
    )

    def to_wire(self) -> dict[str, Any]:
        """The JSON-ready dict, camelCase keys, optional fields left out when unset."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, exclude_none=True)


def _none_as_empty(value: Any) -> Any:
    # Some v1 peers send `null` for optional text fields; the v1 shape keeps them as "".
    return "" if value is None else value


# uint256 has 78 digits (EVM amounts); Solana's u64 has 20. Longer is no amount, and past 4,300
# digits int() itself refuses (a 500 wherever the amount is used).
MAX_AMOUNT_DIGITS = 78


def _digits(value: str) -> str:
    if not value.isdigit() or not value.isascii():
        raise ValueError("must be a string of decimal digits (atomic units)")
    if len(value) > MAX_AMOUNT_DIGITS:
        raise ValueError(f"has {len(value)} digits; an amount has at most {MAX_AMOUNT_DIGITS}")
    return value


# ---------------------------------------------------------------- v2


class _ExtraHints:
    """Readers for the exact scheme's `extra` fields, shared by v1 and v2 requirements.

    (No annotation of `extra` here: pydantic would take it as the models' first field.)
    """

    @property
    def fee_payer(self) -> str | None:
        value = (self.extra or {}).get("feePayer")
        return value if isinstance(value, str) else None

    @property
    def memo(self) -> str | None:
        value = (self.extra or {}).get("memo")
        return value if isinstance(value, str) else None


class ResourceInfo(WireModel):
    url: str
    description: str | None = None
    mime_type: str | None = None


class PaymentRequirements(_ExtraHints, WireModel):
    """What a server asks for (v2): one entry of `accepts`."""

    scheme: Scheme
    network: str
    amount: str
    asset: str
    pay_to: str
    max_timeout_seconds: int
    extra: dict[str, Any] | None = None

    _check_amount = field_validator("amount")(classmethod(lambda cls, v: _digits(v)))

    @property
    def atomic_amount(self) -> int:
        return int(self.amount)


class PaymentRequired(WireModel):
    """The v2 402 challenge, carried base64-encoded in the PAYMENT-REQUIRED header."""

    x402_version: Literal[2] = 2
    error: str | None = None
    resource: ResourceInfo | None = None
    accepts: list[PaymentRequirements]
    extensions: dict[str, Any] | None = None


class PaymentPayload(WireModel):
    """The v2 client proof, carried base64-encoded in the PAYMENT-SIGNATURE header."""

    x402_version: Literal[2] = 2
    resource: ResourceInfo | None = None
    accepted: PaymentRequirements
    payload: dict[str, Any]
    extensions: dict[str, Any] | None = None

    @property
    def scheme(self) -> str:
        return self.accepted.scheme

    @property
    def network(self) -> str:
        return self.accepted.network

    @property
    def transaction(self) -> str | None:
        value = self.payload.get("transaction")
        return value if isinstance(value, str) else None


# ---------------------------------------------------------------- v1


class PaymentRequirementsV1(_ExtraHints, WireModel):
    """What a server asks for (v1): one entry of the 402 body's `accepts`."""

    scheme: Scheme
    network: str
    max_amount_required: str
    resource: str
    description: str = ""
    mime_type: str = ""
    output_schema: dict[str, Any] | None = None
    pay_to: str
    max_timeout_seconds: int
    asset: str
    extra: dict[str, Any] | None = None

    _check_amount = field_validator("max_amount_required")(classmethod(lambda cls, v: _digits(v)))
    _null_text = field_validator("description", "mime_type", mode="before")(
        classmethod(lambda cls, v: _none_as_empty(v))
    )

    @property
    def amount(self) -> str:
        return self.max_amount_required

    @property
    def atomic_amount(self) -> int:
        return int(self.max_amount_required)


class PaymentRequiredV1(WireModel):
    """The v1 402 challenge, sent as the JSON body."""

    x402_version: Literal[1] = 1
    error: str = ""
    accepts: list[PaymentRequirementsV1]

    _null_error = field_validator("error", mode="before")(
        classmethod(lambda cls, v: _none_as_empty(v))
    )


class PaymentPayloadV1(WireModel):
    """The v1 client proof, carried base64-encoded in the X-PAYMENT header."""

    x402_version: Literal[1] = 1
    scheme: Scheme
    network: str
    payload: dict[str, Any]

    @property
    def transaction(self) -> str | None:
        value = self.payload.get("transaction")
        return value if isinstance(value, str) else None


AnyRequirements = PaymentRequirements | PaymentRequirementsV1
AnyPayload = PaymentPayload | PaymentPayloadV1


# ---------------------------------------------------------------- both versions


class VerifyResponse(WireModel):
    is_valid: bool
    invalid_reason: str | None = None
    invalid_message: str | None = None
    payer: str | None = None


class SettleResponse(WireModel):
    success: bool
    error_reason: str | None = None
    error_message: str | None = None
    payer: str | None = None
    transaction: str = ""
    network: str
    amount: str | None = None


class SupportedKind(WireModel):
    x402_version: int
    scheme: Scheme
    network: str
    extra: dict[str, Any] | None = None


class SupportedResponse(WireModel):
    kinds: list[SupportedKind]
    extensions: list[Any] = Field(default_factory=list)
    signers: dict[str, list[str]] = Field(default_factory=dict)


class FacilitatorRequest(WireModel):
    """Body of POST /verify and POST /settle (v2)."""

    x402_version: Literal[2] = 2
    payment_payload: PaymentPayload
    payment_requirements: PaymentRequirements


class FacilitatorRequestV1(WireModel):
    """Body of POST /verify and POST /settle (v1)."""

    x402_version: Literal[1] = 1
    payment_payload: PaymentPayloadV1
    payment_requirements: PaymentRequirementsV1
