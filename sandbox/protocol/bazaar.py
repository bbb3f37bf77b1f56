"""The `bazaar` extension (specs/extensions/bazaar.md): a resource server says how its route is
called and what it answers, so that a facilitator can catalogue it for discovery.

    402        extensions["bazaar"] = {"info": {"input": {...}, "output": {...}}, "schema": {...}}
               resource.serviceName, resource.tags (provider metadata beside url/description)
    payment    the client echoes extensions["bazaar"] and the resource (spec: "Client Behavior")
    answer     the facilitator's EXTENSION-RESPONSES header: base64 JSON
               {"bazaar": {"status": "success" | "processing" | "rejected", "rejectedReason"}}

`info.input` is the spec's discriminated union: `{type: "http", method, queryParams?}` for
GET/HEAD/DELETE, `{type: "http", method, bodyType, body}` for POST/PUT/PATCH, `{type: "mcp",
tool, inputSchema}`. A facilitator MUST validate `info` against `schema` before cataloguing
(`validated_info`), and soft-drops provider metadata that breaks the spec's rules
(`service_metadata`): the client echoes the resource, so it is untrusted input.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections import OrderedDict
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson

__all__ = [
    "EXTENSION",
    "EXTENSION_RESPONSES",
    "declaration",
    "decode_extension_responses",
    "encode_extension_responses",
    "service_metadata",
    "valid_route_template",
    "validated_info",
]

EXTENSION = "bazaar"
EXTENSION_RESPONSES = "EXTENSION-RESPONSES"  # facilitator -> resource server, never the buyer

QUERY_METHODS = ("GET", "HEAD", "DELETE")
BODY_METHODS = ("POST", "PUT", "PATCH")
BODY_TYPES = ("json", "form-data", "text")
_DRAFT = "https://json-schema.org/draft/2020-12/schema"
_OUTPUT_SCHEMA = {
    "type": "object",
    "properties": {"type": {"type": "string"}, "example": {}},
    "required": ["type"],
}


def declaration(
    method: str,
    *,
    query_params: dict[str, Any] | None = None,
    query_example: dict[str, Any] | None = None,
    body_type: str = "json",
    body_schema: dict[str, Any] | None = None,
    body_example: Any = None,
    output_example: Any = None,
    output_type: str = "json",
) -> dict[str, Any]:
    """What a 402 puts under extensions["bazaar"] for an HTTP route.

    query_params: JSON Schema of each query parameter (all required); body_schema: of the body
    (POST/PUT/PATCH); the examples are what the spec's `info` carries."""
    method = method.upper()
    if method in QUERY_METHODS:
        inputs: dict[str, Any] = {"type": "http", "method": method}
        if query_example:
            inputs["queryParams"] = query_example
        input_schema: dict[str, Any] = {
            "type": {"type": "string", "const": "http"},
            "method": {"type": "string", "enum": list(QUERY_METHODS)},
        }
        if query_params:
            input_schema["queryParams"] = {
                "type": "object",
                "properties": query_params,
                "required": sorted(query_params),
            }
        required = ["type", "method"]
    elif method in BODY_METHODS:
        if body_type not in BODY_TYPES:
            raise ValueError(f"body_type must be one of {', '.join(BODY_TYPES)}, not {body_type}")
        inputs = {
            "type": "http",
            "method": method,
            "bodyType": body_type,
            "body": {} if body_example is None else body_example,
        }
        input_schema = {
            "type": {"type": "string", "const": "http"},
            "method": {"type": "string", "enum": list(BODY_METHODS)},
            "bodyType": {"type": "string", "enum": list(BODY_TYPES)},
            "body": body_schema or {},
        }
        required = ["type", "method", "bodyType", "body"]
    else:
        raise ValueError(f"no bazaar input shape for HTTP method {method}")
    info: dict[str, Any] = {"input": inputs, "output": {"type": output_type}}
    if output_example is not None:
        info["output"]["example"] = output_example
    schema = {
        "$schema": _DRAFT,
        "type": "object",
        "properties": {
            "input": {
                "type": "object",
                "properties": input_schema,
                "required": required,
                "additionalProperties": False,
            },
            "output": _OUTPUT_SCHEMA,
        },
        "required": ["input"],
    }
    return {"info": info, "schema": schema}


# ---------------------------------------------------------------------- the facilitator's side

_VALIDATED: OrderedDict[bytes, tuple[dict | None, str | None]] = OrderedDict()
_VALIDATED_MAX = 512  # one entry per distinct declaration: a server's routes, not its payments
MAX_DECLARATION_BYTES = 16_384  # what one catalogue entry may cost (the catalogue is bounded)


def validated_info(entry: Any) -> tuple[dict[str, Any] | None, str | None]:
    """(info, None) when extensions["bazaar"] is a declaration whose `info` its `schema`
    accepts and whose input is one the spec knows; (None, why) otherwise."""
    try:
        key = orjson.dumps(entry, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None, "extensions.bazaar is not JSON"
    if len(key) > MAX_DECLARATION_BYTES:
        return None, f"extensions.bazaar is larger than {MAX_DECLARATION_BYTES} bytes of JSON"
    cached = _VALIDATED.get(key)
    if cached is None:
        cached = _validate(entry)
        _VALIDATED[key] = cached
        if len(_VALIDATED) > _VALIDATED_MAX:
            _VALIDATED.popitem(last=False)
    else:
        _VALIDATED.move_to_end(key)
    return cached


def _validate(entry: Any) -> tuple[dict | None, str | None]:
    # jsonschema is imported here: only a facilitator cataloguing needs it.
    import jsonschema
    from jsonschema.exceptions import best_match

    if not isinstance(entry, dict):
        return None, "extensions.bazaar must be an object"
    info, schema = entry.get("info"), entry.get("schema")
    if not isinstance(info, dict):
        return None, "extensions.bazaar.info must be an object"
    if not isinstance(schema, dict):
        return None, "extensions.bazaar.schema must be a JSON Schema object"
    shape = _input_shape_problem(info.get("input"))
    if shape is not None:
        return None, shape
    if _has_pattern(schema):
        # A payer's regular expression would run on the facilitator's event loop: one written
        # to backtrack (^(a+)+$ against "aaa...!") stalls every settlement for hours.
        return None, "extensions.bazaar.schema may not use pattern or patternProperties"
    try:
        validator = jsonschema.Draft202012Validator(schema)
        validator.check_schema(schema)
        error = best_match(validator.iter_errors(info))
    except jsonschema.SchemaError as exc:
        return None, f"extensions.bazaar.schema is not a valid JSON Schema: {exc.message}"
    except Exception as exc:  # an unresolvable $ref and the like: the schema's fault
        return None, f"extensions.bazaar.schema cannot be applied: {type(exc).__name__}"
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(root)"
        return None, f"info failed schema validation at {where}: {error.message[:200]}"
    return info, None


def _has_pattern(schema: Any, depth: int = 0) -> bool:
    if depth > 64:  # deeper than any JSON the body limit lets through: refuse rather than recurse
        return True
    if isinstance(schema, dict):
        if "pattern" in schema or "patternProperties" in schema:
            return True
        return any(_has_pattern(value, depth + 1) for value in schema.values())
    if isinstance(schema, list):
        return any(_has_pattern(value, depth + 1) for value in schema)
    return False


def _input_shape_problem(inputs: Any) -> str | None:
    """The spec's own rules for info.input, checked whatever the declared schema allows."""
    if not isinstance(inputs, dict):
        return "extensions.bazaar.info.input must be an object"
    kind = inputs.get("type")
    if kind == "http":
        method = inputs.get("method")
        if method not in QUERY_METHODS + BODY_METHODS:
            return f"info.input.method must be an HTTP method of the spec, got {method!r:.40}"
        if method in BODY_METHODS and inputs.get("bodyType") not in BODY_TYPES:
            return "info.input.bodyType must be json, form-data or text for a body method"
        return None
    if kind == "mcp":
        tool = inputs.get("tool")
        if not isinstance(tool, str) or not 0 < len(tool) <= 128 or not tool.isprintable():
            return "info.input.tool must name the MCP tool (at most 128 printable characters)"
        if not isinstance(inputs.get("inputSchema"), dict):
            return "info.input.inputSchema must be an object"
        return None
    return f'info.input.type must be "http" or "mcp", got {kind!r:.40}'


_ROUTE_TEMPLATE = re.compile(r"^/[a-zA-Z0-9_/:.\-~%]+$")


def valid_route_template(value: Any) -> bool:
    """The spec's routeTemplate rule: a safe path of :param segments, no '..', no '://'
    (checked after percent-decoding)."""
    if not isinstance(value, str) or not _ROUTE_TEMPLATE.match(value):
        return False
    decoded = unquote(value)
    return ".." not in decoded and "://" not in decoded


def _printable_ascii(value: Any, limit: int = 32) -> bool:
    return (
        isinstance(value, str) and 0 < len(value) <= limit and all(" " <= ch <= "~" for ch in value)
    )


_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


def _valid_icon_url(value: Any) -> bool:
    if not isinstance(value, str) or len(value) > 2048 or not value.isprintable():
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or "@" in parts.netloc or not parts.hostname:
        return False
    host = unquote(parts.hostname).rstrip(".")
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return False
    if host in _LOOPBACK_NAMES or host.isdigit() or re.fullmatch(r"0x[0-9a-f]+", host):
        return False
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return True
    return False


def service_metadata(resource: Any) -> dict[str, Any]:
    """serviceName, tags and iconUrl of a resource object, each kept only if it meets the
    spec's soft-drop rules (tags: the first five valid ones, deduplicated ignoring case)."""
    if not isinstance(resource, dict):
        return {}
    out: dict[str, Any] = {}
    if _printable_ascii(resource.get("serviceName")):
        out["serviceName"] = resource["serviceName"]
    tags = resource.get("tags")
    if isinstance(tags, list):
        kept: list[str] = []
        seen: set[str] = set()
        for tag in tags:
            if _printable_ascii(tag) and tag.lower() not in seen:
                seen.add(tag.lower())
                kept.append(tag)
            if len(kept) == 5:
                break
        if kept:
            out["tags"] = kept
    if _valid_icon_url(resource.get("iconUrl")):
        out["iconUrl"] = resource["iconUrl"]
    return out


# ---------------------------------------------------------------------- EXTENSION-RESPONSES


def encode_extension_responses(responses: dict[str, Any]) -> str:
    """The header value: base64 of the JSON object keyed by extension name."""
    return base64.b64encode(orjson.dumps(responses)).decode("ascii")


def decode_extension_responses(value: str | bytes) -> dict[str, Any] | None:
    """The header's object, None when it is not base64 JSON of an object."""
    try:
        decoded = orjson.loads(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        return None
    return decoded if isinstance(decoded, dict) else None
