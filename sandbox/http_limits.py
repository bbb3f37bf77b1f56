"""Limits every HTTP server of ours keeps, whoever connects: header size, header time, open files.

uvicorn's httptools protocol has neither a header size limit nor a timeout for a connection that
never finishes its headers, so a few slow or huge requests can hold every worker's memory or
file descriptors. `LimitedHttpToolsProtocol` adds both; the chain's own HTTP server applies the
same constants.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = [
    "HEADER_TIMEOUT",
    "MAX_HEADER_BYTES",
    "LimitedHttpToolsProtocol",
    "add_header_timeout_flag",
    "header_timeout_default",
    "limited_protocol",
    "plain_response",
    "raise_open_file_limit",
]

MAX_HEADER_BYTES = 64 * 1024  # request line and headers; an x402 payment header is ~2 KB
HEADER_TIMEOUT = 10.0  # seconds from the first byte (or the connection) to the end of headers


def header_timeout_default() -> float:
    """`--header-timeout`'s default: X402_SANDBOX_HEADER_TIMEOUT, else HEADER_TIMEOUT."""
    try:
        return float(os.environ.get("X402_SANDBOX_HEADER_TIMEOUT", HEADER_TIMEOUT))
    except ValueError:
        return HEADER_TIMEOUT


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} must be more than 0 seconds")
    return value


def add_header_timeout_flag(parser: argparse.ArgumentParser) -> None:
    """`--header-timeout SECONDS`, the same on every server of ours."""
    parser.add_argument(
        "--header-timeout",
        type=_seconds,
        default=header_timeout_default(),
        metavar="SECONDS",
        help="close a connection whose request headers are not complete in time "
        "(default %(default)s; X402_SANDBOX_HEADER_TIMEOUT)",
    )


def raise_open_file_limit() -> int:
    """Lift the soft limit on open files to the hard one (idle sockets cost a descriptor each)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            return hard
        except (ValueError, OSError):
            pass
    return soft


def plain_response(status: int, reason: str, message: str) -> bytes:
    body = message.encode()
    return (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode() + body


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing headers over `max_header_bytes` (431) and
    closing a connection whose headers are not complete within `header_timeout` (408)."""

    header_timeout = HEADER_TIMEOUT
    max_header_bytes = MAX_HEADER_BYTES

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._in_head = True
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
            if self._head_timer is None:
                self._arm_head_timer()
        super().data_received(data)
        if self._in_head and self._head_bytes > self.max_header_bytes:
            self._refuse(
                431,
                "Request Header Fields Too Large",
                f"request line and headers must fit in {self.max_header_bytes} bytes",
            )

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        self._cancel_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True  # the next request's clock starts at its first byte
        self._head_bytes = 0

    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self._in_head or self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self._arm_head_timer()  # a pipelined request waits for the answer before it
            return
        if self._head_bytes:
            self._refuse(
                408, "Request Timeout", f"request headers not complete in {self.header_timeout:g} s"
            )
        else:
            self.transport.close()  # connected and silent

    def _refuse(self, status: int, reason: str, message: str) -> None:
        self._cancel_head_timer()
        if not self.transport.is_closing():
            self.transport.write(plain_response(status, reason, message))
            self.transport.close()


def limited_protocol(header_timeout: float) -> type[LimitedHttpToolsProtocol]:
    """The protocol class for `uvicorn.Config(http=...)` with this header timeout."""
    return type(
        "LimitedHttpToolsProtocol",
        (LimitedHttpToolsProtocol,),
        {"header_timeout": header_timeout},
    )
