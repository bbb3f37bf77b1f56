"""sign-in-with-x on Solana, the pure side (sandbox/protocol/siws.py): the SIWS text both ways,
the header both ways, the signature, and each check with its own reason."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import replace

import orjson
import pytest
from solders.keypair import Keypair

from sandbox.protocol import ProtocolError, reasons, siws
from sandbox.protocol.networks import SOLANA_DEVNET, SOLANA_MAINNET

ORIGIN = "http://127.0.0.1:4021"
NOW = dt.datetime(2026, 1, 15, 10, 30, tzinfo=dt.UTC)


def signed(keypair: Keypair | None = None, **info) -> siws.SignInMessage:
    extension = siws.challenge(
        siws.declaration("Sign in to access premium data"),
        origin=ORIGIN, path="/api/member-content", network="solana-devnet",
        nonce="a1b2c3d4e5f67890a1b2c3d4e5f67890", now=NOW,
    )  # fmt: skip
    extension["info"].update(info)
    return siws.sign(extension, keypair or Keypair())


def resigned(message: siws.SignInMessage, keypair: Keypair, **changes) -> siws.SignInMessage:
    unsigned = replace(message, **changes)
    return replace(
        unsigned, signature=str(keypair.sign_message(siws.message_text(unsigned).encode()))
    )


def refused(message: siws.SignInMessage, now: dt.datetime = NOW, origin: str = ORIGIN) -> str:
    with pytest.raises(siws.SignInRefused) as caught:
        siws.check(message, origin=origin, network="solana-devnet", now=now)
    return caught.value.reason


def test_the_challenge_names_the_configured_origin_the_chain_and_a_five_minute_window() -> None:
    extension = siws.challenge(siws.declaration("Hi"), origin=ORIGIN + "/", path="/r",
                               network="solana-devnet", nonce="n" * 32, now=NOW)  # fmt: skip
    info = extension["info"]
    assert info["domain"] == "127.0.0.1:4021" and info["uri"] == ORIGIN + "/r"
    assert info["issuedAt"] == "2026-01-15T10:30:00.000Z"
    assert info["expirationTime"] == "2026-01-15T10:35:00.000Z"
    assert (
        info["version"] == "1"
        and info["statement"] == "Hi"
        and info["resources"] == [ORIGIN + "/r"]
    )
    assert extension["supportedChains"] == [
        {"chainId": SOLANA_DEVNET, "type": "ed25519", "signatureScheme": "siws"}
    ]
    assert "signature" in extension["schema"]["required"]


def test_the_text_is_the_siws_message_of_the_spec_and_parses_back() -> None:
    keypair = Keypair()
    message = signed(keypair)
    text = siws.message_text(message)
    assert text == "\n".join([
        "127.0.0.1:4021 wants you to sign in with your Solana account:",
        str(keypair.pubkey()),
        "",
        "Sign in to access premium data",
        "",
        f"URI: {ORIGIN}/api/member-content",
        "Version: 1",
        "Chain ID: EtWTRABZaYq6iMfeYKouRu166VU2xqa1",
        "Nonce: a1b2c3d4e5f67890a1b2c3d4e5f67890",
        "Issued At: 2026-01-15T10:30:00.000Z",
        "Expiration Time: 2026-01-15T10:35:00.000Z",
        "Resources:",
        f"- {ORIGIN}/api/member-content",
    ])  # fmt: skip
    fields = siws.parse_message_text(text)
    assert fields["address"] == str(keypair.pubkey()) and fields["nonce"] == message.nonce
    assert fields["chainId"] == "EtWTRABZaYq6iMfeYKouRu166VU2xqa1"
    assert fields["resources"] == [f"{ORIGIN}/api/member-content"]
    minimal = replace(message, statement=None, expiration_time=None, resources=(),
                      not_before="2026-01-15T10:29:00.000Z", request_id="req-1")  # fmt: skip
    parsed = siws.parse_message_text(siws.message_text(minimal))
    assert "statement" not in parsed and parsed["notBefore"] == "2026-01-15T10:29:00.000Z"
    assert parsed["requestId"] == "req-1"
    with pytest.raises(ValueError, match="first line"):
        siws.parse_message_text("hello\nworld\n")


def test_the_header_is_base64_json_and_decodes_to_the_same_message() -> None:
    message = signed()
    header = siws.encode_header(message)
    wire = orjson.loads(base64.b64decode(header))
    assert wire["chainId"] == SOLANA_DEVNET and wire["type"] == "ed25519"
    assert wire["signatureScheme"] == "siws" and len(wire["signature"]) > 80  # base58, 64 bytes
    assert siws.decode_header(header) == message


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("not base64!", "base64 of a JSON object"),
        (base64.b64encode(b"[1]").decode(), "must be a JSON object"),
        (base64.b64encode(b'{"domain": "x"}').decode(), "field 'address'"),
        ("A" * 9000, "over 8192 bytes"),
    ],
)
def test_a_malformed_header_is_a_protocol_error_naming_the_problem(value, words) -> None:
    with pytest.raises(ProtocolError) as caught:
        siws.decode_header(value)
    assert caught.value.reason == reasons.INVALID_SIGN_IN and words in caught.value.message


def test_a_field_with_a_line_break_cannot_smuggle_lines_into_the_text() -> None:
    wire = signed().to_wire() | {"statement": "hi\nURI: http://evil"}
    with pytest.raises(ProtocolError, match="one line"):
        siws.SignInMessage.from_wire(wire)


def test_a_valid_sign_in_passes_every_check() -> None:
    message = signed()
    assert siws.verify_signature(message)
    siws.check(message, origin=ORIGIN, network="solana-devnet", now=NOW + dt.timedelta(minutes=4))


def test_domain_and_uri_must_be_the_configured_origin() -> None:
    keypair = Keypair()
    message = signed(keypair)
    assert refused(message, origin="http://127.0.0.1:9999") == reasons.SIGN_IN_DOMAIN_MISMATCH
    other_uri = resigned(message, keypair, uri="https://127.0.0.1:4021/api/member-content")
    assert refused(other_uri) == reasons.SIGN_IN_URI_MISMATCH
    other_domain = resigned(message, keypair, domain="evil.example")
    assert refused(other_domain) == reasons.SIGN_IN_DOMAIN_MISMATCH
    assert refused(resigned(message, keypair, uri="http://[::1")) == reasons.SIGN_IN_URI_MISMATCH


def test_the_chain_must_be_the_sandbox_network_with_ed25519() -> None:
    keypair = Keypair()
    message = signed(keypair)
    assert (
        refused(resigned(message, keypair, chain_id=SOLANA_MAINNET))
        == reasons.SIGN_IN_CHAIN_MISMATCH
    )
    assert refused(resigned(message, keypair, type="eip191")) == reasons.SIGN_IN_CHAIN_MISMATCH


def test_the_times_issued_at_within_five_minutes_expiry_and_not_before() -> None:
    keypair = Keypair()
    message = signed(keypair, expirationTime="2026-01-15T11:30:00.000Z")
    assert refused(message, now=NOW + dt.timedelta(minutes=5, seconds=1)) == reasons.SIGN_IN_TOO_OLD
    assert refused(message, now=NOW - dt.timedelta(seconds=11)) == reasons.SIGN_IN_ISSUED_IN_FUTURE
    siws.check(message, origin=ORIGIN, network="solana-devnet", now=NOW - dt.timedelta(seconds=9))
    expired = resigned(message, keypair, expiration_time="2026-01-15T10:31:00.000Z")
    assert refused(expired, now=NOW + dt.timedelta(minutes=1)) == reasons.SIGN_IN_EXPIRED
    later = resigned(message, keypair, not_before="2026-01-15T10:32:00.000Z")
    assert refused(later, now=NOW + dt.timedelta(minutes=1)) == reasons.SIGN_IN_NOT_YET_VALID
    assert refused(resigned(message, keypair, issued_at="yesterday")) == reasons.INVALID_SIGN_IN
    assert (
        refused(resigned(message, keypair, issued_at="2026-01-15T10:30:00"))
        == reasons.INVALID_SIGN_IN
    )


def test_the_signature_must_be_the_addresss_over_this_very_text() -> None:
    message = signed()
    assert refused(replace(message, nonce="f" * 32)) == reasons.SIGN_IN_SIGNATURE_INVALID
    assert (
        refused(replace(message, address=str(Keypair().pubkey())))
        == reasons.SIGN_IN_SIGNATURE_INVALID
    )
    assert refused(replace(message, signature="not-base58")) == reasons.SIGN_IN_SIGNATURE_INVALID
    assert refused(replace(message, version="2")) == reasons.INVALID_SIGN_IN


def test_sign_needs_a_solana_ed25519_chain() -> None:
    with pytest.raises(ValueError, match="no Solana ed25519 chain"):
        siws.sign({"info": {}, "supportedChains": [{"chainId": "eip155:8453", "type": "eip191"}]},
                  Keypair())  # fmt: skip


def test_an_origin_is_scheme_host_and_port_only() -> None:
    assert siws.normalize_origin("HTTP://LocalHost:4021/") == "http://localhost:4021"
    for bad in ("ftp://x", "http://x/path", "http://u:p@x", "127.0.0.1:4021"):
        with pytest.raises(ValueError):
            siws.normalize_origin(bad)
