"""The devnet twin: test USDC at devnet USDC's address, test PYUSD (Token-2022) at devnet
PYUSD's, a Token-2022 test token, a faucet.

The chain holds one authority keypair: it is the mint authority of the test tokens and the
faucet that pays airdrops and cheat-code transactions. Airdrops and mints are real transactions
(system transfer; create-idempotent associated token account + MintToChecked) executed by
LiteSVM and recorded like any other, so getTransaction and subscriptions see them too.
"""

from __future__ import annotations

import hashlib
import itertools
import os

from solders.account import Account
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.token.state import Mint
from solders.transaction import VersionedTransaction

from sandbox.protocol.networks import PYUSD_DECIMALS, PYUSD_DEVNET_MINT, USDC_DECIMALS
from sandbox.protocol.programs import (
    ASSOCIATED_TOKEN_PROGRAM_ID,
    MEMO_PROGRAM_ID,
    SYSTEM_PROGRAM_ID,
    TOKEN_2022_PROGRAM_ID,
    TOKEN_PROGRAM_ID,
    associated_token_address,
)

from .errors import RpcError
from .producer import BlockProducer, SendOutcome
from .tx_errors import err_message

__all__ = ["TEST_TOKEN_2022_DECIMALS", "TEST_TOKEN_2022_MINT", "DevnetTwin"]

# A fixed address so tests and docs can name the Token-2022 test token.
TEST_TOKEN_2022_MINT = Pubkey(hashlib.sha256(b"x402-sandbox token-2022 test mint").digest())
TEST_TOKEN_2022_DECIMALS = 6
PYUSD_MINT = Pubkey.from_string(PYUSD_DEVNET_MINT)
FAUCET_LAMPORTS = 10**17  # 100 million SOL: enough for any load test
MAX_AIRDROP_LAMPORTS = 10**15


class DevnetTwin:
    def __init__(
        self, producer: BlockProducer, usdc_mint: Pubkey, authority: Keypair | None = None
    ):
        self.producer = producer
        self.usdc_mint = usdc_mint
        self.token2022_mint = TEST_TOKEN_2022_MINT
        self.authority = authority or Keypair()
        self._nonce = itertools.count()
        self._salt = os.urandom(4).hex()

    @property
    def mints(self) -> dict[Pubkey, Pubkey]:
        """Test mint -> its token program."""
        return {
            self.usdc_mint: TOKEN_PROGRAM_ID,
            self.token2022_mint: TOKEN_2022_PROGRAM_ID,
            PYUSD_MINT: TOKEN_2022_PROGRAM_ID,
        }

    def install(self) -> None:
        """Create (or top up) the faucet and create the test mints where they are missing."""
        producer = self.producer
        faucet = producer.get_account(self.authority.pubkey())
        if faucet is None or faucet.lamports < FAUCET_LAMPORTS // 2:
            producer.set_account(
                self.authority.pubkey(),
                Account(lamports=FAUCET_LAMPORTS, data=b"", owner=SYSTEM_PROGRAM_ID),
            )
        rent = producer.svm.minimum_balance_for_rent_exemption(82)
        for mint, program in self.mints.items():
            if producer.get_account(mint) is None:
                decimals = {self.usdc_mint: USDC_DECIMALS, PYUSD_MINT: PYUSD_DECIMALS}.get(
                    mint, TEST_TOKEN_2022_DECIMALS
                )
                data = bytes(Mint(self.authority.pubkey(), 0, decimals, True, None))
                producer.set_account(mint, Account(lamports=rent, data=data, owner=program))

    def _memo(self) -> Instruction:
        # Makes every chain-made transaction unique, so equal requests get distinct signatures.
        text = f"x402-sandbox {self._salt} {next(self._nonce)}".encode()
        return Instruction(MEMO_PROGRAM_ID, text, [])

    def _run(self, instructions: list[Instruction], what: str, param: str) -> SendOutcome:
        """Run a funding transaction; its failure comes of the client's params (an account that
        cannot take lamports, a balance or supply past u64): -32602 naming `param`."""
        payer = self.authority
        message = MessageV0.try_compile(
            payer.pubkey(), [*instructions, self._memo()], [], self.producer.blockhash
        )
        # Funding is a cheat: tools that fund a wallet and read it back must not wait for
        # finalization, so its writes show at every commitment at once.
        outcome = self.producer.execute(
            VersionedTransaction(message, [payer]), preflight=True, cheat=True
        )
        if outcome.err is not None:
            logs = outcome.meta.logs() if outcome.meta is not None else []
            raise RpcError.invalid_params(
                f"`{param}`: {what} failed: {err_message(outcome.err)}; logs: {logs[-3:]}"
            )
        return outcome

    def airdrop(self, to: Pubkey, lamports: int) -> SendOutcome:
        if lamports > MAX_AIRDROP_LAMPORTS:
            raise RpcError.invalid_params(f"`lamports` at most {MAX_AIRDROP_LAMPORTS} per airdrop")
        self.install()  # tops the faucet up when a load test drained it
        current = self.producer.get_account(to)
        held = current.lamports if current is not None else 0
        rent = self.producer.svm.minimum_balance_for_rent_exemption(0)
        if held + lamports < rent:
            raise RpcError.invalid_params(
                f"`lamports`: {lamports} leaves {to} under the rent-exempt minimum of {rent}"
            )
        if held + lamports >= 2**64:
            raise RpcError.invalid_params("`lamports`: the balance would pass a u64")
        ix = transfer(
            TransferParams(from_pubkey=self.authority.pubkey(), to_pubkey=to, lamports=lamports)
        )
        return self._run([ix], "airdrop", "pubkey")

    def token_program_of(self, mint: Pubkey) -> Pubkey:
        account = self.producer.get_account(mint)
        if account is None or account.owner not in (TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID):
            raise RpcError.invalid_params(f"`mint` {mint} is not a token mint on this chain")
        return account.owner

    def mint_to(self, owner: Pubkey, amount: int, mint: Pubkey) -> tuple[Pubkey, int]:
        """Create owner's associated token account if missing and mint `amount` into it."""
        program = self.token_program_of(mint)
        data = bytes(self.producer.get_account(mint).data)
        mint_state = Mint.from_bytes(data[:82])
        if mint_state.mint_authority != self.authority.pubkey():
            raise RpcError.invalid_params(f"`mint` {mint}: the sandbox does not hold its authority")
        ata = associated_token_address(owner, mint, program)
        payer = self.authority.pubkey()
        create = Instruction(
            ASSOCIATED_TOKEN_PROGRAM_ID,
            bytes([1]),  # CreateIdempotent
            [
                AccountMeta(payer, True, True),
                AccountMeta(ata, False, True),
                AccountMeta(owner, False, False),
                AccountMeta(mint, False, False),
                AccountMeta(SYSTEM_PROGRAM_ID, False, False),
                AccountMeta(program, False, False),
            ],
        )
        instructions = [create]
        if amount > 0:
            instructions.append(
                Instruction(
                    program,
                    bytes([14]) + amount.to_bytes(8, "little") + bytes([mint_state.decimals]),
                    [
                        AccountMeta(mint, False, True),
                        AccountMeta(ata, False, True),
                        AccountMeta(payer, True, False),
                    ],
                )
            )
        if mint_state.supply + amount >= 2**64:
            raise RpcError.invalid_params("`amount`: the mint's supply would pass a u64")
        self._run(instructions, "mintTo", "owner")
        balance = int.from_bytes(bytes(self.producer.get_account(ata).data)[64:72], "little")
        return ata, balance
