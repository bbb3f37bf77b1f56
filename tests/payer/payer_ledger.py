"""A LiteSVM ledger set up for payments: a mint, a funded fee payer, a payer holding tokens and
a merchant's token account. The test stand-in for the facilitator's settle: sign as fee payer,
execute, read balances back from the ledger."""

from __future__ import annotations

from typing import Any

from solders.account import Account
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import to_bytes_versioned
from solders.pubkey import Pubkey
from solders.token.state import Mint, TokenAccount, TokenAccountState
from solders.transaction import VersionedTransaction

from sandbox.payer import MintInfo
from sandbox.protocol import (
    SOLANA_DEVNET,
    TOKEN_PROGRAM_ID,
    USDC_DEVNET_MINT,
    PaymentRequirements,
    PaymentRequirementsV1,
    associated_token_address,
    to_v1,
)

INITIAL_BALANCE = 5_000_000  # 5 USDC


def fee_payer_sign(transaction: VersionedTransaction, fee_payer: Keypair) -> VersionedTransaction:
    """What a facilitator does before sending: fill signature slot 0."""
    signatures = list(transaction.signatures)
    signatures[0] = fee_payer.sign_message(to_bytes_versioned(transaction.message))
    return VersionedTransaction.populate(transaction.message, signatures)


class InProcessChain:
    """A test double of the chain for payer tests: LiteSVM in-process with a USDC mint."""

    def __init__(self, token_program: Pubkey = TOKEN_PROGRAM_ID, decimals: int = 6) -> None:
        self.svm = LiteSVM()
        self.token_program = token_program
        self.decimals = decimals
        self.mint = (
            Pubkey.from_string(USDC_DEVNET_MINT)
            if token_program == TOKEN_PROGRAM_ID
            else Pubkey.new_unique()
        )
        self.mint_authority = Keypair()
        self.fee_payer = Keypair()
        self.owner = Keypair()
        self.pay_to = Keypair().pubkey()
        self.svm.airdrop(self.fee_payer.pubkey(), 10_000_000_000)
        mint_data = bytes(
            Mint(
                mint_authority=self.mint_authority.pubkey(),
                supply=10**15,
                decimals=decimals,
                is_initialized=True,
                freeze_authority=None,
            )
        )
        self._set(self.mint, mint_data, token_program)
        self.fund(self.owner.pubkey(), INITIAL_BALANCE)
        self.fund(self.pay_to, 0)

    def _set(self, address: Pubkey, data: bytes, owner: Pubkey) -> None:
        lamports = self.svm.minimum_balance_for_rent_exemption(len(data))
        self.svm.set_account(address, Account(lamports, data, owner, False, 0))

    def ata(self, wallet: Pubkey) -> Pubkey:
        return associated_token_address(wallet, self.mint, self.token_program)

    def fund(self, wallet: Pubkey, amount: int) -> Pubkey:
        """Create (or overwrite) the wallet's associated token account holding `amount`."""
        account = TokenAccount(
            mint=self.mint,
            owner=wallet,
            amount=amount,
            delegate=None,
            state=TokenAccountState.Initialized,
            is_native=None,
            delegated_amount=0,
            close_authority=None,
        )
        address = self.ata(wallet)
        self._set(address, bytes(account), self.token_program)
        return address

    def balance(self, wallet: Pubkey) -> int:
        account = self.svm.get_account(self.ata(wallet))
        return TokenAccount.from_bytes(bytes(account.data)).amount if account else 0

    @property
    def mint_info(self) -> MintInfo:
        return MintInfo(self.mint, self.decimals, self.token_program)

    @property
    def blockhash(self):
        return self.svm.latest_blockhash()

    def requirements(self, amount: int = 10_000, **extra: Any) -> PaymentRequirements:
        return PaymentRequirements(
            scheme="exact",
            network=SOLANA_DEVNET,
            amount=str(amount),
            asset=str(self.mint),
            pay_to=str(self.pay_to),
            max_timeout_seconds=60,
            extra={"feePayer": str(self.fee_payer.pubkey()), **extra},
        )

    def requirements_v1(self, amount: int = 10_000, **extra: Any) -> PaymentRequirementsV1:
        return PaymentRequirementsV1(
            scheme="exact",
            network=to_v1(SOLANA_DEVNET),
            max_amount_required=str(amount),
            resource="http://127.0.0.1/paid",
            description="a paid route",
            mime_type="application/json",
            pay_to=str(self.pay_to),
            max_timeout_seconds=60,
            asset=str(self.mint),
            extra={"feePayer": str(self.fee_payer.pubkey()), **extra},
        )

    def settle(self, transaction: VersionedTransaction):
        """Fee-payer-sign and execute; the LiteSVM result (metadata or failure)."""
        return self.svm.send_transaction(fee_payer_sign(transaction, self.fee_payer))
