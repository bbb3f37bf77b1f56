"""The block producer: owns LiteSVM, the slot/blockhash clocks' state, statuses and history.

LiteSVM runs with its own blockhash check and transaction history switched off; this module
decides instead, the way a validator does:
- a blockhash is live for MAX_BLOCKHASH_AGE blocks of the 400 ms blockhash clock
  (`lastValidBlockHeight` = height it was issued at + 150), in every slot mode;
- a signature already processed is AlreadyProcessed for as long as its blockhash is live, however
  many transactions came after it (the status cache is pruned only past that);
- a transaction is processed when executed, confirmed when its block closes, finalized
  `finalize_slots` closed blocks later (at once when blocks close per transaction).

Everything runs on the event loop thread: LiteSVM holds the GIL, so threads would gain nothing.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from solders.account import Account
from solders.hash import Hash
from solders.litesvm import LiteSVM
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction
from solders.transaction_metadata import FailedTransactionMetadata, TransactionMetadata

from .settings import MAX_BLOCKHASH_AGE, ChainSettings
from .tx_errors import NOT_LANDED, err_to_json

__all__ = ["Ledger", "SendOutcome", "TxRecord"]

# Keep at least this many statuses (for getSignatureStatuses) even after their blockhash died,
# and full details (for getTransaction) of this many recent transactions.
STATUS_KEEP = 50_000
DETAIL_KEEP = 20_000
ADDRESS_HISTORY = 1_000
FIRST_SLOT = 1


class TxRecord:
    """What the chain remembers of one transaction. Heavy fields are dropped past DETAIL_KEEP."""

    __slots__ = (
        "block_time",
        "err",
        "height",
        "meta",
        "post_balances",
        "post_tokens",
        "pre_balances",
        "pre_tokens",
        "slot",
        "tx",
        "visible_at",
    )

    def __init__(self, slot: int, height: int, err, visible_at: float) -> None:
        self.slot = slot
        self.height = height  # block height its blockhash was issued at (dedup lifetime)
        self.err = err  # None or the JSON form of the TransactionError
        self.visible_at = visible_at  # late-confirm fault: not confirmed before this time
        self.block_time = int(time.time())
        self.tx: VersionedTransaction | None = None
        self.meta: TransactionMetadata | None = None
        self.pre_balances: list[int] = []
        self.post_balances: list[int] = []
        self.pre_tokens: list = []
        self.post_tokens: list = []


@dataclass(slots=True)
class SendOutcome:
    signature: Signature
    err: object = None  # JSON error value when it failed
    landed: bool = True  # False: rejected before execution (nothing recorded, no fee)
    meta: TransactionMetadata | None = None


def _new_svm(sigverify: bool) -> LiteSVM:
    return (
        LiteSVM()
        .with_blockhash_check(False)
        .with_transaction_history(0)
        .with_sigverify(sigverify)
        .with_log_bytes_limit(100_000)
    )


class Ledger:
    """LiteSVM plus everything a validator keeps around it."""

    def __init__(self, settings: ChainSettings) -> None:
        self.settings = settings
        self.instant_finality = settings.slot_ms == 0
        self.finalize_slots = settings.finalize_slots
        self.late_confirm_s = settings.faults.late_confirm_ms / 1000.0
        self.tx_listeners: list[Callable[[Signature, TxRecord, list[Pubkey]], None]] = []
        self.slot_listeners: list[Callable[[int], None]] = []
        self.stats = {"transactions": 0, "simulations": 0, "sendTransactions": 0}
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
        self._seed = os.urandom(32)
        self.statuses: dict[Signature, TxRecord] = {}
        self._status_order: deque[Signature] = deque()
        self._detail_order: deque[Signature] = deque()
        self.by_address: dict[Pubkey, deque[Signature]] = {}
        self.touched: set[Pubkey] = set()
        self.blockhash = self._issue_blockhash()
        self._set_clock()

    # ---- clocks ----------------------------------------------------------------------------
    def _issue_blockhash(self) -> Hash:
        digest = hashlib.sha256(self._seed + self.block_height.to_bytes(8, "little")).digest()
        blockhash = Hash(digest)
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
        self.block_sigs = []
        self._set_clock()
        for listener in self.slot_listeners:
            listener(closed)
        return closed

    def advance_slots(self, n: int) -> int:
        """Cheat: n blocks pass at once (blockhash age advances with them)."""
        for _ in range(n - 1):
            self.closed_slot = self.slot
            self.slot += 1
        self.close_block()
        self.advance_height(n)
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

    # ---- statuses --------------------------------------------------------------------------
    def commitment_of(self, record: TxRecord, now: float | None = None) -> str:
        if record.slot > self.closed_slot:
            return "processed"
        if record.visible_at and (now or time.monotonic()) < record.visible_at:
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

    def _balances(self, keys: list[Pubkey], only: range | None = None) -> tuple[list[int], list]:
        """Lamports of every key and the token accounts among them (index, program, head)."""
        get = self.svm._inner.get_account  # the wrapper costs as much as the call
        lamports: list[int] = []
        tokens: list = []
        for index, key in enumerate(keys):
            account = get(key)
            if account is None:
                lamports.append(0)
                continue
            lamports.append(account.lamports)
            if account.owner in _TOKEN_OWNERS and len(account.data) >= 165:
                tokens.append((index, account.owner, bytes(account.data[:72])))
        return lamports, tokens

    def _post_balances(
        self, tx: VersionedTransaction, keys: list[Pubkey], pre: list[int], pre_tokens: list
    ) -> tuple[list[int], list]:
        """Only writable accounts can change: read those again, copy the rest."""
        header = tx.message.header
        signed = header.num_required_signatures
        writable = [
            *range(signed - header.num_readonly_signed_accounts),
            *range(signed, len(keys) - header.num_readonly_unsigned_accounts),
        ]
        post = list(pre)
        changed_tokens: dict[int, tuple] = {}
        get = self.svm._inner.get_account
        for index in writable:
            account = get(keys[index])
            if account is None:
                post[index] = 0
                continue
            post[index] = account.lamports
            if account.owner in _TOKEN_OWNERS and len(account.data) >= 165:
                changed_tokens[index] = (index, account.owner, bytes(account.data[:72]))
        tokens = [entry for entry in pre_tokens if entry[0] not in writable]
        tokens.extend(changed_tokens.values())
        tokens.sort(key=lambda entry: entry[0])
        return post, tokens

    def execute(self, tx: VersionedTransaction, *, preflight: bool) -> SendOutcome:
        """Run a transaction for real. With `preflight`, a failure is rolled back (not landed)."""
        sig = tx.signatures[0]
        refused = self.check_admissible(tx)
        if refused is not None:
            return SendOutcome(sig, refused, landed=False)
        keys = list(tx.message.account_keys)
        fee_payer_before = self.svm.get_account(keys[0]) if preflight else None
        pre_balances, pre_tokens = self._balances(keys)
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
        visible_at = time.monotonic() + self.late_confirm_s if self.late_confirm_s else 0.0
        record = TxRecord(self.slot, self.live[tx.message.recent_blockhash], err, visible_at)
        record.tx = tx
        record.meta = meta
        record.pre_balances, record.pre_tokens = pre_balances, pre_tokens
        record.post_balances, record.post_tokens = self._post_balances(
            tx, keys, pre_balances, pre_tokens
        )
        self._remember(sig, record, keys)
        self.touched.update(keys)
        self.block_sigs.append(sig)
        for listener in self.tx_listeners:
            listener(sig, record, keys)
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
    def get_account(self, pubkey: Pubkey) -> Account | None:
        account = self.svm.get_account(pubkey)
        if account is None or (account.lamports == 0 and not account.data):
            return None
        return account

    def set_account(self, pubkey: Pubkey, account: Account) -> None:
        self.svm.set_account(pubkey, account)
        self.touched.add(pubkey)


_TOKEN_OWNERS = frozenset(
    {
        Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"),
        Pubkey.from_string("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"),
    }
)
