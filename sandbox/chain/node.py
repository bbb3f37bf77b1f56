"""The chain node: block producer, devnet twin, faults and counters, as RPC handlers see them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from solders.pubkey import Pubkey
from solders.token.state import Mint

from sandbox.protocol.networks import PYUSD_DEVNET_MINT
from sandbox.protocol.programs import TOKEN_PROGRAMS

from .devnet import DevnetTwin
from .faults import Faults
from .producer import BlockProducer
from .settings import ChainSettings, resolve_usdc_mint

if TYPE_CHECKING:
    from .journal import ChainJournal

__all__ = ["API_VERSION", "ChainNode"]

# The agave release whose RPC shapes we follow (reported by getVersion and in every context).
API_VERSION = "2.2.14"
FEATURE_SET = 3294202862


class ChainNode:
    def __init__(self, settings: ChainSettings) -> None:
        self.settings = settings
        self.producer = BlockProducer(settings)
        usdc_mint = Pubkey.from_string(resolve_usdc_mint(settings.usdc_mint))
        self.twin = DevnetTwin(self.producer, usdc_mint)
        self.faults = Faults(settings.faults)
        self.producer.late_confirm_s = self.faults.late_confirm_ms / 1000.0
        self.rpc_requests = 0
        self.state_file = settings.state_file
        self.journal: ChainJournal | None = None  # with a state file (app.build_node)
        self._decimals: dict[Pubkey, int] = {}
        self.twin.install()

    def context(self, commitment: str = "finalized") -> dict[str, Any]:
        return {"slot": self.producer.slot_for(commitment), "apiVersion": API_VERSION}

    def decimals_of(self, mint: Pubkey) -> int | None:
        """A mint's decimals (cached: decimals never change once a mint is initialized)."""
        cached = self._decimals.get(mint)
        if cached is not None:
            return cached
        account = self.producer.get_account(mint)
        if account is None or account.owner not in TOKEN_PROGRAMS or len(account.data) < 82:
            return None
        decimals = Mint.from_bytes(bytes(account.data[:82])).decimals
        self._decimals[mint] = decimals
        return decimals

    def set_late_confirm(self) -> None:
        self.producer.late_confirm_s = self.faults.late_confirm_ms / 1000.0

    def forget_caches(self) -> None:
        self._decimals.clear()

    def info(self) -> dict[str, Any]:
        producer = self.producer
        return {
            "usdcMint": str(self.twin.usdc_mint),
            "token2022Mint": str(self.twin.token2022_mint),
            "pyusdMint": PYUSD_DEVNET_MINT,
            "mintAuthority": str(self.twin.authority.pubkey()),
            "network": f"solana:{self.settings.genesis_hash[:32]}",
            "genesisHash": self.settings.genesis_hash,
            "slotMs": self.settings.slot_label,
            "finalizeSlots": self.settings.finalize_slots,
            "slot": producer.slot,
            "blockHeight": producer.block_height,
            "faults": self.faults.to_json(),
            "journal": self.journal.info() if self.journal is not None else None,
            "stats": {
                **producer.stats,
                "rpcRequests": self.rpc_requests,
                "droppedByFault": self.faults.dropped,
                "errorsByFault": self.faults.errors,
            },
        }
