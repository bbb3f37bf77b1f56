"""Who may call a cheat code or an admin endpoint: one rule for the chain and the facilitator.

Anything that can reach a local port can be a hostile web page, so an admin request must:
- carry `Content-Type: application/json` when it has a body (a cross-site form or text/plain
  POST, which browsers send without asking, is refused);
- carry no `Origin`, or the service's own origin, or one given with `--allow-origin` (a page
  elsewhere that got past CORS is refused; browsers always send Origin on a POST);
- name a loopback host or the bound host in `Host` (a DNS-rebinding page names its own);
- present the admin token (`Authorization: Bearer TOKEN`; `X-Admin-Token: TOKEN` too), except
  from a loopback caller when the service does not `--require-admin-token`.
A wrong token is always refused. Beyond loopback the token is always required.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field

__all__ = ["AdminGuard", "Refusal", "admin_headers", "is_loopback"]

_LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def is_loopback(address: str | None) -> bool:
    if not address:
        return False
    return (
        address.startswith("127.")
        or address in ("::1", "localhost")
        or address.startswith("::ffff:127.")
    )


@dataclass(frozen=True)
class Refusal:
    """Why an admin request was refused: an HTTP status and a message saying what to do."""

    status: int
    message: str


def _host_name(authority: str) -> str:
    """`host:port` or `[v6]:port` -> host (lowercase, brackets kept for v6)."""
    authority = authority.strip().lower()
    if authority.startswith("["):
        return authority.split("]", 1)[0] + "]"
    return authority.rsplit(":", 1)[0] if authority.count(":") == 1 else authority


@dataclass(frozen=True)
class AdminGuard:
    """The admin rule of one service listening on `host:port`."""

    port: int
    host: str = "127.0.0.1"
    token: str | None = None
    require_token: bool = False
    allowed_origins: tuple[str, ...] = ()
    _origins: frozenset[str] = field(init=False, repr=False, compare=False)
    _hosts: frozenset[str] = field(init=False, repr=False, compare=False)
    _expected: bytes | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        bound = self.host.lower()
        names = set(_LOOPBACK_NAMES)
        if bound not in ("0.0.0.0", "::", ""):
            names.add(f"[{bound}]" if ":" in bound and not bound.startswith("[") else bound)
        origins = {f"http://{name}:{self.port}" for name in names}
        origins |= {origin.rstrip("/").lower() for origin in self.allowed_origins}
        hosts = names | {_host_name(origin.split("://", 1)[-1]) for origin in origins}
        object.__setattr__(self, "_origins", frozenset(origins))
        object.__setattr__(self, "_hosts", frozenset(hosts))
        object.__setattr__(self, "_expected", self.token.encode() if self.token else None)

    def check(
        self,
        headers: dict[bytes, bytes],
        client_host: str | None,
        *,
        has_body: bool,
    ) -> Refusal | None:
        """None when the request may go on; headers are keyed by lowercase name."""
        if has_body:
            media = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
            if media != b"application/json":
                return Refusal(
                    415,
                    "admin requests must be sent as Content-Type: application/json "
                    f"(got {media.decode('latin-1') or 'none'})",
                )
        origin = headers.get(b"origin")
        if origin is not None:
            text = origin.decode("latin-1").rstrip("/").lower()
            if text not in self._origins:
                return Refusal(
                    403,
                    f"admin requests from the web page at Origin {text!r} are refused; "
                    "only this service's own origin (or one given with --allow-origin) may send "
                    "them",
                )
        given = _presented_token(headers)
        if given is not None:
            if self._expected is not None and hmac.compare_digest(given, self._expected):
                return None
            if self._expected is None:
                return Refusal(401, "this service has no admin token; do not send one")
            return Refusal(401, "wrong admin token (see X402_SANDBOX_ADMIN_TOKEN in stack.env)")
        if not is_loopback(client_host):
            if self._expected is None:
                return Refusal(
                    403,
                    "admin requests from beyond loopback need an admin token; "
                    "start the service with --admin-token TOKEN",
                )
            return Refusal(401, "send the admin token: Authorization: Bearer TOKEN")
        if self.require_token and self._expected is not None:
            return Refusal(
                401,
                "this service requires the admin token even from loopback: send "
                "Authorization: Bearer TOKEN (X402_SANDBOX_ADMIN_TOKEN in stack.env)",
            )
        host = headers.get(b"host")
        if host is not None and _host_name(host.decode("latin-1")) not in self._hosts:
            return Refusal(
                403,
                f"admin requests naming Host {host.decode('latin-1')!r} are refused without "
                "the admin token (a DNS-rebinding page names its own host)",
            )
        return None


def admin_headers(admin_token: str | None) -> dict[str, str]:
    """What every client of ours sends with an admin request or cheat code."""
    headers = {"Content-Type": "application/json"}
    if admin_token:
        headers["Authorization"] = f"Bearer {admin_token}"
    return headers


def _presented_token(headers: dict[bytes, bytes]) -> bytes | None:
    auth = headers.get(b"authorization")
    if auth is not None and auth[:7].lower() == b"bearer ":
        return auth[7:].strip()
    token = headers.get(b"x-admin-token")
    return token.strip() if token is not None else None
