"""The chain's journal: what a block confirmed reaches the disk before anyone is told.

LiteSVM keeps its accounts in memory only, and the state file (state.py) is written at a clean
shutdown; a kill -9 or a power cut would lose everything since. So every closed block (and every
cheat write) appends one frame to `<state file>.journal`: the current value of each account it
wrote, its transactions (status and details, as getTransaction answers them), the blocks closed
since the last frame (blocks.py; an empty block gets a frame of its own too) and the clocks.
Frames hold whole account values, not deltas, so replaying a journal in order over any state
file of the same ledger gives the newest state.

Durability, per block mode:
- 400 ms slots (and `--slot-ms manual`): the frame is written and fsync-ed as the block closes,
  before any status, read or notification can call it confirmed (one fsync per block).
- `--slot-ms 0` (a block per transaction): group commit. Frames collect in memory; one worker
  thread writes and fsyncs them together while the event loop goes on, and every HTTP answer
  and PubSub notification written after a frame waits until that frame is on disk. So nothing
  the chain has answered is lost, at one fsync per group instead of one per transaction.

Ledgers: the state file and each frame carry the ledger's seed (the producer's blockhash seed,
new at every reset or load). Replay applies only frames of the state file's seed, so a journal
left behind by a ledger that sandbox_reset or sandbox_loadState replaced is never replayed over
the new one, whatever the moment of a crash.

Checkpoints bound replay: past `ChainSettings.journal_max_bytes` (128 MiB) or MAX_EMPTY_FRAMES
frames of empty blocks, at a clean shutdown, a reset or a load, the state file is rewritten and
the journal replaced by one frame holding the transaction and block history still kept
(statuses, details, blocks), so history survives restarts too.

Frame: 4-byte length, 4-byte CRC-32 of the payload, the payload (JSON). A torn last frame (a
crash mid-write) fails its length or CRC and is cut off at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from .journal_codec import (
    account_json,
    apply_frame,
    history_payload,
    record_json,
)

if TYPE_CHECKING:
    from .node import ChainNode

__all__ = ["ChainJournal", "journal_path", "read_frames"]

log = logging.getLogger("sandbox.chain")

_HEAD = struct.Struct("<II")  # payload length, CRC-32
# Frames of empty blocks alone (an idle chain at 400 ms writes 2.5 a second) also bound replay:
# past this many since the last checkpoint (~5.5 hours idle), a checkpoint (replay ~0.5 s).
MAX_EMPTY_FRAMES = 50_000


def journal_path(state_file: Path) -> Path:
    return state_file.with_name(state_file.stem + ".journal")


def frame_bytes(payload: dict) -> bytes:
    body = orjson.dumps(payload)
    return _HEAD.pack(len(body), zlib.crc32(body)) + body


def read_frames(path: Path) -> tuple[list[dict], int]:
    """The journal's whole frames and the length they cover (what follows is a torn tail)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], 0
    frames, offset = [], 0
    while offset + _HEAD.size <= len(data):
        length, crc = _HEAD.unpack_from(data, offset)
        body = data[offset + _HEAD.size : offset + _HEAD.size + length]
        if len(body) < length or zlib.crc32(body) != crc:
            break
        try:
            frames.append(orjson.loads(body))
        except orjson.JSONDecodeError:
            break
        offset += _HEAD.size + length
    return frames, offset


def _open_append(path: Path, keep: int) -> int:
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    os.ftruncate(fd, keep)
    os.lseek(fd, keep, os.SEEK_SET)
    return fd


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class ChainJournal:
    """The journal of one node: `commit()` as blocks close, `after_durable` for answers."""

    def __init__(self, node: ChainNode) -> None:
        assert node.state_file is not None
        self.node = node
        self.path = journal_path(node.state_file)
        self.max_bytes = node.settings.journal_max_bytes
        self.group = node.settings.slot_ms == 0
        self._fd = -1
        self.size = 0
        self.base = 0  # the history frame a checkpoint starts with: never counted to the limit
        self.empty_frames = 0  # frames of empty blocks alone since the last checkpoint
        self._appended = 0  # commits promised (group mode: not all encoded yet)
        self._durable = 0  # commits known to be on disk
        self._waiters: list[tuple[int, Callable[[], None]]] = []
        self._flushing = False
        self._flusher: asyncio.Task | None = None
        self._checkpoint_wanted = False
        self._unwritten = b""  # whole frames a failed write (disk full) left for the next one
        self.stats = {"frames": 0, "fsyncs": 0, "checkpoints": 0, "replayed": 0}

    # ---- start -----------------------------------------------------------------------------
    def open(self, seed: bytes | None) -> int:
        """Replay frames of ledger `seed` (None: none to replay) and open for appending.
        Returns how many frames were replayed."""
        producer = self.node.producer
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        frames, good = read_frames(self.path) if seed is not None else ([], 0)
        replayed = 0
        closed, height, count = producer.closed_slot, producer.block_height, 0
        for frame in frames:
            if frame.get("seed") == seed.hex():
                at = apply_frame(producer, frame)
                closed, height, count = max(closed, at[0]), max(height, at[1]), at[2]
                replayed += 1
                self.empty_frames += not frame.get("txs") and not frame.get("accounts")
        if seed is not None:
            producer.restore_clock(closed, height, count or producer.stats["transactions"], seed)
            producer.block_sigs = producer.blocks.finish_replay(
                producer.slot, producer.closed_slot, producer.blockhash, producer.block_height
            )
        self.stats["replayed"] = replayed
        self._fd = _open_append(self.path, good if replayed else 0)
        self.size = good if replayed else 0
        # A journal starts with its checkpoint's history frame: the limit counts what follows.
        self.base = len(frame_bytes(frames[0])) if replayed else 0
        producer.journal = self
        producer.take_journal_marks()  # the replay's own writes are on disk already
        producer.blocks.take_journal()
        return replayed

    # ---- appending -------------------------------------------------------------------------
    def commit(self) -> None:
        """A block closed (or a cheat wrote): journal what changed since the last frame. In
        group mode the frame is only promised here; the flusher encodes every promise since
        its last write as one frame (accounts written by many transactions encoded once)."""
        producer = self.node.producer
        if (
            not producer.journal_sigs
            and not producer.journal_dirty
            and not producer.blocks.unjournaled
        ):
            return
        self._appended += 1
        if not self.group:
            self._write(self._encode())
            self._mark_durable(self._appended)
            self._maybe_checkpoint()
        elif not self._flushing:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # driven outside an event loop (in-process tests): at once
                self.flush_now()
                return
            self._flushing = True
            self._flusher = loop.create_task(self._flush_group())

    def _encode(self) -> bytes:
        producer = self.node.producer
        sigs, dirty = producer.take_journal_marks()
        self.empty_frames += not sigs and not dirty
        statuses = producer.statuses
        read = producer.svm.get_account
        self.stats["frames"] += 1
        return frame_bytes(
            {
                "seed": producer.seed.hex(),
                "slot": producer.slot,
                "closed": producer.closed_slot,
                "height": producer.block_height,
                "count": producer.stats["transactions"],
                "txs": [record_json(sig, statuses[sig]) for sig in sigs if sig in statuses],
                "accounts": [account_json(key, read(key)) for key in dirty],
                "blocks": producer.blocks.take_journal(),
            }
        )

    def _write(self, data: bytes) -> None:
        """Append whole frames, after those an earlier failed write left. A failure (the disk
        full) cuts the file back to its last whole frame and keeps the frames for the next
        write: a torn frame before good ones would hide them all from the replay."""
        data = self._unwritten + data
        try:
            view = memoryview(data)
            while view:  # a short write (the disk filling up) is not an error by itself
                view = view[os.write(self._fd, view) :]
            os.fdatasync(self._fd)
        except OSError:
            self._unwritten = data
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self.size)
                os.lseek(self._fd, self.size, os.SEEK_SET)
            raise
        self._unwritten = b""
        self.size += len(data)
        self.stats["fsyncs"] += 1

    async def _flush_group(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._durable < self._appended:
                target, data = self._appended, self._encode()
                try:
                    await loop.run_in_executor(None, self._write, data)
                except OSError as exc:  # disk full, say: keep answering, and say so loudly
                    log.error("journal %s: write failed, not durable: %s", self.path, exc)
                self._mark_durable(target)
                if self._checkpoint_wanted or self._over_limit():
                    self._checkpoint_wanted = False
                    self._flushing = False
                    try:
                        self.checkpoint()
                    except OSError as exc:
                        log.error("journal %s: checkpoint failed: %s", self.path, exc)
                    self._flushing = True
        finally:
            self._flushing = False

    def flush_now(self) -> None:
        """Write what is promised, on this thread (no group flush may be running)."""
        if self._durable < self._appended:
            target = self._appended
            self._write(self._encode())
            self._mark_durable(target)
            self._maybe_checkpoint()

    def _mark_durable(self, target: int) -> None:
        self._durable = target
        if not self._waiters:
            return
        ready = [cb for seq, cb in self._waiters if seq <= target]
        self._waiters = [(seq, cb) for seq, cb in self._waiters if seq > target]
        for callback in ready:
            try:  # one client's broken connection must not hold back the others' answers
                callback()
            except Exception:
                log.exception("journal: a durable-callback failed")

    # ---- waiting ---------------------------------------------------------------------------
    @property
    def behind(self) -> bool:
        """Frames handed over but not yet on disk."""
        return self._durable < self._appended

    def after_durable(self, callback: Callable[[], None]) -> None:
        """Run `callback` once every frame appended so far is on disk (now, if it is)."""
        if self._durable >= self._appended:
            callback()
        else:
            self._waiters.append((self._appended, callback))

    async def durable(self) -> None:
        if self._durable >= self._appended:
            return
        future = asyncio.get_running_loop().create_future()
        self.after_durable(lambda: future.done() or future.set_result(None))
        await future

    # ---- checkpoints -----------------------------------------------------------------------
    def _over_limit(self) -> bool:
        return self.size - self.base > self.max_bytes or self.empty_frames > MAX_EMPTY_FRAMES

    def _maybe_checkpoint(self) -> None:
        if self._over_limit():
            self.checkpoint()

    def checkpoint(self) -> int | None:
        """State file, then a journal of the history alone (each step atomic); returns how many
        accounts the state file holds. While a group flush is in flight it runs when that
        flush is done (None)."""
        if self._flushing and self.group:
            self._checkpoint_wanted = True
            return None
        from .state import save_state  # state.py reads the node; imported late to stay light

        producer = self.node.producer
        producer.take_journal_marks()  # all of it is in what follows
        producer.blocks.take_journal()
        target = self._appended
        count = save_state(self.node, self.node.state_file)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            frame = frame_bytes(history_payload(producer))
            os.write(fd, frame)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        _fsync_dir(self.path)
        old, self._fd = self._fd, _open_append(self.path, len(frame))
        if old >= 0:
            os.close(old)
        self.size = self.base = len(frame)
        self._unwritten = b""  # the state file holds all of it
        self.empty_frames = 0
        self._mark_durable(target)
        self.stats["checkpoints"] += 1
        return count

    async def aclose(self) -> None:
        """Clean shutdown, once nothing is dispatched any more: the group flush in flight (its
        executor thread holds the fd), then everything into one checkpoint."""
        if self._flusher is not None and not self._flusher.done():
            with contextlib.suppress(Exception):
                await self._flusher
        self.close()

    def close(self) -> None:
        """Everything into a checkpoint (no group flush may be running: see aclose)."""
        self._flushing = False
        self.checkpoint()
        os.close(self._fd)
        self._fd = -1

    def info(self) -> dict:
        return {"path": str(self.path), "bytes": self.size, "groupCommit": self.group, **self.stats}
