"""Sign-in-with-x on the paid server: a wallet that paid for a route opens it again by signing
the route's challenge (SIGN-IN-WITH-X) instead of paying (the wire side: protocol/siws.py).

    no header                   -> the paywall asks for payment as usual
    not base64 JSON of a sign-in -> 400 invalid_sign_in_with_x naming the field
    a check fails               -> 402 again, its reason in `error` (a fresh challenge: sign
                                   again or pay); with a payment header too, the payment is
                                   taken instead (as the reference SDK falls through to it)
    valid, and this wallet paid -> the content, no payment, no settlement

The checks, in order: the stateless ones (siws.check: origin, chain, times, signature), the
nonce issued by this server for this route (`_issue`), a settled payment of this wallet for this
route (`record_paid`, called at settlement by the paywall), and last the nonce spent: used once.

Both facts live in the server's SQLite file (payment_record.py) when it has one, so a restart
keeps who paid and which nonces were used. A used nonce is kept for as long as a message
carrying it could still pass the issuedAt check; after that the check refuses it anyway.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
import time

from sandbox.events import EventFeed
from sandbox.protocol import ProtocolError, reasons, siws
from sandbox.server._asgi import send_json
from sandbox.server.offer import NO_STORE, Offer, Offers
from sandbox.sqlite_writer import GroupCommitWriter

__all__ = ["DEFAULT_ORIGIN", "SignInStore", "SignIns", "sign_in_header"]

DEFAULT_ORIGIN = "http://127.0.0.1:4021"
_HEADER = siws.HEADER.lower().encode()
# A replay of one message is refused while its issuedAt could still pass; then by the age check.
_NONCE_KEEP_SECONDS = siws.MAX_AGE_SECONDS + siws.CLOCK_SKEW_SECONDS + 60

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sign_in_paid (
    payer TEXT NOT NULL,
    route TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (payer, route)
);
CREATE TABLE IF NOT EXISTS sign_in_nonces (
    nonce TEXT PRIMARY KEY,
    created REAL NOT NULL
);
"""
_PAID = "INSERT INTO sign_in_paid VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
_USED = "INSERT INTO sign_in_nonces VALUES (?, ?) ON CONFLICT DO NOTHING"
_PRUNE = "DELETE FROM sign_in_nonces WHERE created < ?"


def sign_in_header(scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == _HEADER:
            return value
    return None


class SignInStore:
    """Who paid for which route, and the nonces used; in memory, and in the file if given."""

    def __init__(
        self, db: sqlite3.Connection | None = None, writer: GroupCommitWriter | None = None
    ) -> None:
        if (db is None) != (writer is None):
            raise ValueError("SignInStore needs both a connection and its writer, or neither")
        self.writer = writer
        self._paid: set[tuple[str, str]] = set()
        self._nonces: dict[str, float] = {}  # nonce -> when used (insertion order: oldest first)
        if db is not None:
            db.executescript(_SCHEMA)
            db.execute(_PRUNE, (time.time() - _NONCE_KEEP_SECONDS,))
            self._paid.update(db.execute("SELECT payer, route FROM sign_in_paid").fetchall())
            rows = db.execute("SELECT nonce, created FROM sign_in_nonces ORDER BY created")
            self._nonces.update(rows.fetchall())

    def has_paid(self, payer: str, route: str) -> bool:
        return (payer, route) in self._paid

    async def record_paid(self, payer: str, route: str) -> None:
        if (payer, route) in self._paid:
            return
        self._paid.add((payer, route))
        if self.writer is not None:
            await self.writer.write(_PAID, (payer, route, time.time()))

    def use_nonce(self, nonce: str) -> bool:
        """Mark `nonce` used; False when it was already. Synchronous, so two concurrent replays
        cannot both pass; `persist_nonce` then writes it."""
        now = time.time()
        while self._nonces:
            oldest, used = next(iter(self._nonces.items()))
            if used >= now - _NONCE_KEEP_SECONDS:
                break
            del self._nonces[oldest]
        if nonce in self._nonces:
            return False
        self._nonces[nonce] = now
        return True

    async def persist_nonce(self, nonce: str) -> None:
        if self.writer is not None:
            await self.writer.write(_USED, (nonce, self._nonces.get(nonce, time.time())))


class SignIns:
    """The sign-in side of the paywall for the routes that declare it (PricedRoute.sign_in)."""

    def __init__(
        self,
        offers: Offers,
        feed: EventFeed,
        *,
        origin: str = DEFAULT_ORIGIN,
        secret: bytes | None = None,
        store: SignInStore | None = None,
        bugs: frozenset[str] = frozenset(),
    ) -> None:
        self.offers = offers
        self.feed = feed
        self.origin = siws.normalize_origin(origin)
        # Its own key, derived: the memo secret's HMACs (binding.py) never double as nonces.
        self._secret = (
            hashlib.sha256(b"sign-in-with-x nonce|" + secret).digest() if secret else os.urandom(32)
        )
        self.store = store or SignInStore()
        self.bugs = bugs

    # ------------------------------------------------------------------ the 402's side

    def _mac(self, salt: str, path: str) -> str:
        return hmac.new(self._secret, f"{salt}|{path}".encode(), hashlib.sha256).hexdigest()[:16]

    def _issue(self, path: str) -> str:
        """32 hex characters: 16 random, 16 of an HMAC binding them to the route."""
        salt = os.urandom(8).hex()
        return salt + self._mac(salt, path)

    def _ours(self, nonce: str, path: str) -> bool:
        if len(nonce) != 32:
            return False
        return hmac.compare_digest(nonce[16:], self._mac(nonce[:16], path))

    def declare(self, offer: Offer, extensions: dict | None) -> dict | None:
        """The route's extensions with this 402's challenge filled in."""
        if not extensions or siws.EXTENSION not in extensions:
            return extensions
        filled = siws.challenge(
            extensions[siws.EXTENSION],
            origin=self.origin,
            path=offer.path,
            network=self.offers.network,
            nonce=self._issue(offer.path),
        )
        return {**extensions, siws.EXTENSION: filled}

    # ------------------------------------------------------------------ one request

    async def record_paid(self, offer: Offer, payer: str | None) -> None:
        """A settled payment for a sign-in route: this payer may sign in to it from now on."""
        if payer and offer.route.sign_in:
            await self.store.record_paid(payer, offer.route.path)

    async def admit(self, app, scope, receive, send, offer: Offer, *, paying: bool) -> str | None:
        """Serve or refuse a request that signs in; the metrics outcome, or None when there is
        no sign-in (or a refused one beside a payment, which the paywall takes instead)."""
        value = sign_in_header(scope)
        if value is None:
            return None
        route = offer.route.path
        try:
            message = siws.decode_header(value)
            self._check(message, offer)
        except ProtocolError as exc:
            self.feed.publish("sign_in", route=route, ok=False, reason=exc.reason,
                              message=exc.message)  # fmt: skip
            if paying:
                return None
            await send_json(send, 400, {"error": exc.reason, "message": exc.message}, [NO_STORE])
            return "malformed"
        except siws.SignInRefused as exc:
            self.feed.publish("sign_in", route=route, ok=False, reason=exc.reason,
                              message=exc.message)  # fmt: skip
            if paying:
                return None
            await self.offers.challenge(send, offer, exc.reason, f"sign-in refused: {exc.message}")
            return "sign_in_refused"
        await self.store.persist_nonce(message.nonce)  # in the file before the content is sent
        self.feed.publish("sign_in", route=route, ok=True, address=message.address)
        await app(scope, receive, send)
        return "signed_in"

    def _check(self, message: siws.SignInMessage, offer: Offer) -> None:
        siws.check(message, origin=self.origin, network=self.offers.network)
        path = offer.route.path
        if not self._ours(message.nonce, path):
            raise siws.SignInRefused(
                reasons.SIGN_IN_NONCE_UNKNOWN,
                f"nonce {message.nonce[:40]!r} was not issued by this server for {path}: sign "
                "the challenge of this route's own 402",
            )
        if not self.store.has_paid(message.address, path):
            raise siws.SignInRefused(
                reasons.SIGN_IN_NOT_PAID,
                f"wallet {message.address} has no settled payment for {path}: pay once, then "
                "sign in",
            )
        # Last, and without an await before it: a nonce is spent only by a sign-in that opens.
        if not self.store.use_nonce(message.nonce) and "reuse-sign-in-nonce" not in self.bugs:
            raise siws.SignInRefused(
                reasons.SIGN_IN_NONCE_REUSED,
                f"nonce {message.nonce} was used already (a replayed sign-in): sign a fresh "
                "challenge",
            )
