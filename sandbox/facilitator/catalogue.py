"""The facilitator's bazaar catalogue: the resources it has settled payments for,
when those payments declare the `bazaar` extension (specs/extensions/bazaar.md, "Facilitator
Behavior"), served by `GET /discovery/resources` and `GET /discovery/search`.

    record(request)   after a successful /settle: validate the echoed
                      declaration against its schema, catalogue the resource, and say so in the
                      EXTENSION-RESPONSES header: {"bazaar": {"status": "success"}}, or
                      "rejected" with the reason (the payment itself is unaffected)
    listing(query)    one page of the catalogue, filtered (protocol/discovery_query.py)

Only settled resources are catalogued (not a valid /verify, which costs nothing): a payment
that failed its checks or was never settled adds nothing, so nobody fills the catalogue without
paying into it; the description and media type it lists are cut to a bound length. An entry
is keyed by the resource URL without its query (the declaration's valid `routeTemplate` as its
path when there is one) and the HTTP method or MCP tool. The requirements listed are those the
payment was checked against, without the fields that belong to one request (`extra.memo`,
`extra.recentBlockhash`).

The entries are a SQLite file beside the ledger's (like the payment-id records): they survive
restarts. At most `max_entries` are kept (the least recently paid leave); an unchanged entry's
`lastUpdated` reaches the file at most once a minute, so a paid route does not cost a write per
payment.
"""

from __future__ import annotations

import sqlite3
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson

from sandbox.protocol import bazaar
from sandbox.protocol.discovery_query import (
    DiscoveryQueryError,
    page,
    parse_query,
    query_error_body,
)
from sandbox.sqlite_writer import GroupCommitWriter

__all__ = ["Catalogue"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS bazaar_resources (
    resource TEXT NOT NULL,
    operation TEXT NOT NULL,
    item BLOB NOT NULL,
    last_updated INTEGER NOT NULL,
    PRIMARY KEY (resource, operation)
);
"""
_UPSERT = (
    "INSERT INTO bazaar_resources VALUES (?, ?, ?, ?) ON CONFLICT (resource, operation) "
    "DO UPDATE SET item = excluded.item, last_updated = excluded.last_updated"
)
_DELETE = "DELETE FROM bazaar_resources WHERE resource = ? AND operation = ?"
_PER_REQUEST_EXTRA = ("memo", "recentBlockhash")  # bind one 402 to one request
_REFRESH_SECONDS = 60

_MAX_DESCRIPTION = 500  # characters listed of resource.description
_MAX_MIME_TYPE = 100


class Catalogue:
    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max(1, max_entries)
        # (resource, operation) -> item, least recently paid first
        self._items: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
        self._written: dict[tuple[str, str], int] = {}  # lastUpdated the file has
        self._writer: GroupCommitWriter | None = None

    def __len__(self) -> int:
        return len(self._items)

    # ------------------------------------------------------------ the file

    def open(self, path: Path) -> None:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(_SCHEMA)
        rows = db.execute(
            "SELECT resource, operation, item, last_updated FROM bazaar_resources "
            "ORDER BY last_updated DESC LIMIT ?",
            (self.max_entries,),
        ).fetchall()
        db.execute(
            "DELETE FROM bazaar_resources WHERE rowid NOT IN (SELECT rowid FROM "
            "bazaar_resources ORDER BY last_updated DESC LIMIT ?)",
            (self.max_entries,),
        )
        for resource, operation, item, last_updated in reversed(rows):
            self._items[(resource, operation)] = orjson.loads(item)
            self._written[(resource, operation)] = last_updated
        self._writer = GroupCommitWriter(db, name="bazaar-catalogue-writer")

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer.db.close()
            self._writer = None

    # ------------------------------------------------------------ cataloguing

    async def record(self, request) -> list[tuple[bytes, bytes]] | None:
        """The EXTENSION-RESPONSES header for a settled request, None when its payment declares
        no bazaar extension (v1 payments carry no extensions)."""
        if request.x402_version != 2:
            return None
        payload = request.payment_payload
        extensions = payload.extensions
        if not isinstance(extensions, dict) or bazaar.EXTENSION not in extensions:
            return None
        entry = extensions[bazaar.EXTENSION]
        result = await self._catalogue(request, entry, sorted(extensions))
        value = bazaar.encode_extension_responses({bazaar.EXTENSION: result})
        return [(b"content-type", b"application/json"), (b"extension-responses", value.encode())]

    async def _catalogue(self, request, entry: Any, declared: list[str]) -> dict[str, str]:
        info, why = bazaar.validated_info(entry)
        if info is None:
            return {"status": "rejected", "rejectedReason": why or "invalid declaration"}
        payload = request.payment_payload
        resource = payload.resource.to_wire() if payload.resource is not None else {}
        url = _catalogue_url(resource.get("url"), entry.get("routeTemplate"))
        if url is None:
            return {
                "status": "rejected",
                "rejectedReason": "the payment's resource.url is not an absolute http(s) URL",
            }
        inputs = info["input"]
        operation = inputs.get("method") if inputs["type"] == "http" else f"mcp:{inputs['tool']}"
        accepted = request.payment_requirements.to_wire()
        extra = {k: v for k, v in (accepted.get("extra") or {}).items()
                 if k not in _PER_REQUEST_EXTRA}  # fmt: skip
        accepted["extra"] = extra
        metadata = {
            k: resource[k][:limit]
            for k, limit in (("description", _MAX_DESCRIPTION), ("mimeType", _MAX_MIME_TYPE))
            if isinstance(resource.get(k), str)
        }
        metadata.update(bazaar.service_metadata(resource))
        item: dict[str, Any] = {
            "resource": url,
            "type": inputs["type"],
            "x402Version": 2,
            "accepts": [accepted],
            "lastUpdated": int(time.time()),
            "metadata": metadata,
            "extensions": declared,
            "discoveryInfo": info,
        }
        if bazaar.valid_route_template(entry.get("routeTemplate")):
            item["routeTemplate"] = entry["routeTemplate"]
        await self._put((url, str(operation)), item)
        return {"status": "success"}

    async def _put(self, key: tuple[str, str], item: dict[str, Any]) -> None:
        previous = self._items.pop(key, None)
        self._items[key] = item
        evicted = []
        while len(self._items) > self.max_entries:
            evicted.append(self._items.popitem(last=False)[0])
        if self._writer is None:
            return
        for old in evicted:
            self._written.pop(old, None)
            await self._writer.write(_DELETE, old)
        unchanged = previous is not None and _content(previous) == _content(item)
        if unchanged and item["lastUpdated"] - self._written.get(key, 0) < _REFRESH_SECONDS:
            return
        self._written[key] = item["lastUpdated"]
        await self._writer.write(_UPSERT, (*key, orjson.dumps(item), item["lastUpdated"]))

    # ------------------------------------------------------------ listing

    def listing(self, query_string: bytes, *, search: bool = False) -> tuple[int, dict]:
        """(status, body) of /discovery/resources (search: /discovery/search); 400 naming the
        parameter when the query is bad."""
        try:
            query = parse_query(query_string, search=search)
        except DiscoveryQueryError as exc:
            return 400, query_error_body(exc)
        ordered = [self._items[key] for key in sorted(self._items)]  # stable pages
        return 200, page(ordered, query)


def _catalogue_url(url: Any, route_template: Any) -> str | None:
    """The URL an entry is filed under: scheme, host and path (the valid routeTemplate's for a
    dynamic route), without query or fragment; None when not an absolute http(s) URL."""
    if not isinstance(url, str) or len(url) > 2048:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc or not url.isprintable():
        return None
    path = route_template if bazaar.valid_route_template(route_template) else parts.path
    return urlunsplit((parts.scheme, parts.netloc, path or "/", "", ""))


def _content(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != "lastUpdated"}
