"""`--slot-ms manual`: blocks close only on sandbox_advanceSlots (the blockhash clock still
ticks, so blockhash lifetime stays wall time). Tests that need no block to close between two
asserts use it instead of a very long slot."""

from __future__ import annotations

import time

import pytest

from sandbox.chain.cli import build_parser, configure
from sandbox.chain.clock import SlotClock
from sandbox.chain.node import ChainNode
from sandbox.chain.settings import ChainSettings
from sandbox.chain.testing import start_chain


def _settings(*argv: str) -> ChainSettings:
    parser = build_parser()
    return configure(parser, parser.parse_args(list(argv)))


def test_the_flag_reads_manual_milliseconds_and_refuses_the_rest(monkeypatch, capsys):
    assert _settings("--slot-ms", "manual").slot_ms is None
    assert _settings("--slot-ms", "Manual").manual_blocks
    assert _settings("--slot-ms", "0").slot_ms == 0
    assert _settings().slot_ms == 400 and not _settings().manual_blocks
    monkeypatch.setenv("X402_SANDBOX_CHAIN_SLOT_MS", "manual")
    assert _settings().slot_label == "manual"
    for bad, said in (("-1", "--slot-ms must be >= 0"), ("soon", "'soon' is neither")):
        with pytest.raises(SystemExit) as exc:
            _settings("--slot-ms", bad)
        assert exc.value.code == 2
        assert said in capsys.readouterr().err


def test_the_clock_closes_no_block_in_manual_mode():
    node = ChainNode(ChainSettings(slot_ms=None))
    clock = SlotClock(node.producer, None)
    assert clock.slot_s == 0.0  # no timed blocks, as at --slot-ms 0
    assert not node.producer.instant_finality  # ... but a transaction does not close one


def test_a_manual_chain_holds_its_slot_until_advance_slots():
    with start_chain(slot_ms="manual") as chain:
        assert chain.rpc("sandbox_getInfo")["slotMs"] == "manual"
        slot = chain.rpc("getSlot", {"commitment": "confirmed"})
        first = chain.rpc("getLatestBlockhash")["value"]["blockhash"]
        deadline = time.monotonic() + 10
        while chain.rpc("getLatestBlockhash")["value"]["blockhash"] == first:
            assert time.monotonic() < deadline, "the blockhash clock did not tick"
            time.sleep(0.05)
        # A blockhash tick passed (>= 400 ms) and no block closed.
        assert chain.rpc("getSlot", {"commitment": "confirmed"}) == slot
        assert chain.rpc("sandbox_advanceSlots", 2)["slot"] == slot + 3
        assert chain.rpc("getSlot", {"commitment": "confirmed"}) == slot + 2
