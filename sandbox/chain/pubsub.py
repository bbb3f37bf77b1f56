"""PubSub over WebSocket (RPC port + 1): signature, slot and account subscriptions.

Shapes follow the validator's: a subscribe answers the subscription id; notifications are
`{"jsonrpc": "2.0", "method": "<kind>Notification", "params": {"result", "subscription"}}`.
A signature subscription fires once, when its transaction reaches the asked commitment, and
then ends; if it is already there when subscribing, it fires at once.

Bounded: at most MAX_SUBS_PER_CONNECTION subscriptions per socket and MAX_SUBS in all (past
them a subscribe answers an error naming the cap), and a client that stops reading is dropped
once MAX_QUEUED notifications wait for it. Notifications are found from indexes (by signature,
by account, slot subscribers, and the few signatures and account subs still waiting for a block
to reach their level), never by rescanning every subscription each slot.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from itertools import count
from typing import Any

import orjson
from solders.pubkey import Pubkey
from solders.signature import Signature
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from .accounts import encode_account
from .errors import RpcError, shown
from .node import ChainNode
from .params import commitment_of, config_at, int_at, pubkey_at, signature_from
from .records import TxRecord

__all__ = [
    "MAX_QUEUED",
    "MAX_SUBS",
    "MAX_SUBS_PER_CONNECTION",
    "NOTIFICATIONS",
    "SUBSCRIPTION_METHODS",
    "PubSub",
]

log = logging.getLogger("sandbox.chain.pubsub")
SUBSCRIPTION_METHODS = (
    "signatureSubscribe",
    "signatureUnsubscribe",
    "slotSubscribe",
    "slotUnsubscribe",
    "accountSubscribe",
    "accountUnsubscribe",
)
NOTIFICATIONS = ("signatureNotification", "slotNotification", "accountNotification")
_LEVEL = {"processed": 0, "confirmed": 1, "finalized": 2}
MAX_SUBS_PER_CONNECTION = 1_000
MAX_SUBS = 10_000
MAX_QUEUED = 50_000  # notifications waiting for one client before it is dropped


@dataclass(eq=False)
class _Sub:
    id: int
    kind: str  # "signature" | "slot" | "account"
    conn: _Conn
    commitment: str = "finalized"
    key: Any = None
    encoding: str = "base64"
    # Account subs: slots of changes not yet notified, oldest first. Kept until the ledger says
    # the block reached the subscription's level (closed, and not held by late confirmation).
    pending_slots: list[int] = field(default_factory=list)


@dataclass(eq=False)
class _Conn:
    ws: ServerConnection
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)
    subs: set[int] = field(default_factory=set)
    dropped: bool = False

    def send(self, message: dict[str, Any]) -> None:
        self.send_text(orjson.dumps(message).decode())

    def send_text(self, text: str) -> None:
        if self.dropped:
            return
        if self.queue.qsize() >= MAX_QUEUED:  # it stopped reading: let it go
            self.dropped = True
            asyncio.get_running_loop().create_task(
                self.ws.close(1008, f"over {MAX_QUEUED} unread notifications")
            )
            return
        self.queue.put_nowait(text)


class PubSub:
    def __init__(self, node: ChainNode) -> None:
        self.node = node
        self._ids = count(1)
        self.subs: dict[int, _Sub] = {}
        self.by_signature: dict[Signature, list[_Sub]] = {}
        self.by_account: dict[Pubkey, list[_Sub]] = {}
        self.slot_subs: dict[_Sub, None] = {}  # insertion-ordered set
        # Landed signatures whose subs wait for a higher level; account subs with changes
        # waiting for their block to reach the sub's level: all a closing slot has to look at.
        self._sig_waiting: dict[Signature, None] = {}
        self._account_waiting: dict[_Sub, None] = {}
        self._timers: set[Signature] = set()  # late-confirm rechecks already scheduled
        self._account_wake: tuple[float, asyncio.TimerHandle] | None = None  # the same, accounts
        node.producer.tx_listeners.append(self._on_transaction)
        node.producer.slot_listeners.append(self._on_slot)

    async def serve(self, host: str, port: int):
        return await serve(self._connection, host, port, max_size=2**22, compression=None)

    # ---- connections -------------------------------------------------------------------------
    async def _connection(self, ws: ServerConnection) -> None:
        conn = _Conn(ws)
        writer = asyncio.create_task(self._writer(conn))
        try:
            async for message in ws:
                self._handle(conn, message)
        except ConnectionClosed:
            pass
        finally:
            writer.cancel()
            for sub_id in list(conn.subs):
                self._remove(sub_id)

    async def _writer(self, conn: _Conn) -> None:
        journal = self.node.journal
        try:
            while True:
                text = await conn.queue.get()
                if journal is not None and journal.behind:
                    await journal.durable()  # group commit: notify only what is on disk
                await conn.ws.send(text)
        except ConnectionClosed:
            pass

    def _handle(self, conn: _Conn, message: str | bytes) -> None:
        try:
            request = orjson.loads(message)
        except orjson.JSONDecodeError as exc:
            conn.send(
                {"jsonrpc": "2.0", "error": RpcError.parse_error(str(exc)).to_json(), "id": None}
            )
            return
        requests = request if isinstance(request, list) else [request]
        for item in requests:
            if isinstance(item, dict) and isinstance(item.get("method"), str) and "id" not in item:
                # A JSON-RPC notification gets no reply, as from a validator: @solana/kit's
                # autopinger sends {"method": "ping"} without an id every 5 s of silence.
                continue
            request_id = item.get("id") if isinstance(item, dict) else None
            try:
                if not isinstance(item, dict) or not isinstance(item.get("method"), str):
                    raise RpcError.invalid_request("expected a JSON-RPC request object")
                params = item.get("params") or []
                if not isinstance(params, list):
                    raise RpcError.invalid_params("`params` must be an array")
                result, after = self._call(conn, item["method"], params)
            except RpcError as error:
                conn.send({"jsonrpc": "2.0", "error": error.to_json(), "id": request_id})
                continue
            conn.send({"jsonrpc": "2.0", "result": result, "id": request_id})
            if after is not None:
                after()

    def _call(self, conn: _Conn, method: str, params: list):
        if method not in SUBSCRIPTION_METHODS:
            raise RpcError.method_not_found(method)
        if method == "signatureSubscribe":
            signature = signature_from(params[0] if params else None, "signature")
            config = config_at(params, 1)
            sub = self._add(conn, "signature", commitment_of(config), signature)
            self.by_signature.setdefault(signature, []).append(sub)
            if config.get("enableReceivedNotification"):
                record = self.node.producer.statuses.get(signature)
                if record is not None:
                    return sub.id, lambda: self._received(sub)
            return sub.id, lambda: self._check_signature(signature)
        if method == "slotSubscribe":
            sub = self._add(conn, "slot", "processed", None)
            self.slot_subs[sub] = None
            return sub.id, None
        if method == "accountSubscribe":
            pubkey = pubkey_at(params, 0, "pubkey")
            config = config_at(params, 1)
            encoding = config.get("encoding", "base64")
            if encoding not in ("base64", "base58", "jsonParsed"):
                raise RpcError.invalid_params(
                    f"`encoding` {shown(encoding)}: use base64, base58 or jsonParsed"
                )
            sub = self._add(conn, "account", commitment_of(config), pubkey)
            sub.encoding = encoding
            self.by_account.setdefault(pubkey, []).append(sub)
            return sub.id, None
        if method in ("signatureUnsubscribe", "slotUnsubscribe", "accountUnsubscribe"):
            sub_id = int_at(params, 0, "subscription")
            sub = self.subs.get(sub_id)
            if sub is None or sub.conn is not conn or method != f"{sub.kind}Unsubscribe":
                raise RpcError.invalid_params(f"`subscription` {sub_id}: Invalid subscription id.")
            self._remove(sub_id)
            return True, None
        raise RpcError.method_not_found(method)

    def _add(self, conn: _Conn, kind: str, commitment: str, key: Any) -> _Sub:
        if len(conn.subs) >= MAX_SUBS_PER_CONNECTION:
            raise RpcError(
                -32000,
                f"subscription cap reached: at most {MAX_SUBS_PER_CONNECTION} subscriptions "
                "per connection (MAX_SUBS_PER_CONNECTION); unsubscribe or open another",
            )
        if len(self.subs) >= MAX_SUBS:
            raise RpcError(
                -32000, f"subscription cap reached: at most {MAX_SUBS} subscriptions in all"
            )
        sub = _Sub(next(self._ids), kind, conn, commitment, key)
        self.subs[sub.id] = sub
        conn.subs.add(sub.id)
        return sub

    def _remove(self, sub_id: int) -> None:
        sub = self.subs.pop(sub_id, None)
        if sub is None:
            return
        sub.conn.subs.discard(sub_id)
        if sub.kind == "signature":
            group = self.by_signature.get(sub.key, [])
            if sub in group:
                group.remove(sub)
            if not group:
                self.by_signature.pop(sub.key, None)
                self._sig_waiting.pop(sub.key, None)
        elif sub.kind == "account":
            group = self.by_account.get(sub.key, [])
            if sub in group:
                group.remove(sub)
            if not group:
                self.by_account.pop(sub.key, None)
            self._account_waiting.pop(sub, None)
        else:
            self.slot_subs.pop(sub, None)

    # ---- notifications -----------------------------------------------------------------------
    def _notify(self, sub: _Sub, result: Any) -> None:
        sub.conn.send(
            {
                "jsonrpc": "2.0",
                "method": f"{sub.kind}Notification",
                "params": {"result": result, "subscription": sub.id},
            }
        )

    def _received(self, sub: _Sub) -> None:
        context = {"slot": self.node.producer.slot}
        self._notify(sub, {"context": context, "value": "receivedSignature"})
        self._check_signature(sub.key)

    def _check_signature(self, signature: Signature) -> None:
        subs = self.by_signature.get(signature)
        record = self.node.producer.statuses.get(signature)
        if not subs or record is None:
            return
        level = _LEVEL[self.node.producer.commitment_of(record)]
        for sub in list(subs):
            if level >= _LEVEL[sub.commitment]:
                self._notify(sub, {"context": {"slot": record.slot}, "value": {"err": record.err}})
                self._remove(sub.id)
        if signature in self.by_signature:
            self._sig_waiting[signature] = None  # landed: look again as blocks close
        visible_at = self.node.producer.visible_at(record.slot)
        if visible_at and signature in self.by_signature and signature not in self._timers:
            # Late-confirm fault: look again when confirmation shows. Also when that moment
            # passed since the level above was read (a loaded machine): at --slot-ms 0 no
            # block may close again to look for it.
            delay = max(visible_at - time.monotonic(), 0.0)
            self._timers.add(signature)
            asyncio.get_running_loop().call_later(delay, self._recheck, signature)

    def _recheck(self, signature: Signature) -> None:
        self._timers.discard(signature)
        self._check_signature(signature)

    def _account_changed(self, sub: _Sub, slot: int) -> None:
        account = self.node.producer.get_account(sub.key, sub.commitment)
        if account is None:
            value = {
                "data": ["", "base64"],
                "executable": False,
                "lamports": 0,
                "owner": "11111111111111111111111111111111",
                "rentEpoch": 0,
                "space": 0,
            }
        else:
            try:
                value = encode_account(account, sub.encoding, self.node.decimals_of)
            except RpcError:  # base58 of an account over 128 bytes: never fail the writer
                value = encode_account(account, "base64", self.node.decimals_of)
        self._notify(sub, {"context": {"slot": slot}, "value": value})

    def _on_transaction(self, signature: Signature, record: TxRecord, written: list) -> None:
        if self.by_signature and signature in self.by_signature:
            self._check_signature(signature)
        if self.by_account:
            for key in written:
                for sub in self.by_account.get(key, ()):
                    if sub.commitment == "processed":
                        self._account_changed(sub, record.slot)
                    elif not sub.pending_slots or sub.pending_slots[-1] != record.slot:
                        sub.pending_slots.append(record.slot)
                        self._account_waiting[sub] = None

    def _on_slot(self, closed: int) -> None:
        producer = self.node.producer
        if self.slot_subs:
            root = producer.slot_for("finalized")
            result = orjson.dumps({"parent": closed, "root": root, "slot": closed + 1}).decode()
            head = '{"jsonrpc":"2.0","method":"slotNotification","params":{"result":' + result
            for sub in self.slot_subs:
                sub.conn.send_text(f'{head},"subscription":{sub.id}}}}}')
        for signature in list(self._sig_waiting):
            self._check_signature(signature)
        if self._account_waiting:
            self._check_accounts()

    def _check_accounts(self) -> None:
        """Notify account subs whose changed blocks reached their level: once, with the
        account as read at that level, so a notification never carries a state reads hide."""
        producer, now = self.node.producer, time.monotonic()
        wake = None
        for sub in list(self._account_waiting):
            slots = sub.pending_slots
            reached = 0
            while reached < len(slots) and producer.reached(slots[reached], sub.commitment, now):
                reached += 1
            if reached:
                self._account_changed(sub, slots[reached - 1])
                del slots[:reached]
            if not slots:
                del self._account_waiting[sub]
                continue
            held = producer.visible_at(slots[0])
            if held > now and (wake is None or held < wake):
                wake = held
        if wake is not None:  # late-confirm fault: no block may close by then (--slot-ms 0)
            self._wake_accounts_at(wake)

    def _wake_accounts_at(self, when: float) -> None:
        if self._account_wake is not None:
            if self._account_wake[0] <= when:
                return
            self._account_wake[1].cancel()
        loop = asyncio.get_running_loop()
        handle = loop.call_later(max(when - time.monotonic(), 0.0), self._wake_accounts)
        self._account_wake = (when, handle)

    def _wake_accounts(self) -> None:
        self._account_wake = None
        if self._account_waiting:
            self._check_accounts()
