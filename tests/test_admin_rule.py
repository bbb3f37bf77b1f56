"""The admin rule shared by the chain and the facilitator (sandbox/admin_guard.py), in-process."""

from __future__ import annotations

import pytest

from sandbox.admin_guard import AdminGuard, admin_headers

JSON = {b"content-type": b"application/json"}
LOCAL = "127.0.0.1"


def check(guard: AdminGuard, headers: dict[bytes, bytes], client: str = LOCAL, body=True):
    return guard.check(headers, client, has_body=body)


@pytest.mark.parametrize(
    "content_type", [b"text/plain", b"application/x-www-form-urlencoded", b"multipart/form-data"]
)
def test_what_a_page_sends_without_preflight_is_refused(content_type):
    refusal = check(AdminGuard(port=8899), {b"content-type": content_type})
    assert refusal is not None and refusal.status == 415
    assert "application/json" in refusal.message


def test_json_with_charset_and_bodiless_gets_pass():
    guard = AdminGuard(port=8899)
    assert check(guard, {b"content-type": b"Application/JSON; charset=utf-8"}) is None
    assert check(guard, {}, body=False) is None


@pytest.mark.parametrize("origin", [b"http://evil.example", b"null", b"http://127.0.0.1:9999"])
def test_foreign_origins_are_refused(origin):
    refusal = check(AdminGuard(port=8899), {**JSON, b"origin": origin})
    assert refusal is not None and refusal.status == 403


def test_own_and_allowed_origins_pass():
    guard = AdminGuard(port=8899, allowed_origins=("http://127.0.0.1:4020",))
    for origin in (b"http://127.0.0.1:8899", b"http://localhost:8899", b"http://127.0.0.1:4020"):
        assert check(guard, {**JSON, b"origin": origin}) is None, origin


def test_beyond_loopback_the_token_is_required():
    assert check(AdminGuard(port=8899), JSON, client="10.0.0.7").status == 403
    guard = AdminGuard(port=8899, host="0.0.0.0", token="tok")
    assert check(guard, JSON, client="10.0.0.7").status == 401
    assert check(guard, {**JSON, b"authorization": b"Bearer tok"}, client="10.0.0.7") is None
    assert check(guard, {**JSON, b"x-admin-token": b"tok"}, client="10.0.0.7") is None


def test_a_wrong_token_is_refused_everywhere():
    guard = AdminGuard(port=8899, token="tok")
    assert check(guard, {**JSON, b"authorization": b"Bearer nope"}).status == 401
    assert check(AdminGuard(port=8899), {**JSON, b"authorization": b"Bearer x"}).status == 401


def test_require_token_applies_to_loopback():
    guard = AdminGuard(port=8899, token="tok", require_token=True)
    assert check(guard, JSON).status == 401
    assert check(guard, admin_headers_bytes("tok")) is None


def test_a_rebinding_host_is_refused_without_the_token():
    guard = AdminGuard(port=8899, token="tok")
    assert check(guard, {**JSON, b"host": b"evil.example:8899"}).status == 403
    assert check(guard, {**JSON, b"host": b"localhost:8899"}) is None
    assert check(guard, {**JSON, b"host": b"[::1]:8899"}) is None
    assert check(guard, {**admin_headers_bytes("tok"), b"host": b"evil.example:8899"}) is None


def admin_headers_bytes(token: str) -> dict[bytes, bytes]:
    return {k.lower().encode(): v.encode() for k, v in admin_headers(token).items()}
