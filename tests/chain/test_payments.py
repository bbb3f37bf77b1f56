"""The payment path through solana-py's AsyncClient: what a facilitator and a client do."""

from __future__ import annotations

import base64

import httpx
import pytest
from solana.rpc.async_api import AsyncClient
from solana.rpc.core import RPCException
from solana.rpc.models import TokenAccountOpts, TxOpts
from solders.hash import Hash
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from sandbox.chain import TEST_TOKEN_2022_MINT
from sandbox.protocol import PYUSD_DEVNET_MINT
from sandbox.protocol.networks import DEVNET_GENESIS_HASH
from sandbox.protocol.programs import TOKEN_2022_PROGRAM_ID, associated_token_address

from .conftest import USDC
from .x402_tx import transfer_checked


async def test_airdrop_gives_sol(fast_chain):
    wallet = Keypair().pubkey()
    async with AsyncClient(fast_chain.rpc_url) as client:
        sig = (await client.request_airdrop(wallet, 2_000_000_000)).value
        assert (await client.get_balance(wallet)).value == 2_000_000_000
        status = (await client.get_signature_statuses([sig])).value[0]
        assert status is not None and status.err is None


async def test_devnet_twin_identity_and_usdc_mint(fast_chain):
    async with AsyncClient(fast_chain.rpc_url) as client:
        assert str((await client.get_genesis_hash()).value) == DEVNET_GENESIS_HASH
        mint = (await client.get_account_info_json_parsed(USDC)).value
    assert mint.owner == Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
    info = mint.data.parsed["info"]
    assert mint.data.program == "spl-token" and mint.data.parsed["type"] == "mint"
    assert info["decimals"] == 6 and info["isInitialized"] is True
    assert info["mintAuthority"] == fast_chain.rpc("sandbox_getInfo")["mintAuthority"]


async def test_mint_to_creates_and_funds_token_accounts(fast_chain):
    owner = Keypair().pubkey()
    result = fast_chain.rpc("sandbox_mintTo", str(owner), 1_500_000)
    ata = associated_token_address(owner, USDC)
    assert result == {"tokenAccount": str(ata), "amount": "1500000"}
    assert fast_chain.rpc("sandbox_mintTo", str(owner), 0)["amount"] == "1500000"
    async with AsyncClient(fast_chain.rpc_url) as client:
        balance = (await client.get_token_account_balance(ata)).value
        assert (balance.amount, balance.decimals, balance.ui_amount_string) == ("1500000", 6, "1.5")
        found = (
            await client.get_token_accounts_by_owner_json_parsed(owner, TokenAccountOpts(mint=USDC))
        ).value
    assert [str(item.pubkey) for item in found] == [str(ata)]
    assert found[0].account.data.parsed["info"]["tokenAmount"]["amount"] == "1500000"


async def test_token_2022_test_mint(fast_chain):
    owner = Keypair().pubkey()
    result = fast_chain.rpc("sandbox_mintTo", str(owner), 42, str(TEST_TOKEN_2022_MINT))
    ata = associated_token_address(owner, TEST_TOKEN_2022_MINT, TOKEN_2022_PROGRAM_ID)
    assert result["tokenAccount"] == str(ata)
    async with AsyncClient(fast_chain.rpc_url) as client:
        account = (await client.get_account_info_json_parsed(ata)).value
    assert account.owner == TOKEN_2022_PROGRAM_ID
    assert account.data.program == "spl-token-2022"
    assert account.data.parsed["info"]["tokenAmount"]["amount"] == "42"
    assert {"extension": "immutableOwner"} in account.data.parsed["info"]["extensions"]


def test_the_chain_creates_pyusd_on_token_2022_at_its_devnet_address(fast_chain):
    """PYUSD as the Solana Foundation's vectors pay in it: Token-2022, 6 decimals, devnet mint."""
    mint = fast_chain.rpc("getAccountInfo", PYUSD_DEVNET_MINT, {"encoding": "jsonParsed"})["value"]
    assert mint["owner"] == str(TOKEN_2022_PROGRAM_ID)
    assert mint["data"]["parsed"]["info"]["decimals"] == 6
    assert fast_chain.rpc("sandbox_getInfo")["pyusdMint"] == PYUSD_DEVNET_MINT
    owner = Keypair().pubkey()
    result = fast_chain.rpc("sandbox_mintTo", str(owner), 1_000_000, PYUSD_DEVNET_MINT)
    pyusd = Pubkey.from_string(PYUSD_DEVNET_MINT)
    assert result["tokenAccount"] == str(
        associated_token_address(owner, pyusd, TOKEN_2022_PROGRAM_ID)
    )
    assert result["amount"] == "1000000"


async def test_x402_transfer_with_separate_fee_payer(fast_chain, wallets):
    fee_payer, owner, merchant = wallets
    async with AsyncClient(fast_chain.rpc_url) as client:
        blockhash = (await client.get_latest_blockhash()).value
        tx = transfer_checked(
            owner, fee_payer, USDC, merchant.pubkey(), 10_000, blockhash.blockhash
        )
        simulation = (await client.simulate_transaction(tx, sig_verify=True)).value
        assert simulation.err is None and simulation.units_consumed > 0
        assert any("TokenkegQ" in line for line in simulation.logs)
        sig = (await client.send_transaction(tx, opts=TxOpts(skip_preflight=True))).value
        status = (await client.get_signature_statuses([sig])).value[0]
        assert status.err is None and status.slot > 0
        merchant_ata = associated_token_address(merchant.pubkey(), USDC)
        owner_ata = associated_token_address(owner.pubkey(), USDC)
        assert (await client.get_token_account_balance(merchant_ata)).value.amount == "10000"
        assert (await client.get_token_account_balance(owner_ata)).value.amount == "4990000"
        # The fee payer paid the fee (base 2 signatures + 1 microlamport * 20k units, rounded up).
        assert (await client.get_balance(fee_payer.pubkey())).value == 10**9 - 10_001
        assert (await client.get_balance(owner.pubkey())).value == 0
        found = (await client.get_transaction(sig, max_supported_transaction_version=0)).value
        meta = found.transaction.meta
        assert meta.err is None and meta.fee == 10_001
        post = {b.account_index: b.ui_token_amount.amount for b in meta.post_token_balances}
        assert sorted(post.values()) == ["10000", "4990000"]


async def test_failed_transfer_lands_with_error_when_preflight_skipped(fast_chain, wallets):
    fee_payer, owner, merchant = wallets
    async with AsyncClient(fast_chain.rpc_url) as client:
        blockhash = (await client.get_latest_blockhash()).value.blockhash
        too_much = transfer_checked(owner, fee_payer, USDC, merchant.pubkey(), 10**12, blockhash)
        with pytest.raises(RPCException) as raised:
            await client.send_transaction(too_much)
        assert "custom program error: 0x1" in str(raised.value)
        assert (await client.get_balance(fee_payer.pubkey())).value == 10**9  # no fee charged
        sig = (await client.send_transaction(too_much, opts=TxOpts(skip_preflight=True))).value
        status = (await client.get_signature_statuses([sig])).value[0]
    assert status is not None and status.err is not None  # landed, failed, fee charged


async def test_unknown_blockhash_rejected(fast_chain, wallets):
    fee_payer, owner, merchant = wallets
    tx = transfer_checked(owner, fee_payer, USDC, merchant.pubkey(), 1, Hash.new_unique())
    async with AsyncClient(fast_chain.rpc_url) as client:
        with pytest.raises(RPCException) as raised:
            await client.send_transaction(tx)
        simulation = (await client.simulate_transaction(tx)).value
    assert "Blockhash not found" in str(raised.value)
    assert str(simulation.err).endswith("BlockhashNotFound")


async def test_expired_blockhash_rejected_and_honest_last_valid_height(fast_chain, wallets):
    fee_payer, owner, merchant = wallets
    async with AsyncClient(fast_chain.rpc_url) as client:
        latest = (await client.get_latest_blockhash()).value
        height = (await client.get_block_height()).value
        assert height < latest.last_valid_block_height <= height + 151
        fast_chain.rpc("sandbox_expireBlockhashes")
        assert (await client.get_block_height()).value > latest.last_valid_block_height
        tx = transfer_checked(owner, fee_payer, USDC, merchant.pubkey(), 1, latest.blockhash)
        with pytest.raises(RPCException, match="Blockhash not found"):
            await client.send_transaction(tx)


def _send_body(txs, skip_preflight=True):
    return [
        {
            "jsonrpc": "2.0",
            "id": i,
            "method": "sendTransaction",
            "params": [
                base64.b64encode(bytes(tx)).decode(),
                {"encoding": "base64", "skipPreflight": skip_preflight},
            ],
        }
        for i, tx in enumerate(txs)
    ]


async def test_replay_rejected_even_after_1000_newer_transactions(fast_chain, wallets):
    fee_payer, owner, merchant = wallets
    blockhash = Hash.from_string(fast_chain.rpc("getLatestBlockhash")["value"]["blockhash"])
    first = transfer_checked(owner, fee_payer, USDC, merchant.pubkey(), 1, blockhash)
    newer = [
        transfer_checked(owner, fee_payer, USDC, merchant.pubkey(), 1, blockhash)
        for _ in range(1000)
    ]
    async with httpx.AsyncClient(timeout=60) as http:
        first_answer = (await http.post(fast_chain.rpc_url, json=_send_body([first])[0])).json()
        assert first_answer["result"] == str(first.signatures[0])
        answers = (await http.post(fast_chain.rpc_url, json=_send_body(newer))).json()
        assert len(answers) == 1000 and all("result" in answer for answer in answers)
        replay = (await http.post(fast_chain.rpc_url, json=_send_body([first], False)[0])).json()
    assert replay["error"]["code"] == -32002
    assert replay["error"]["data"]["err"] == "AlreadyProcessed"
    merchant_ata = associated_token_address(merchant.pubkey(), USDC)
    async with AsyncClient(fast_chain.rpc_url) as client:
        # The replay with skipPreflight is answered but never executes a second time.
        await client.send_raw_transaction(bytes(first), opts=TxOpts(skip_preflight=True))
        assert (await client.get_token_account_balance(merchant_ata)).value.amount == "1001"


async def test_batch_request_answers_each_call(fast_chain):
    body = [
        {"jsonrpc": "2.0", "id": 1, "method": "getSlot"},
        {"jsonrpc": "2.0", "id": 2, "method": "getGenesisHash"},
        {"jsonrpc": "2.0", "id": 3, "method": "noSuchMethod"},
        {"jsonrpc": "2.0", "method": "getHealth"},  # a notification: no answer
        {"jsonrpc": "2.0", "id": 4, "method": "getBalance", "params": ["not-a-key"]},
    ]
    async with httpx.AsyncClient() as http:
        answers = (await http.post(fast_chain.rpc_url, json=body)).json()
    by_id = {answer["id"]: answer for answer in answers}
    assert sorted(by_id) == [1, 2, 3, 4]
    assert isinstance(by_id[1]["result"], int)
    assert by_id[2]["result"] == DEVNET_GENESIS_HASH
    assert by_id[3]["error"]["code"] == -32601
    assert by_id[4]["error"]["code"] == -32602 and "`pubkey`" in by_id[4]["error"]["message"]
