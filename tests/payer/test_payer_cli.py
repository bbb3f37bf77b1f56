"""`python -m sandbox.payer URL`: the steps it prints, and clear errors naming the flag to use."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
from pathlib import Path

import pytest
from payer_fake_server import FakePaidServer
from solders.signature import Signature

from sandbox.payer import save_keypair
from sandbox.payer.cli import main
from sandbox.processes import free_port


async def run_cli(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    code = await asyncio.to_thread(main, argv, out)  # main runs its own event loop
    return code, out.getvalue()


@pytest.fixture
def keypair_file(paywall: FakePaidServer, tmp_path: Path) -> Path:
    return save_keypair(paywall.ledger.owner, tmp_path / "payer.json")


async def test_pays_and_prints_each_step(paywall: FakePaidServer, keypair_file: Path) -> None:
    code, out = await run_cli(
        [f"{paywall.url}/paid", "--keypair", str(keypair_file), "--rpc-url", paywall.rpc_url]
    )
    assert code == 0, out
    assert "<- 402 Payment Required: x402 v2 challenge in the PAYMENT-REQUIRED header" in out
    assert "offer 1: exact on solana:EtWT" in out
    assert f"-> payment of 0.01 USDC (10000 atomic) from {paywall.ledger.owner.pubkey()}" in out
    assert "sent as PAYMENT-SIGNATURE" in out
    assert "receipt: settled" in out
    signature = out.split("transaction signature: ")[1].split()[0]
    assert paywall.ledger.svm.get_transaction(Signature.from_string(signature)) is not None
    assert paywall.ledger.balance(paywall.ledger.pay_to) == 10_000


async def test_v1_and_verbose(paywall: FakePaidServer, keypair_file: Path) -> None:
    code, out = await run_cli(
        [
            f"{paywall.url}/paid",
            "--keypair",
            str(keypair_file),
            "--rpc-url",
            paywall.rpc_url,
            "--x402-version",
            "1",
            "-v",
        ]
    )
    assert code == 0, out
    assert "x402 v1 challenge in the JSON body" in out
    assert "sent as X-PAYMENT" in out
    assert '"maxAmountRequired": "10000"' in out  # -v prints the decoded challenge
    assert '"transaction":' in out


async def test_keypair_from_environment(
    paywall: FakePaidServer, keypair_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("X402_SANDBOX_PAYER_KEYPAIR", str(keypair_file))
    monkeypatch.setenv("X402_SANDBOX_RPC_URL", paywall.rpc_url)
    code, out = await run_cli([f"{paywall.url}/paid"])
    assert code == 0, out


async def test_price_above_max_says_which_flag(
    paywall: FakePaidServer, keypair_file: Path, capsys: pytest.CaptureFixture
) -> None:
    code, out = await run_cli(
        [
            f"{paywall.url}/paid",
            "--keypair",
            str(keypair_file),
            "--rpc-url",
            paywall.rpc_url,
            "--max-amount",
            "0.005",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "price 0.01 is above the maximum 0.005" in err
    assert "hint: pass --max-amount 0.01 (or more)" in err
    assert "offer 1 (v2): refused" in out
    assert paywall.payments == []


async def test_missing_keypair(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code, _ = await run_cli(["http://127.0.0.1:1/paid", "--keypair", str(tmp_path / "no.json")])
    err = capsys.readouterr().err
    assert code == 1
    assert "keypair file" in err and "does not exist" in err
    assert "--keypair FILE" in err and "X402_SANDBOX_PAYER_KEYPAIR" in err
    assert "Traceback" not in err


async def test_bad_keypair_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2, 3]")
    code, _ = await run_cli(["http://127.0.0.1:1/paid", "--keypair", str(bad)])
    assert code == 1 and "not a Solana CLI keypair" in capsys.readouterr().err


async def test_unreachable_url(keypair_file: Path, capsys: pytest.CaptureFixture) -> None:
    url = f"http://127.0.0.1:{free_port()}/paid"
    code, _ = await run_cli([url, "--keypair", str(keypair_file)])
    err = capsys.readouterr().err
    assert code == 1
    assert f"cannot reach {url}" in err and "is the paid server running?" in err


async def test_unreachable_rpc(
    paywall: FakePaidServer, keypair_file: Path, capsys: pytest.CaptureFixture
) -> None:
    rpc = f"http://127.0.0.1:{free_port()}"
    code, _ = await run_cli(
        [f"{paywall.url}/paid", "--keypair", str(keypair_file), "--rpc-url", rpc]
    )
    err = capsys.readouterr().err
    assert code == 1 and f"cannot reach the chain's JSON-RPC at {rpc}" in err
    assert "--rpc-url URL" in err


async def test_free_route(paywall: FakePaidServer, keypair_file: Path) -> None:
    code, out = await run_cli([f"{paywall.url}/free", "--keypair", str(keypair_file)])
    assert code == 0 and "200 without asking for payment" in out


def test_bad_max_amount_is_a_usage_error(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as info:
        main(["http://127.0.0.1:1/", "--max-amount", "lots"])
    assert info.value.code == 2
    assert "--max-amount: price 'lots' is not a number" in capsys.readouterr().err


def test_module_entry_point_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sandbox.payer",
            "http://127.0.0.1:1/",
            "--keypair",
            str(tmp_path / "missing.json"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr


def test_the_payment_line_names_the_stablecoin_it_is_made_in() -> None:
    from sandbox.payer.cli import _asset_name
    from sandbox.protocol import PYUSD_DEVNET_MINT, USDC_DEVNET_MINT

    assert _asset_name(USDC_DEVNET_MINT) == "USDC"
    assert _asset_name(PYUSD_DEVNET_MINT) == "PYUSD"
    assert _asset_name("So11111111111111111111111111111111111111112") == "So11..1112"
