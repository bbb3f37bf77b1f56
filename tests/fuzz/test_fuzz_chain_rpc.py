"""Fuzz the chain's JSON-RPC: every method the dispatcher knows, cheat codes included, with
plausible and hostile params (wrong types, huge ints, deep nesting, long strings, bad base58 and
base64, broken envelopes, batches). No answer may be an HTTP 5xx or a JSON-RPC -32603.

Most inputs go to the Dispatcher in process (the same code the HTTP server calls, ~50x faster);
a share goes over HTTP to a real chain process. Hypothesis hands each example a seeded
`random.Random` (derandomized: the same inputs on every run) from which `Requests` builds a body:
drawing every leaf through strategies would cost more than the dispatch itself.

    .venv/bin/python -m pytest tests/fuzz/test_fuzz_chain_rpc.py
"""

from __future__ import annotations

import base64
import json
import random
import sys
from typing import Any

import httpx
import orjson
import pytest
from fuzz_tally import TALLIES, Tally
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction

from sandbox.chain.dispatcher import Dispatcher
from sandbox.chain.node import ChainNode
from sandbox.chain.settings import ChainSettings
from sandbox.chain.testing import start_chain
from sandbox.protocol.networks import USDC_DEVNET_MINT

IN_PROCESS_EXAMPLES = 20_000
HTTP_EXAMPLES = 4_000
MIN_REQUESTS = 10_000
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=list(HealthCheck),
)
RANDOMS = st.randoms(use_true_random=True)

CONFIG_KEYS = [
    "commitment", "encoding", "minContextSlot", "skipPreflight", "preflightCommitment",
    "maxRetries", "sigVerify", "replaceRecentBlockhash", "accounts", "dataSlice", "limit",
    "before", "until", "maxSupportedTransactionVersion", "innerInstructions", "mint",
    "programId", "enableReceivedNotification", "addresses", "offset", "length", "lamports",
    "data", "owner", "executable", "latencyMs", "dropRate", "lateConfirmMs", "errorRate", "",
    "filters", "transactionDetails", "rewards", "withContext", "dataSize", "memcmp", "bytes",
]  # fmt: skip
WORDS = [
    "", " ", "processed", "confirmed", "finalized", "recent", "max", "base64", "base58",
    "jsonParsed", "base64+zstd", "binary", "json", "legacy", "0", "-1", "1e309", "null", "NaN",
    "\x00", "\ufeff", "\u202e", "💸", "a\nb", "\\", '"', "../../etc/passwd", "/tmp/x402-fuzz",
    "snap", "snap-1", "x" * 65, "!!!", "0OIl", "1" * 44, "1" * 88, "A" * 1700, "=" * 8,
]  # fmt: skip
INTS = [0, 1, -1, 2, 150, 2**31, 2**32, 2**53, 2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63)]
HUGE = [10**20, 10**30, -(10**25), 2**128]
TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
NO_FAULTS = {"latencyMs": 0, "dropRate": 0, "lateConfirmMs": 0, "errorRate": 0}


class Requests:
    """Builds one hostile request body from a seeded Random."""

    def __init__(self, rng: random.Random, methods: list[str], pool: dict[str, list]) -> None:
        self.rng = rng
        self.methods = methods
        self.pool = pool

    def body(self) -> tuple[bytes, int]:
        """The body and how many JSON-RPC requests it carries."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.02:
            return bytes(rng.getrandbits(8) for _ in range(rng.randrange(64))), 1
        if roll < 0.25:
            batch = [self.request() for _ in range(rng.randint(1, 12))]
            return self.encode(batch), len(batch)
        return self.encode(self.request()), 1

    def encode(self, value: Any) -> bytes:
        text = json.dumps(value, ensure_ascii=self.rng.random() < 0.5)
        return text.encode("utf-8", "surrogatepass")

    def request(self) -> Any:
        rng = self.rng
        request: dict[str, Any] = {"jsonrpc": "2.0", "id": rng.randrange(10**6)}
        request["method"] = rng.choice(self.methods) if rng.random() < 0.93 else self.string()
        request["params"] = self.params(request["method"])
        roll = rng.random()
        if roll < 0.04:
            request["id"] = self.value(3)
        elif roll < 0.07:
            del request["id"]  # a notification
        elif roll < 0.09:
            request["jsonrpc"] = self.value(1)
        elif roll < 0.11:
            request["params"] = self.value(2)
        elif roll < 0.12:
            return self.value(3)
        return request

    def params(self, method: str) -> list:
        rng = self.rng
        count = rng.choice([0, 1, 1, 2, 2, 2, 3, 4])
        return [self.param(method, i) for i in range(count)]

    def param(self, method: str, position: int) -> Any:
        rng = self.rng
        roll = rng.random()
        if roll < 0.45:
            kind = rng.choice(list(self.pool))
            return rng.choice(self.pool[kind])
        if roll < 0.7:
            return self.config()
        if roll < 0.8:
            return [self.plausible() for _ in range(rng.randrange(6))]
        return self.value(rng.randint(0, 3))

    def plausible(self) -> Any:
        kind = self.rng.choice(list(self.pool))
        return self.rng.choice(self.pool[kind])

    def config(self) -> dict:
        rng = self.rng
        config = {}
        for _ in range(rng.randrange(5)):
            key = rng.choice(CONFIG_KEYS)
            config[key] = self.plausible() if rng.random() < 0.5 else self.value(2)
        return config

    def string(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.5:
            return rng.choice(WORDS)
        if roll < 0.7:
            alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0OIl+/="
            return "".join(
                rng.choice(alphabet) for _ in range(rng.choice([31, 32, 43, 44, 87, 88]))
            )
        if roll < 0.8:
            return rng.choice(WORDS) * rng.randrange(1, 2000)
        return "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randrange(40)))

    def value(self, depth: int) -> Any:
        rng = self.rng
        roll = rng.random()
        if roll < 0.03:
            return self.deep()
        if depth <= 0 or roll < 0.5:
            return rng.choice(
                [
                    None,
                    True,
                    False,
                    rng.choice(INTS),
                    rng.choice(HUGE),
                    rng.uniform(-1e12, 1e12),
                    rng.choice([0.5, -0.0, 1e300, -1e300, 1.5e-300]),
                    self.string(),
                    self.plausible(),
                ]
            )
        if roll < 0.75:
            return [self.value(depth - 1) for _ in range(rng.randrange(5))]
        return {self.string()[:20]: self.value(depth - 1) for _ in range(rng.randrange(5))}

    def deep(self) -> Any:
        rng = self.rng
        value: Any = rng.choice([1, "x", None, {}])
        for _ in range(rng.choice([20, 33, 100, 300, 1000, 1100])):
            value = [value] if rng.random() < 0.5 else {"a": value}
        return value


def _pool(node_or_chain_tx: dict[str, Any]) -> dict[str, list]:
    payer = Keypair()
    blockhash = node_or_chain_tx["blockhash"]
    transfer_ix = transfer(
        TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=1)
    )
    tx = Transaction(
        [payer], Message.new_with_blockhash([transfer_ix], payer.pubkey(), blockhash), blockhash
    )
    raw = bytes(tx)
    unsigned = b"\x00" + bytes(Message.new_with_blockhash([], payer.pubkey(), Hash.default()))
    return {
        "pubkey": [
            "11111111111111111111111111111111",
            USDC_DEVNET_MINT,
            TOKEN_PROGRAM,
            str(payer.pubkey()),
            *node_or_chain_tx["wallets"],
        ],
        "signature": [str(tx.signatures[0]), *node_or_chain_tx["signatures"], "1" * 64],
        "blockhash": [str(blockhash), str(Hash.default())],
        "transaction": [
            base64.b64encode(raw).decode(),
            base64.b64encode(unsigned).decode(),
            base64.b64encode(raw[:40]).decode(),
            "AAAA",
            "not base64!",
        ],
        "amount": [0, 1, 5_000_000, 10**9, 2**64 - 1, 2**64, -5],
        "commitment": [{"commitment": c} for c in ("processed", "confirmed", "finalized", "max")],
        "encoding": [{"encoding": e} for e in ("base64", "base58", "jsonParsed", "json", "x")],
        "filter": [
            {"mint": USDC_DEVNET_MINT},
            {"programId": "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"},
        ],
        "name": ["snap", "snap-1", "../snap", "/tmp/x402-fuzz-snap", ""],
        "slot": [0, 1, 2, 3, 5, 2**64 - 1, 2**64],
        "filters": [
            [{"dataSize": 165}],
            [{"memcmp": {"offset": 32, "bytes": node_or_chain_tx["wallets"][0]}}],
            [{"memcmp": {"offset": 0, "bytes": "AAAA", "encoding": "base64"}}, {"dataSize": 82}],
            [{"tokenAccountState": None}],
            [{"memcmp": {"offset": 2**64, "bytes": "1" * 200}}],
            [{}] * 5,
        ],
        "blockConfig": [
            {"transactionDetails": d, "maxSupportedTransactionVersion": 0, "rewards": r}
            for d in ("full", "accounts", "signatures", "none")
            for r in (True, False)
        ],
        "faults": [{"dropRate": 0.5}, {"latencyMs": 0}, {"errorRate": 2}, {"nope": 1}],
        "account": [{"lamports": 5, "data": "AAAA"}, {"owner": "x"}, {"executable": True}],
    }


def _internal_errors(answer: Any) -> list:
    items = answer if isinstance(answer, list) else [answer]
    return [
        item
        for item in items
        if isinstance(item, dict) and item.get("error", {}).get("code") == -32603
    ]


@pytest.fixture(scope="module")
def tally() -> Tally:
    return TALLIES.setdefault("chain JSON-RPC", Tally("chain JSON-RPC"))


@pytest.fixture(scope="module")
def in_process(tmp_path_factory):
    node = ChainNode(ChainSettings(slot_ms=0, state_dir=tmp_path_factory.mktemp("fuzz-chain")))
    dispatcher = Dispatcher(node)
    wallet = Keypair().pubkey()
    signature = node.twin.airdrop(wallet, 10**9).signature
    node.twin.mint_to(wallet, 5_000_000, Pubkey.from_string(USDC_DEVNET_MINT))
    seed = {
        "blockhash": node.producer.blockhash,
        "wallets": [str(wallet)],
        "signatures": [str(signature)],
    }
    return dispatcher, _pool(seed)


@pytest.fixture(scope="module")
def over_http(tmp_path_factory):
    with start_chain(slot_ms=0, state_dir=tmp_path_factory.mktemp("fuzz-http")) as chain:
        wallet = str(Keypair().pubkey())
        signature = chain.rpc("requestAirdrop", wallet, 10**9)
        chain.rpc("sandbox_mintTo", wallet, 5_000_000)
        blockhash = Hash.from_string(chain.rpc("getLatestBlockhash")["value"]["blockhash"])
        seed = {"blockhash": blockhash, "wallets": [wallet], "signatures": [signature]}
        with httpx.Client(timeout=30) as client:
            yield chain, client, _pool(seed)


SENT = {"in-process": 0, "http": 0}


def test_dispatcher_never_answers_internal_error(in_process, tally):
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))  # json.dumps of 1,100 deep
    dispatcher, pool = in_process
    methods = dispatcher.method_names
    failures = []

    @settings(FUZZ, max_examples=IN_PROCESS_EXAMPLES)
    @given(RANDOMS)
    def run(rng):
        body, count = Requests(rng, methods, pool).body()
        SENT["in-process"] += count
        try:
            answer = dispatcher.handle(body)
        except Exception as exc:  # the HTTP server would answer 400 for this: a bug of ours
            failures.append(f"{type(exc).__name__}: {exc} for {body[:300]!r}")
            tally.record(0, body.decode("utf-8", "replace"), repr(exc))
            return
        finally:
            dispatcher.node.faults.update(
                dict.fromkeys(("latencyMs", "dropRate", "lateConfirmMs", "errorRate"), 0)
            )
            dispatcher.node.set_late_confirm()
        internal = _internal_errors(orjson.loads(answer)) if answer else []
        tally.record(200 if not internal else 599, body.decode("utf-8", "replace"), str(internal))
        if internal:
            failures.append(f"{internal[0]['error']['message']} for {body[:300]!r}")

    run()
    assert not failures, f"{len(failures)} internal errors, first: " + "\n".join(failures[:5])


def test_http_never_answers_5xx_or_internal_error(over_http, tally):
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    chain, client, pool = over_http
    methods = [m for m in _method_names() if m != "sandbox_setFaults"]
    failures = []
    headers = {"content-type": "application/json"}

    @settings(FUZZ, max_examples=HTTP_EXAMPLES)
    @given(RANDOMS)
    def run(rng):
        body, count = Requests(rng, methods, pool).body()
        SENT["http"] += count
        response = client.post(chain.rpc_url, content=body, headers=headers)
        internal = []
        if response.headers.get("content-type") == "application/json":
            internal = _internal_errors(response.json())
        status = 599 if internal else response.status_code
        tally.record(status, body.decode("utf-8", "replace"), response.text[:300])
        if response.status_code >= 500 or internal:
            failures.append(f"HTTP {response.status_code} {response.text[:300]} for {body[:300]!r}")

    run()
    assert not failures, f"{len(failures)} failures, first: " + "\n".join(failures[:5])
    assert isinstance(chain.rpc("getSlot"), int)


def test_enough_requests_were_sent():
    total = SENT["in-process"] + SENT["http"]
    print(f"chain fuzz: {SENT['in-process']:,} requests in process, {SENT['http']:,} over HTTP")
    assert total >= MIN_REQUESTS, SENT


def _method_names() -> list[str]:
    return Dispatcher(ChainNode(ChainSettings(slot_ms=0))).method_names
