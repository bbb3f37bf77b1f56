"""Errors the payer raises at its public edges.

PayerError                      base of everything below
 ├── KeypairError               keypair file missing or not a Solana CLI keypair
 ├── PaymentBuildError          requirements the payer cannot turn into a transaction
 │                              (no extra.feePayer, bad address, memo too long, ...); also a
 │                              sandbox.protocol BuildError, which the exact-SVM client raises
 │                              and `payer_errors` translates at the payer's edge
 ├── RpcError                   the chain's JSON-RPC answered with an error
 │    └── RpcUnreachable        no answer at all (connection refused, timeout, not JSON-RPC)
 ├── MintError                  the asset is not a token mint on this chain
 ├── ChallengeError             a 402 the client cannot read (wraps ProtocolError)
 ├── NoAcceptablePayment        no offered requirement passes the payment policy
 └── ServerUnreachable          the paid URL does not answer
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from sandbox.protocol.errors import BuildError

P = ParamSpec("P")
R = TypeVar("R")


class PayerError(Exception):
    """Base class: every error the payer raises on purpose."""


class KeypairError(PayerError, ValueError):
    pass


class PaymentBuildError(PayerError, BuildError):
    pass


def payer_errors(function: Callable[P, R]) -> Callable[P, R]:
    """`function` (from sandbox.protocol.exact_svm.client) raising PaymentBuildError where it
    raises the protocol's BuildError: the one seam where that error is translated."""

    @functools.wraps(function)
    def translated(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except PaymentBuildError:
            raise
        except BuildError as exc:
            raise PaymentBuildError(*exc.args) from None

    return translated


class RpcError(PayerError):
    def __init__(self, method: str, message: str, code: int | None = None, data: Any = None):
        super().__init__(f"RPC {method} failed: {message}" + (f" (code {code})" if code else ""))
        self.method = method
        self.code = code
        self.data = data


class RpcUnreachable(RpcError):
    def __init__(self, url: str, method: str, cause: str):
        super().__init__(method, f"cannot reach the chain's JSON-RPC at {url}: {cause}")
        self.url = url


class MintError(PayerError, ValueError):
    pass


class ChallengeError(PayerError, ValueError):
    pass


class NoAcceptablePayment(PayerError):
    """`rejections` pairs each offered requirement with why the policy refused it."""

    def __init__(self, message: str, rejections: list[tuple[Any, str]] | None = None):
        super().__init__(message)
        self.rejections = rejections or []


class ServerUnreachable(PayerError):
    def __init__(self, url: str, cause: str):
        super().__init__(f"cannot reach {url}: {cause}")
        self.url = url
