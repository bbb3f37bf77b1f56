"""The block producer: owns LiteSVM, the slot/blockhash clocks' state, statuses and history.

LiteSVM runs with its own blockhash check and transaction history switched off; this module
decides instead, the way a validator does:
- a blockhash is live for MAX_BLOCKHASH_AGE blocks of the 400 ms blockhash clock
  (`lastValidBlockHeight` = height it was issued at + 150), in every slot mode;
- a signature already processed is AlreadyProcessed for as long as its blockhash is live, however
  many transactions came after it (the status cache is pruned only past that);
- a transaction is processed when executed, confirmed when its block closes, finalized
  `finalize_slots` closed blocks later (at once when blocks close per transaction);
- reads at confirmed/finalized see the accounts as of the newest block of that level: while a
  block is not yet at a level, the first pre-image of each account its transactions wrote
  answers for that level (dropped once the block reaches finalized). At `--slot-ms 0` every block
  is final at once, so nothing is kept (unless the late-confirm fault holds blocks back);
- cheat writes (funding, setAccount) show at every level at once: their change is carried into
  those pre-images instead of replacing them (pre_images.py).

Beside it: records.py (what it answers and remembers per transaction), blocks.py (per closed
block), balances.py (the pre and post balances a status reports), pre_images.py (reads at
confirmed/finalized), clock.py (the ticks that drive it).

Everything runs on the event loop thread: LiteSVM holds the GIL, so threads would gain nothing.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from solders.account import Account
from solders.hash import Hash
from solders.litesvm import LiteSVM
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction
from solders.transaction_metadata import FailedTransactionMetadata

from .balances import post_balances, pre_balances, writable_indexes
from .blocks import BlockHistory, blockhash_at
from .pre_images import ABSENT, PendingBlock, carry_cheat, existing
from .records import SendOutcome, TxRecord
from .settings import MAX_BLOCKHASH_AGE, ChainSettings
from .tx_errors import NOT_LANDED, err_to_json

if TYPE_CHECKING:
    from .journal import ChainJournal

__all__ = ["BlockProducer", "SendOutcome", "TxRecord"]

# Keep at least this many statuses (for getSignatureStatuses) even after their blockhash died,
# and full details (for getTransaction) of this many recent transactions.
STATUS_KEEP = 50_000
DETAIL_KEEP = 20_000
ADDRESS_HISTORY = 1_000
FIRST_SLOT = 1


def _new_svm(sigverify: bool) -> LiteSVM:
    return (
        LiteSVM()
        .with_blockhash_check(False)
        .with_transaction_history(0)
        .with_sigverify(sigverify)
        .with_log_bytes_limit(100_000)
    )


class BlockProducer:
    """LiteSVM plus everything a validator keeps around it; decides what each tick does."""

    def __init__(self, settings: ChainSettings) -> None:
        self.settings = settings
        self.instant_finality = settings.slot_ms == 0
        self.finalize_slots = settings.finalize_slots
        self.late_confirm_s = settings.faults.late_confirm_ms / 1000.0
        # (signature, record, the accounts it wrote) after each landed transaction
        self.tx_listeners: list[Callable[[Signature, TxRecord, list[Pubkey]], None]] = []
        self.slot_listeners: list[Callable[[int], None]] = []
        self.stats = {"transactions": 0, "simulations": 0, "sendTransactions": 0}
        self.journal: ChainJournal | None = None  # set by ChainJournal.open (journal.py)
        self.reset()

    # ---- lifecycle -------------------------------------------------------------------------
    def reset(self, slot: int = FIRST_SLOT, height: int = 0) -> None:
        self.svm = _new_svm(self.settings.sigverify)
        self.slot = slot  # the open block
        self.closed_slot = slot - 1
        self.block_height = height
        self.block_sigs: list[Signature] = []
        self.live: dict[Hash, int] = {}
        self._live_order: deque[tuple[int, Hash]] = deque()
        self.seed = os.urandom(32)  # new per ledger: it names the ledger in the journal
        self.statuses: dict[Signature, TxRecord] = {}
        self._status_order: deque[Signature] = deque()
        self._detail_order: deque[Signature] = deque()
        self.by_address: dict[Pubkey, deque[Signature]] = {}
        self.touched: set[Pubkey] = set()
        self.journal_sigs: list[Signature] = []  # written since the journal's last frame
        self.journal_dirty: set[Pubkey] = set()
        self.pending: deque[PendingBlock] = deque()  # oldest first
        # Late-confirm fault: slot -> when its block may show as confirmed (its newest
        # transaction's time + the delay). One time per block, for statuses and reads alike;
        # in slot order, an entry is dropped once its time has passed.
        self._late: dict[int, float] = {}
        self.blockhash = self._issue_blockhash()
        self.blocks = BlockHistory(slot - 1, self.blockhash, height, self)
        # (slot, block height, blockhash, transaction count) as each recent block closed: what
        # getBlockHeight, getLatestBlockhash and getTransactionCount answer at its level.
        self._closed: deque[tuple[int, int, Hash, int]] = deque(maxlen=self.finalize_slots + 2)
        self._set_clock()

    # ---- clocks ----------------------------------------------------------------------------
    def _issue_blockhash(self) -> Hash:
        blockhash = blockhash_at(self.seed, self.block_height)
        self.live[blockhash] = self.block_height
        self._live_order.append((self.block_height, blockhash))
        return blockhash

    def _set_clock(self) -> None:
        clock = self.svm.get_clock()
        clock.slot = self.slot
        clock.unix_timestamp = int(time.time())
        self.svm.set_clock(clock)

    def advance_height(self, n: int = 1) -> None:
        """The 400 ms blockhash clock: a new blockhash, and old ones die past their age."""
        self.block_height += n
        self.blockhash = self._issue_blockhash()
        oldest_live = self.block_height - MAX_BLOCKHASH_AGE
        while self._live_order and self._live_order[0][0] < oldest_live:
            _, dead = self._live_order.popleft()
            self.live.pop(dead, None)
        self._prune_statuses()

    def close_block(self) -> int:
        """Close the open block: its transactions become confirmed. Returns the closed slot."""
        closed = self.slot
        self.closed_slot = closed
        self.slot = closed + 1
        self.blocks.close(closed, self.block_height, self.blockhash, self.block_sigs)
        self.block_sigs = []
        if not self.instant_finality:
            self._closed.append(
                (closed, self.block_height, self.blockhash, self.stats["transactions"])
            )
        if self._late:
            self._prune_late()
        if self.pending:
            self._prune_pending()
        self._set_clock()
        if self.journal is not None:  # on disk before anything can call the block confirmed
            self.journal.commit()
        for listener in self.slot_listeners:
            listener(closed)
        return closed

    def advance_slots(self, n: int) -> int:
        """Cheat: n blocks pass at once (blockhash age advances with them).

        Only the last finalize_slots + 1 blocks can be the newest of a level, so those close one
        by one, each after its height advanced: confirmed and finalized then answer heights and
        blockhashes from after the jump. The blocks before them pass in one step."""
        closes = 1 if self.instant_finality else min(n, self.finalize_slots + 1)
        skipped = n - closes
        if skipped and self.block_sigs:  # the open block's transactions close in their slot
            self.advance_height(1)
            self.close_block()
            skipped -= 1
        if skipped:
            self.closed_slot = self.slot + skipped - 1
            self.slot += skipped
            self.advance_height(skipped)
        for _ in range(closes):
            self.advance_height(1)
            self.close_block()
        return self.slot

    def expire_blockhashes(self) -> int:
        self.advance_slots(MAX_BLOCKHASH_AGE + 1)
        return self.slot

    def last_valid_block_height(self, blockhash: Hash) -> int | None:
        issued = self.live.get(blockhash)
        if issued is None:
            return None
        return issued + MAX_BLOCKHASH_AGE

    def is_live(self, blockhash: Hash) -> bool:
        issued = self.live.get(blockhash)
        return issued is not None and issued + MAX_BLOCKHASH_AGE >= self.block_height

    def slot_for(self, commitment: str) -> int:
        if commitment == "processed":
            return self.slot
        if commitment == "confirmed" or self.instant_finality:
            return self.closed_slot
        return max(self.closed_slot - self.finalize_slots, 0)

    def _closed_at(self, commitment: str) -> tuple[int, int, Hash, int] | None:
        """What the newest block at `commitment` closed with; None: the current values."""
        if commitment == "processed" or self.instant_finality or not self._closed:
            return None
        target = self.slot_for(commitment)
        for entry in reversed(self._closed):
            if entry[0] <= target:
                return entry
        return self._closed[0]  # older than we keep: the oldest we know

    def height_for(self, commitment: str) -> int:
        entry = self._closed_at(commitment)
        return self.block_height if entry is None else entry[1]

    def blockhash_for(self, commitment: str) -> Hash:
        entry = self._closed_at(commitment)
        if entry is None or not self.is_live(entry[2]):  # e.g. after sandbox_expireBlockhashes
            return self.blockhash
        return entry[2]

    def transaction_count_for(self, commitment: str) -> int:
        entry = self._closed_at(commitment)
        return self.stats["transactions"] if entry is None else entry[3]

    # ---- pre-images for confirmed/finalized reads ---------------------------------------------
    def _tracks_pending(self) -> bool:
        return not self.instant_finality or bool(self.late_confirm_s)

    def visible_at(self, slot: int) -> float:
        """Late-confirm fault: when the block at `slot` may show as confirmed (0.0: no hold)."""
        return self._late.get(slot, 0.0) if self._late else 0.0

    def reached(self, slot: int, commitment: str, now: float | None = None) -> bool:
        """Whether the block at `slot` is at `commitment`, for statuses, reads and PubSub alike."""
        if slot > self.slot_for(commitment):
            return False
        if self._late:
            visible = self._late.get(slot)
            if visible and (now or time.monotonic()) < visible:
                return False
        return True

    def _prune_late(self) -> None:
        late, now = self._late, time.monotonic()
        while late:
            slot = next(iter(late))
            if late[slot] > now:
                break
            del late[slot]

    def _prune_pending(self) -> None:
        """Blocks that reached finalized need no pre-images any more."""
        pending, now = self.pending, time.monotonic()
        while pending and self.reached(pending[0].slot, "finalized", now):
            pending.popleft()

    def _pending_block(self) -> PendingBlock:
        pending = self.pending
        if pending and pending[-1].slot == self.slot:
            return pending[-1]
        block = PendingBlock(self.slot)
        pending.append(block)
        return block

    def overlay(self, commitment: str) -> dict[Pubkey, Account | None]:
        """Accounts whose state at `commitment` differs from now: pubkey -> that state."""
        if commitment == "processed" or not self.pending:
            return {}
        self._prune_pending()
        now = time.monotonic()
        found: dict[Pubkey, Account | None] = {}
        for block in self.pending:
            if self.reached(block.slot, commitment, now):
                continue
            for key, image in block.images.items():
                found.setdefault(key, image)
        return found

    # ---- statuses --------------------------------------------------------------------------
    def commitment_of(self, record: TxRecord, now: float | None = None) -> str:
        if not self.reached(record.slot, "confirmed", now):
            return "processed"
        if self.instant_finality or self.closed_slot >= record.slot + self.finalize_slots:
            return "finalized"
        return "confirmed"

    def _prune_statuses(self) -> None:
        order, statuses = self._status_order, self.statuses
        oldest_live = self.block_height - MAX_BLOCKHASH_AGE
        while len(order) > STATUS_KEEP:
            record = statuses.get(order[0])
            if record is not None and record.height >= oldest_live:
                break  # still guards against a replay
            statuses.pop(order.popleft(), None)

    def _remember(self, sig: Signature, record: TxRecord, keys: list[Pubkey]) -> None:
        self.statuses[sig] = record
        self._status_order.append(sig)
        self._detail_order.append(sig)
        if len(self._detail_order) > DETAIL_KEEP:
            old = self.statuses.get(self._detail_order.popleft())
            if old is not None:
                old.tx = old.meta = None
                old.pre_balances = old.post_balances = old.pre_tokens = old.post_tokens = []
        by_address = self.by_address
        for key in keys:
            sigs = by_address.get(key)
            if sigs is None:
                sigs = by_address[key] = deque(maxlen=ADDRESS_HISTORY)
            sigs.append(sig)

    # ---- execution -------------------------------------------------------------------------
    def check_admissible(self, tx: VersionedTransaction) -> object:
        """The validator's checks before execution: blockhash age and the status cache."""
        if not self.is_live(tx.message.recent_blockhash):
            return "BlockhashNotFound"
        if tx.signatures[0] in self.statuses:
            return "AlreadyProcessed"
        return None

    def execute(
        self, tx: VersionedTransaction, *, preflight: bool, cheat: bool = False
    ) -> SendOutcome:
        """Run a transaction for real. With `preflight`, a failure is rolled back (not landed).
        `cheat`: the chain's own funding transaction, whose writes show at every level at once."""
        sig = tx.signatures[0]
        refused = self.check_admissible(tx)
        if refused is not None:
            return SendOutcome(sig, refused, landed=False)
        keys = list(tx.message.account_keys)
        fee_payer_before = self.svm.get_account(keys[0]) if preflight else None
        pre_accounts: list[Account | None] = []
        get = self.svm._inner.get_account  # the wrapper costs as much as the call
        pre, pre_tokens = pre_balances(get, keys, pre_accounts)
        result = self.svm.send_transaction(tx)
        if isinstance(result, FailedTransactionMetadata):
            err = err_to_json(result.err())
            meta = result.meta()
            if preflight or (isinstance(err, str) and err in NOT_LANDED):
                # Failed preflight, or a failure the runtime never commits: undo the fee.
                if fee_payer_before is not None:
                    self.svm.set_account(keys[0], fee_payer_before)
                return SendOutcome(sig, err, landed=False, meta=meta)
        else:
            err = None
            meta = result
        self.stats["transactions"] += 1
        if self.late_confirm_s:  # the block shows as confirmed no sooner than this
            self._late[self.slot] = time.monotonic() + self.late_confirm_s
        record = TxRecord(self.slot, self.live[tx.message.recent_blockhash], err)
        record.tx = tx
        record.meta = meta
        record.pre_balances, record.pre_tokens = pre, pre_tokens
        writable = writable_indexes(tx, len(keys))
        record.post_balances, record.post_tokens = post_balances(
            get, writable, keys, pre, pre_tokens
        )
        if cheat:
            if self.pending:
                read = self.svm.get_account
                changes = [
                    (keys[i], existing(pre_accounts[i]), existing(read(keys[i]))) for i in writable
                ]
                carry_cheat(self.pending, changes)
        elif self._tracks_pending():
            block = self._pending_block()
            images = block.images
            for index in writable:
                key = keys[index]
                if key not in images:
                    images[key] = pre_accounts[index]
        self._remember(sig, record, keys)
        self.touched.update(keys)
        if self.journal is not None:
            self.journal_sigs.append(sig)
            self.journal_dirty.update([keys[i] for i in writable])
        self.block_sigs.append(sig)
        if self.tx_listeners:
            # What it can have changed, as a validator notifies accountSubscribe: its writable
            # keys, or only the fee payer when it failed (the fee is all that is kept).
            written = keys[:1] if err is not None else [keys[i] for i in writable]
            for listener in self.tx_listeners:
                listener(sig, record, written)
        if self.instant_finality:
            self.close_block()
        return SendOutcome(sig, err, landed=True, meta=meta)

    def simulate(self, tx: VersionedTransaction, *, sig_verify: bool):
        """LiteSVM's simulation with the request's sigVerify; the caller checks admissibility."""
        self.stats["simulations"] += 1
        svm = self.svm
        if sig_verify != self.settings.sigverify:
            svm.with_sigverify(sig_verify)
            try:
                return svm.simulate_transaction(tx)
            finally:
                svm.with_sigverify(self.settings.sigverify)
        return svm.simulate_transaction(tx)

    # ---- accounts --------------------------------------------------------------------------
    def get_account(self, pubkey: Pubkey, commitment: str = "processed") -> Account | None:
        """The account as of the newest block at `commitment` (None: no such account)."""
        account = ABSENT
        if commitment != "processed" and self.pending:
            self._prune_pending()
            now = time.monotonic()
            for block in self.pending:
                if not self.reached(block.slot, commitment, now):
                    account = block.images.get(pubkey, ABSENT)
                    if account is not ABSENT:
                        break
        if account is ABSENT:
            account = self.svm.get_account(pubkey)
        if account is None or (account.lamports == 0 and not account.data):
            return None
        return account

    def set_account(self, pubkey: Pubkey, account: Account) -> None:
        before = self.svm.get_account(pubkey) if self.pending else None
        self.svm.set_account(pubkey, account)
        self.touched.add(pubkey)
        self.journal_dirty.add(pubkey)
        if self.pending:
            carry_cheat(self.pending, [(pubkey, existing(before), existing(account))])

    # ---- the journal (journal.py) ------------------------------------------------------------
    def take_journal_marks(self) -> tuple[list[Signature], set[Pubkey]]:
        """Transactions and accounts written since the last frame (and forget them)."""
        marks = self.journal_sigs, self.journal_dirty
        self.journal_sigs, self.journal_dirty = [], set()
        return marks

    def restore_record(self, sig: Signature, record: TxRecord) -> None:
        if sig in self.statuses:
            return
        keys = list(record.tx.message.account_keys) if record.tx is not None else []
        self._remember(sig, record, keys)
        self.touched.update(keys)

    def restore_clock(self, closed: int, height: int, transactions: int, seed: bytes) -> None:
        """After replay: the ledger's clocks as its last frame left them, and the blockhashes
        of its last MAX_BLOCKHASH_AGE heights live again (they derive from seed and height)."""
        self.seed = seed
        self.closed_slot, self.slot, self.stats["transactions"] = closed, closed + 1, transactions
        self.live, self._live_order = {}, deque()
        for issued in range(max(0, height - MAX_BLOCKHASH_AGE), height + 1):
            self.block_height = issued
            self.blockhash = self._issue_blockhash()
        self._set_clock()
