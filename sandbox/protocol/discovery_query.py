"""Listing discovered resources: `GET /discovery/resources` and `GET /discovery/search`, the
query both take and the page both answer (x402 v2 specification section 8, "Discovery API").

    ?type=http&payTo=...&scheme=exact&network=solana:...&extensions=bazaar&limit=20&offset=0
    -> {"x402Version": 2, "items": [...], "pagination": {"limit", "offset", "total"}}

An item is the spec's discovered resource: `resource` (the URL), `type`, `x402Version`,
`accepts`, `lastUpdated` (unix seconds) and `metadata` (description, mimeType and the bazaar
provider fields), here also `extensions` (the names of the extensions its payments declared,
what the `extensions` filter reads) and `discoveryInfo` (the bazaar `info`). A bad value is a
DiscoveryQueryError naming the parameter (a 400), never a silent default.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "DiscoveryQuery",
    "DiscoveryQueryError",
    "page",
    "parse_query",
    "query_error_body",
]

DEFAULT_LIMIT = 20
MAX_LIMIT = 100  # the spec's range is 1-100
MAX_SEARCH_CHARS = 200
MAX_SEARCH_WORDS = 8
_FILTERS = ("type", "payTo", "scheme", "network", "extensions")


class DiscoveryQueryError(ValueError):
    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message


def query_error_body(exc: DiscoveryQueryError) -> dict[str, Any]:
    return {"error": "invalid_query_parameter", "parameter": exc.parameter, "message": exc.message}


@dataclass(frozen=True, slots=True)
class DiscoveryQuery:
    type: str | None = None
    pay_to: str | None = None
    scheme: str | None = None
    network: str | None = None
    extensions: tuple[str, ...] = ()
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    words: tuple[str, ...] = ()  # /discovery/search's `query`, lowered, split on spaces

    def matches(self, item: dict[str, Any]) -> bool:
        if self.type is not None and item.get("type") != self.type:
            return False
        accepts = [a for a in item.get("accepts") or () if isinstance(a, dict)]
        for field, wanted in (
            ("payTo", self.pay_to),
            ("scheme", self.scheme),
            ("network", self.network),
        ):
            if wanted is not None and not any(a.get(field) == wanted for a in accepts):
                return False
        declared = set(item.get("extensions") or ())
        if not declared.issuperset(self.extensions):
            return False
        if not self.words:
            return True
        text = _searchable(item)  # once per item, not once per word
        return all(word in text for word in self.words)


def _searchable(item: dict[str, Any]) -> str:
    """What a search reads: the resource URL, its description, service name and tags."""
    metadata = item.get("metadata") or {}
    parts = [item.get("resource"), metadata.get("description"), metadata.get("serviceName")]
    parts.extend(metadata.get("tags") or ())
    return " ".join(str(p) for p in parts if p).lower()


def _single(values: dict[str, list[str]], name: str) -> str | None:
    given = values.get(name)
    if not given:
        return None
    if len(given) > 1:
        raise DiscoveryQueryError(name, f"query parameter '{name}' is given {len(given)} times")
    value = given[0]
    if not value.strip():
        raise DiscoveryQueryError(name, f"query parameter '{name}' is empty")
    if len(value) > 256:
        raise DiscoveryQueryError(name, f"query parameter '{name}' is longer than 256 characters")
    return value


def _integer(values: dict[str, list[str]], name: str, default: int, low: int, high: int) -> int:
    raw = _single(values, name)
    if raw is None:
        return default
    # isascii: "²".isdigit() is True, and int("²") raises
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        bound = f"from {low} to {high}" if high < 10**9 else f"of at least {low}"
        raise DiscoveryQueryError(
            name, f"query parameter '{name}' must be an integer {bound}, got {raw[:40]!r}"
        )
    return int(raw)


def parse_query(query_string: bytes | str, *, search: bool = False) -> DiscoveryQuery:
    """The query of a listing (search=True: of /discovery/search, whose `query` is required);
    DiscoveryQueryError naming the first bad parameter."""
    if isinstance(query_string, bytes):
        query_string = query_string.decode("latin-1")
    values = parse_qs(query_string, keep_blank_values=True)
    filters = {name: _single(values, name) for name in _FILTERS}
    extensions = tuple(
        name.strip() for name in (filters["extensions"] or "").split(",") if name.strip()
    )
    words: tuple[str, ...] = ()
    if search:
        text = _single(values, "query")
        if text is None:
            raise DiscoveryQueryError(
                "query", "query parameter 'query' (the text to find) is required"
            )
        if len(text) > MAX_SEARCH_CHARS:
            raise DiscoveryQueryError(
                "query", f"query parameter 'query' is longer than {MAX_SEARCH_CHARS} characters"
            )
        # Each word is a scan of every item: a few distinct ones are what a search needs.
        words = tuple(dict.fromkeys(text.lower().split()))
        if len(words) > MAX_SEARCH_WORDS:
            raise DiscoveryQueryError(
                "query", f"query parameter 'query' has more than {MAX_SEARCH_WORDS} words"
            )
    return DiscoveryQuery(
        type=filters["type"],
        pay_to=filters["payTo"],
        scheme=filters["scheme"],
        network=filters["network"],
        extensions=extensions,
        limit=_integer(values, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        offset=_integer(values, "offset", 0, 0, 10**12),
        words=words,
    )


def page(items: Iterable[dict[str, Any]], query: DiscoveryQuery) -> dict[str, Any]:
    """The answer: the items the query selects, one page of them, and how many there are."""
    selected = [item for item in items if query.matches(item)]
    window = selected[query.offset : query.offset + query.limit]
    return {
        "x402Version": 2,
        "items": window,
        "pagination": {"limit": query.limit, "offset": query.offset, "total": len(selected)},
    }
