"""The bazaar extension's wire rules (sandbox/protocol/bazaar.py): the declaration a route makes
validates against its own schema; a facilitator refuses, naming why, what the spec does not
allow; provider metadata is soft-dropped field by field; EXTENSION-RESPONSES round-trips."""

from __future__ import annotations

import copy

import pytest

from sandbox.protocol.bazaar import (
    declaration,
    decode_extension_responses,
    encode_extension_responses,
    service_metadata,
    valid_route_template,
    validated_info,
)
from sandbox.protocol.discovery_query import DiscoveryQueryError, page, parse_query


def test_a_query_and_a_body_declaration_validate_against_their_schemas():
    query = declaration(
        "GET", query_params={"city": {"type": "string"}}, query_example={"city": "Oslo"}
    )
    body = declaration("POST", body_schema={"type": "object"}, body_example={"q": "x"})
    for entry in (query, body):
        info, why = validated_info(entry)
        assert why is None and info == entry["info"]
    assert query["schema"]["properties"]["input"]["properties"]["queryParams"]["required"] == [
        "city"
    ]
    with pytest.raises(ValueError, match="OPTIONS"):
        declaration("OPTIONS")


def _with(entry: dict, change) -> dict:
    changed = copy.deepcopy(entry)
    change(changed)
    return changed


GET = declaration("GET", query_params={"n": {"type": "integer"}}, query_example={"n": 1})


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        ("text", "must be an object"),
        ({"info": {"input": {"type": "http", "method": "GET"}}}, "schema must be a JSON Schema"),
        (_with(GET, lambda e: e["info"]["input"].update(type="ftp")), 'must be "http" or "mcp"'),
        (_with(GET, lambda e: e["info"]["input"].update(method="TRACE")), "HTTP method"),
        (_with(GET, lambda e: e["info"]["input"].update(queryParams={"n": "one"})),
         "info failed schema validation at input/queryParams/n"),
        (_with(GET, lambda e: e["schema"].update(type=12)), "not a valid JSON Schema"),
        (_with(GET, lambda e: e["info"].update(pad="x" * 20_000)), "larger than 16384 bytes"),
        ({"info": {"input": {"type": "mcp", "tool": ""}}, "schema": {}}, "name the MCP tool"),
        # a payer's regular expression would run on the facilitator: ^(a+)+$ backtracks for
        # hours on "aaa...a!"
        (_with(GET, lambda e: e["schema"]["properties"]["input"]["properties"]["queryParams"]
               ["properties"]["n"].update(type="string", pattern="^(a+)+$")), "pattern"),
        (_with(GET, lambda e: e["schema"].update(patternProperties={"x": {}})), "pattern"),
    ],
)  # fmt: skip
def test_a_declaration_the_spec_does_not_allow_is_refused_naming_why(entry, why):
    info, reason = validated_info(entry)
    assert info is None and why in reason


def test_an_mcp_tool_is_catalogued_by_its_own_shape():
    entry = {"info": {"input": {"type": "mcp", "tool": "analyse", "inputSchema": {}}},
             "schema": {"type": "object", "required": ["input"]}}  # fmt: skip
    assert validated_info(entry) == (entry["info"], None)


def test_provider_metadata_is_soft_dropped_field_by_field():
    assert service_metadata({
        "serviceName": "Weather Co",
        "tags": ["weather", "Weather", "", "x" * 33, "a", "b", "c", "d", "e"],
        "iconUrl": "https://cdn.example/icon.png",
    }) == {"serviceName": "Weather Co", "tags": ["weather", "a", "b", "c", "d"],
           "iconUrl": "https://cdn.example/icon.png"}  # fmt: skip
    assert service_metadata({"serviceName": "x" * 33, "tags": "weather"}) == {}
    assert service_metadata({"serviceName": "caf\u00e9"}) == {}
    for icon in (
        "http://127.0.0.1/i.png",
        "http://[::1]/i.png",
        "http://localhost/i.png",
        "http://2130706433/i.png",
        "http://0x7f000001/i.png",
        "https://user@cdn.example/i.png",
        "data:image/png;base64,AAAA",
        "http://%6c%6f%63%61%6c%68%6f%73%74/i.png",
    ):
        assert service_metadata({"iconUrl": icon}) == {}, icon
    assert service_metadata("not an object") == {}


def test_route_templates_follow_the_spec_rule():
    assert valid_route_template("/users/:userId")
    for bad in ("", "users/:id", "/a/../b", "/a/%2e%2e/b", "/x?y=1", None, "/http://evil"):
        assert not valid_route_template(bad), bad


def test_extension_responses_round_trip_and_garbage_is_none():
    value = encode_extension_responses({"bazaar": {"status": "success"}})
    assert value == "eyJiYXphYXIiOnsic3RhdHVzIjoic3VjY2VzcyJ9fQ=="  # the spec's own example
    assert decode_extension_responses(value) == {"bazaar": {"status": "success"}}
    for garbage in ("not base64!", "WzFd", ""):
        assert decode_extension_responses(garbage) is None


def test_a_listing_pages_after_filtering():
    items = [{"resource": f"http://h/{i}", "type": "http", "accepts": [{"scheme": "exact"}],
              "extensions": ["bazaar"], "metadata": {"tags": ["t"]}} for i in range(5)]  # fmt: skip
    answer = page(items, parse_query(b"limit=2&offset=3&scheme=exact&extensions=bazaar"))
    assert [i["resource"] for i in answer["items"]] == ["http://h/3", "http://h/4"]
    assert answer["pagination"] == {"limit": 2, "offset": 3, "total": 5}
    assert page(items, parse_query("query=T", search=True))["pagination"]["total"] == 5
    with pytest.raises(DiscoveryQueryError) as refused:
        parse_query("limit=1.5")
    assert refused.value.parameter == "limit"


@pytest.mark.parametrize("raw", ["limit=%C2%B2", "offset=%C2%B2", "limit=%D9%A3"])
def test_a_unicode_digit_is_refused_not_a_crash(raw):
    # "²".isdigit() is True and int("²") raises: it was a 500 with a traceback
    with pytest.raises(DiscoveryQueryError) as refused:
        parse_query(raw)
    assert refused.value.parameter == raw.split("=")[0]


def test_a_search_reads_each_item_once_and_takes_a_few_words():
    assert parse_query("query=a+b+a+b", search=True).words == ("a", "b")
    with pytest.raises(DiscoveryQueryError, match="more than 8 words"):
        parse_query("query=" + "+".join(f"w{i}" for i in range(9)), search=True)
