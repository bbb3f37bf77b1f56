"""The `sign-in-with-x` extension on Solana (specs/extensions/sign-in-with-x.md; CAIP-122, the
message of Sign-In With Solana): a wallet proves it holds an address by signing the server's
challenge, so a server can let in a wallet that has paid before without a second payment.

    402       extensions["sign-in-with-x"] = {"info": {domain, uri, version, nonce, issuedAt,
              expirationTime, statement, resources}, "supportedChains": [{chainId, type:
              "ed25519", signatureScheme: "siws"}], "schema": {...}}
    request   SIGN-IN-WITH-X: base64 of the JSON of `info` echoed, plus address, chainId, type,
              signature (base58 ed25519 signature of `message_text`, the UTF-8 SIWS text)

This module is pure: the message, its text both ways, the header both ways, the signature, and
the checks that need no state (`check`). Nonces used once and payments made are the server's.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import orjson
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.signature import Signature

from sandbox.protocol import reasons
from sandbox.protocol.errors import ProtocolError, short_repr
from sandbox.protocol.networks import is_solana, to_caip2

__all__ = [
    "CLOCK_SKEW_SECONDS",
    "EXTENSION",
    "HEADER",
    "MAX_AGE_SECONDS",
    "SCHEMA",
    "SignInMessage",
    "SignInRefused",
    "challenge",
    "check",
    "declaration",
    "decode_header",
    "encode_header",
    "iso_time",
    "message_text",
    "normalize_origin",
    "parse_message_text",
    "sign",
    "verify_signature",
]

EXTENSION = "sign-in-with-x"
HEADER = "SIGN-IN-WITH-X"
SIGNATURE_TYPE = "ed25519"
SIGNATURE_SCHEME = "siws"
VERSION = "1"
MAX_AGE_SECONDS = 300  # the spec's default: issuedAt at most five minutes old
CLOCK_SKEW_SECONDS = 10  # issuedAt this far ahead is a client clock, not a forgery
MAX_HEADER_BYTES = 8192  # a sign-in is a few hundred bytes

_STRING = {"type": "string"}
_TIME = {"type": "string", "format": "date-time"}
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "domain": _STRING,
        "address": _STRING,
        "statement": _STRING,
        "uri": {"type": "string", "format": "uri"},
        "version": _STRING,
        "chainId": _STRING,
        "type": _STRING,
        "nonce": _STRING,
        "issuedAt": _TIME,
        "expirationTime": _TIME,
        "notBefore": _TIME,
        "requestId": _STRING,
        "resources": {"type": "array", "items": {"type": "string", "format": "uri"}},
        "signature": _STRING,
    },
    "required": [
        "domain", "address", "uri", "version", "chainId", "type", "nonce", "issuedAt", "signature",
    ],
}  # fmt: skip
_REQUIRED = tuple(SCHEMA["required"])
_OPTIONAL = ("statement", "expirationTime", "notBefore", "requestId", "signatureScheme")


class SignInRefused(ValueError):
    """A sign-in that is well formed and not accepted: `.reason` (reasons.py), `.message`."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class SignInMessage:
    """One sign-in, as the header carries it (wire names in `to_wire`)."""

    domain: str
    address: str
    uri: str
    chain_id: str
    nonce: str
    issued_at: str
    version: str = VERSION
    type: str = SIGNATURE_TYPE
    statement: str | None = None
    expiration_time: str | None = None
    not_before: str | None = None
    request_id: str | None = None
    resources: tuple[str, ...] = ()
    signature_scheme: str | None = SIGNATURE_SCHEME
    signature: str | None = None  # base58; None until signed

    def to_wire(self) -> dict[str, Any]:
        wire = {
            "domain": self.domain, "address": self.address, "statement": self.statement,
            "uri": self.uri, "version": self.version, "chainId": self.chain_id,
            "type": self.type, "nonce": self.nonce, "issuedAt": self.issued_at,
            "expirationTime": self.expiration_time, "notBefore": self.not_before,
            "requestId": self.request_id, "resources": list(self.resources) or None,
            "signatureScheme": self.signature_scheme, "signature": self.signature,
        }  # fmt: skip
        return {k: v for k, v in wire.items() if v is not None}

    @classmethod
    def from_wire(cls, data: Any) -> SignInMessage:
        """ProtocolError (reason invalid_sign_in_with_x) naming the first field that is wrong."""
        if not isinstance(data, dict):
            raise _bad(f"{HEADER} must be a JSON object, got {short_repr(data)}")
        for name in _REQUIRED:
            if not isinstance(data.get(name), str) or not data[name]:
                raise _bad(f"{HEADER}: field '{name}' must be a non-empty string")
        for name in _OPTIONAL:
            if data.get(name) is not None and not isinstance(data[name], str):
                raise _bad(f"{HEADER}: field '{name}' must be a string")
        resources = data.get("resources") or []
        if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
            raise _bad(f"{HEADER}: field 'resources' must be an array of strings")
        for name in ("domain", "address", "uri", "nonce", "issuedAt", "statement", "requestId"):
            if "\n" in (data.get(name) or ""):
                raise _bad(f"{HEADER}: field '{name}' must be one line")  # the text is by lines
        if any("\n" in r for r in resources):
            raise _bad(f"{HEADER}: a resource must be one line")
        return cls(
            domain=data["domain"], address=data["address"], uri=data["uri"],
            chain_id=data["chainId"], nonce=data["nonce"], issued_at=data["issuedAt"],
            version=data["version"], type=data["type"], statement=data.get("statement"),
            expiration_time=data.get("expirationTime"), not_before=data.get("notBefore"),
            request_id=data.get("requestId"), resources=tuple(resources),
            signature_scheme=data.get("signatureScheme"), signature=data["signature"],
        )  # fmt: skip


# ---------------------------------------------------------------------- the text that is signed


def message_text(message: SignInMessage) -> str:
    """The SIWS text (CAIP-122 ABNF, as the reference SDK formats it); the chain line carries
    the CAIP-2 reference only (the genesis hash prefix)."""
    lines = [f"{message.domain} wants you to sign in with your Solana account:", message.address]
    lines.append("")
    if message.statement:
        lines += [message.statement, ""]
    lines += [
        f"URI: {message.uri}",
        f"Version: {message.version}",
        f"Chain ID: {message.chain_id.partition(':')[2] or message.chain_id}",
        f"Nonce: {message.nonce}",
        f"Issued At: {message.issued_at}",
    ]
    if message.expiration_time:
        lines.append(f"Expiration Time: {message.expiration_time}")
    if message.not_before:
        lines.append(f"Not Before: {message.not_before}")
    if message.request_id:
        lines.append(f"Request ID: {message.request_id}")
    if message.resources:
        lines.append("Resources:")
        lines += [f"- {resource}" for resource in message.resources]
    return "\n".join(lines)


_TAGS = {
    "URI": "uri", "Version": "version", "Chain ID": "chainId", "Nonce": "nonce",
    "Issued At": "issuedAt", "Expiration Time": "expirationTime", "Not Before": "notBefore",
    "Request ID": "requestId",
}  # fmt: skip


def parse_message_text(text: str) -> dict[str, Any]:
    """The fields of a SIWS text (wire names; chainId as its reference, as written); ValueError
    naming the line that does not fit."""
    lines = text.split("\n")
    head = " wants you to sign in with your Solana account:"
    if len(lines) < 3 or not lines[0].endswith(head):
        raise ValueError(f"the first line must be '<domain>{head}'")
    fields: dict[str, Any] = {"domain": lines[0][: -len(head)], "address": lines[1]}
    if lines[2] != "":
        raise ValueError("line 3 must be empty")
    rest = lines[3:]
    if rest and not rest[0].startswith("URI: "):
        fields["statement"] = rest[0]
        if len(rest) < 2 or rest[1] != "":
            raise ValueError("the statement must be followed by an empty line")
        rest = rest[2:]
    while rest and rest[0] != "Resources:":
        tag, sep, value = rest.pop(0).partition(": ")
        if not sep or tag not in _TAGS or _TAGS[tag] in fields:
            raise ValueError(f"unexpected line {tag + sep + value!r}")
        fields[_TAGS[tag]] = value
    if rest:
        resources = rest[1:]
        if not resources or not all(r.startswith("- ") for r in resources):
            raise ValueError("'Resources:' must be followed by '- <uri>' lines")
        fields["resources"] = [r[2:] for r in resources]
    missing = [n for n in ("uri", "version", "chainId", "nonce", "issuedAt") if n not in fields]
    if missing:
        raise ValueError(f"missing lines: {', '.join(missing)}")
    return fields


# ---------------------------------------------------------------------- the header


def encode_header(message: SignInMessage) -> str:
    return base64.b64encode(orjson.dumps(message.to_wire())).decode()


def decode_header(value: str | bytes) -> SignInMessage:
    """ProtocolError (invalid_sign_in_with_x) when it is not base64 JSON of a sign-in."""
    raw = value.encode() if isinstance(value, str) else value
    if len(raw) > MAX_HEADER_BYTES:
        raise _bad(f"{HEADER} is over {MAX_HEADER_BYTES} bytes")
    try:
        data = orjson.loads(base64.b64decode(raw.strip(), validate=True))
    except (binascii.Error, ValueError):
        raise _bad(f"{HEADER} must be base64 of a JSON object") from None
    return SignInMessage.from_wire(data)


# ---------------------------------------------------------------------- the two sides


def iso_time(moment: dt.datetime) -> str:
    """ISO 8601 in UTC with milliseconds and Z, as JavaScript's toISOString writes it."""
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def normalize_origin(origin: str) -> str:
    """scheme://host[:port], lower case; ValueError when `origin` is not just an http origin."""
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{origin!r} is not an http(s) origin like http://127.0.0.1:4021")
    if parts.username or parts.password or parts.path not in ("", "/") or parts.query:
        raise ValueError(f"{origin!r} must be scheme://host[:port], without a path or query")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def declaration(statement: str | None = None) -> dict[str, Any]:
    """What a route declares once; `challenge` fills it in for each 402."""
    info: dict[str, Any] = {"version": VERSION}
    if statement:
        info["statement"] = statement
    return {"info": info, "supportedChains": [], "schema": SCHEMA}


def challenge(
    declared: dict[str, Any],
    *,
    origin: str,
    path: str,
    network: str,
    nonce: str,
    now: dt.datetime | None = None,
    max_age: int = MAX_AGE_SECONDS,
) -> dict[str, Any]:
    """The extension as one 402 carries it: the server's origin (never the request's Host), a
    fresh nonce, the time, the network's CAIP-2 id."""
    now = now or dt.datetime.now(dt.UTC)
    origin = normalize_origin(origin)
    uri = origin + path
    info = {
        **declared.get("info", {}),
        "domain": urlsplit(origin).netloc,
        "uri": uri,
        "nonce": nonce,
        "issuedAt": iso_time(now),
        "expirationTime": iso_time(now + dt.timedelta(seconds=max_age)),
        "resources": [uri],
    }
    chain = {
        "chainId": to_caip2(network),
        "type": SIGNATURE_TYPE,
        "signatureScheme": SIGNATURE_SCHEME,
    }
    return {**declared, "info": info, "supportedChains": [chain]}


def sign(extension: dict[str, Any], keypair: Keypair) -> SignInMessage:
    """The client's side: sign the 402's challenge with the first Solana ed25519 chain it lists;
    ValueError when it lists none or its info is not usable."""
    chains = extension.get("supportedChains") or []
    chain = next(
        (c for c in chains if isinstance(c, dict) and c.get("type") == SIGNATURE_TYPE
         and is_solana(str(c.get("chainId")))),
        None,
    )  # fmt: skip
    if chain is None:
        raise ValueError(f"the 402's {EXTENSION} lists no Solana ed25519 chain in supportedChains")
    info = extension.get("info")
    if not isinstance(info, dict):
        raise ValueError(f"the 402's {EXTENSION} has no info object")
    wire = {
        **info,
        "address": str(keypair.pubkey()),
        "chainId": chain["chainId"],
        "type": SIGNATURE_TYPE,
        "signatureScheme": SIGNATURE_SCHEME,
        "signature": "-",  # from_wire wants one; replaced below
    }
    try:
        unsigned = SignInMessage.from_wire(wire)
    except ProtocolError as exc:
        raise ValueError(f"the 402's {EXTENSION} info: {exc.message}") from None
    signature = keypair.sign_message(message_text(unsigned).encode())
    return replace(unsigned, signature=str(signature))


def verify_signature(message: SignInMessage) -> bool:
    """True when `signature` is the address's ed25519 signature of the message's text."""
    try:
        pubkey = Pubkey.from_string(message.address)
        signature = Signature.from_string(message.signature or "")
    except (ValueError, TypeError):
        return False
    return signature.verify(pubkey, message_text(message).encode())


# ---------------------------------------------------------------------- the stateless checks


def _time(name: str, value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise SignInRefused(
            reasons.INVALID_SIGN_IN,
            f"{name} {short_repr(value)} is not an ISO 8601 time with a zone (like "
            "2024-01-15T10:30:00.000Z)",
        )
    return moment


def check(
    message: SignInMessage,
    *,
    origin: str,
    network: str,
    now: dt.datetime | None = None,
    max_age: int = MAX_AGE_SECONDS,
    skew: int = CLOCK_SKEW_SECONDS,
) -> None:
    """Raise SignInRefused for the first rule `message` breaks: domain and uri against the
    server's configured `origin` (never the request's Host: a caller sets that), version, chain
    and type, the times, the signature."""
    now = now or dt.datetime.now(dt.UTC)
    origin = normalize_origin(origin)
    domain = urlsplit(origin).netloc
    if message.domain.lower() != domain:
        what = f"domain {short_repr(message.domain)} is not this server's ({domain})"
        raise SignInRefused(reasons.SIGN_IN_DOMAIN_MISMATCH, what)
    try:
        uri = urlsplit(message.uri)  # ValueError on a broken IPv6 host, for one
        uri_origin = normalize_origin(f"{uri.scheme}://{uri.netloc}")
    except ValueError:
        uri_origin = None
    if uri_origin != origin:
        what = f"uri {short_repr(message.uri)} is not on this server's origin {origin}"
        raise SignInRefused(reasons.SIGN_IN_URI_MISMATCH, what)
    if message.version != VERSION:
        what = f"version {short_repr(message.version)}: only {VERSION!r} is defined"
        raise SignInRefused(reasons.INVALID_SIGN_IN, what)
    expected = to_caip2(network)
    if message.chain_id != expected or message.type != SIGNATURE_TYPE:
        raise SignInRefused(
            reasons.SIGN_IN_CHAIN_MISMATCH,
            f"chainId {short_repr(message.chain_id)} type {short_repr(message.type)}: this server "
            f"takes sign-ins on {expected} with {SIGNATURE_TYPE} signatures",
        )
    age = (now - _time("issuedAt", message.issued_at)).total_seconds()
    if age > max_age:
        what = f"issuedAt {message.issued_at} is {age:.0f} s old (at most {max_age} s)"
        raise SignInRefused(reasons.SIGN_IN_TOO_OLD, what)
    if age < -skew:
        what = f"issuedAt {message.issued_at} is {-age:.0f} s in the future"
        raise SignInRefused(reasons.SIGN_IN_ISSUED_IN_FUTURE, what)
    if message.expiration_time and _time("expirationTime", message.expiration_time) <= now:
        what = f"the sign-in expired at {message.expiration_time}"
        raise SignInRefused(reasons.SIGN_IN_EXPIRED, what)
    if message.not_before and _time("notBefore", message.not_before) > now:
        what = f"the sign-in is not valid before {message.not_before}"
        raise SignInRefused(reasons.SIGN_IN_NOT_YET_VALID, what)
    if not verify_signature(message):
        raise SignInRefused(
            reasons.SIGN_IN_SIGNATURE_INVALID,
            f"signature is not {short_repr(message.address)}'s ed25519 signature (base58) of the "
            "SIWS text of this message",
        )


def _bad(message: str) -> ProtocolError:
    return ProtocolError(message, reason=reasons.INVALID_SIGN_IN)
