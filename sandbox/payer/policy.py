"""Which of a 402's offers the client is willing to pay: network, asset, scheme, price cap."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sandbox.payer.errors import NoAcceptablePayment
from sandbox.protocol import (
    SOLANA_DEVNET,
    USDC_DEVNET_MINT,
    AnyRequirements,
    format_usdc,
    is_solana,
    same_network,
)

__all__ = ["DEFAULT_MAX_AMOUNT", "PaymentPolicy"]

DEFAULT_MAX_AMOUNT = 50_000  # $0.05 in USDC atomic units


@dataclass(frozen=True)
class PaymentPolicy:
    """max_amount in atomic units (None: no cap); networks and assets: None accepts any
    Solana network / any mint. Networks match across versions ('solana-devnet' == CAIP-2)."""

    max_amount: int | None = DEFAULT_MAX_AMOUNT
    networks: tuple[str, ...] | None = (SOLANA_DEVNET,)
    assets: tuple[str, ...] | None = (USDC_DEVNET_MINT,)
    scheme: str = "exact"

    def rejection(self, requirements: AnyRequirements) -> str | None:
        """Why this offer is refused, or None when it is acceptable."""
        if requirements.scheme != self.scheme:
            return f"scheme {requirements.scheme!r} is not {self.scheme!r}"
        network = requirements.network
        if self.networks is None:
            if not is_solana(network):
                return f"network {network!r} is not a Solana network"
        elif not any(same_network(network, allowed) for allowed in self.networks):
            return f"network {network!r} is not one of {', '.join(self.networks)}"
        if self.assets is not None and requirements.asset not in self.assets:
            return f"asset {requirements.asset} is not one of {', '.join(self.assets)}"
        if self.max_amount is not None and requirements.atomic_amount > self.max_amount:
            return (
                f"price {format_usdc(requirements.atomic_amount)} is above the maximum "
                f"{format_usdc(self.max_amount)} (atomic {requirements.atomic_amount} > "
                f"{self.max_amount})"
            )
        if not (requirements.extra or {}).get("feePayer"):
            return "no extra.feePayer: cannot build a Solana payment without the fee payer"
        return None

    def choose(self, offers: Sequence[AnyRequirements]) -> AnyRequirements:
        """The cheapest acceptable offer; NoAcceptablePayment lists why each was refused."""
        if not offers:
            raise NoAcceptablePayment("the 402 offered no payment options (empty accepts)")
        acceptable: list[AnyRequirements] = []
        rejections: list[tuple[AnyRequirements, str]] = []
        for offer in offers:
            reason = self.rejection(offer)
            if reason is None:
                acceptable.append(offer)
            else:
                rejections.append((offer, reason))
        if not acceptable:
            detail = "; ".join(reason for _, reason in rejections)
            raise NoAcceptablePayment(f"no acceptable payment option: {detail}", rejections)
        return min(acceptable, key=lambda offer: offer.atomic_amount)
