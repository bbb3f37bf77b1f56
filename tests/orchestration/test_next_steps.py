"""The commands `up` prints to try next reach the stack it started, whatever its home and ports.

Each printed `make` command is expanded by the real Makefile (`make -n`), so the test checks the
command line the user's shell and make would actually run.
"""

from __future__ import annotations

import io
import shlex
from pathlib import Path

from make_commands import make_runs
from rich.console import Console

from sandbox.orchestration.stack import StackInfo
from sandbox.orchestration.summary import next_steps, print_up
from sandbox.orchestration.wallets import Wallet


def stack(home: Path, rpc_port: int = 8899, server_port: int = 4021) -> StackInfo:
    return StackInfo(
        home=str(home),
        rpc_url=f"http://127.0.0.1:{rpc_port}",
        ws_url=f"ws://127.0.0.1:{rpc_port + 1}",
        facilitator_url="http://127.0.0.1:4022",
        server_url=f"http://127.0.0.1:{server_port}",
        network="solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1",
        network_v1="solana-devnet",
        usdc_mint="4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU",
        pids={},
        wallets=[Wallet("payer-0", "addr", str(home / "keys" / "payer-0.json"))],
    )


def commands(info: StackInfo, default_home: Path) -> dict[str, str]:
    """First word after `make` (or `curl`) -> the printed command."""
    out = {}
    for command, _ in next_steps(info, default_home=default_home):
        words = shlex.split(command)
        out[words[1] if words[0] == "make" else words[0]] = command
    return out


def test_the_default_stack_gets_the_bare_targets(tmp_path: Path) -> None:
    home = tmp_path / ".sandbox"
    got = commands(stack(home), default_home=home)
    assert got["curl"] == "curl -i http://127.0.0.1:4021/api/premium-content"
    assert got["pay"] == "make pay"
    assert got["scenarios"] == "make scenarios"
    assert got["loadtest"] == "make loadtest"
    assert got["status"] == "make status | make logs | make down"


def test_another_home_and_ports_get_flags_that_reach_that_stack(tmp_path: Path) -> None:
    home = tmp_path / "my stack"  # a space, to be quoted for the shell and for make
    keypair = str(home / "keys" / "payer-0.json")
    got = commands(stack(home, rpc_port=9899, server_port=5021), default_home=tmp_path / "x")
    assert make_runs(got["pay"]) == [
        "pay", "http://127.0.0.1:5021/api/premium-content",
        "--keypair", keypair, "--rpc-url", "http://127.0.0.1:9899",
    ]  # fmt: skip
    assert make_runs(got["scenarios"]) == ["scenarios", "--home", str(home)]
    assert make_runs(got["loadtest"])[-2:] == ["--home", str(home)]
    assert make_runs(got["status"]) == ["status", "--home", str(home)]
    assert got["curl"] == "curl -i http://127.0.0.1:5021/api/premium-content"


def test_default_home_on_other_ports_names_only_the_urls(tmp_path: Path) -> None:
    home = tmp_path / ".sandbox"
    got = commands(stack(home, rpc_port=9899, server_port=5021), default_home=home)
    assert make_runs(got["pay"]) == [
        "pay", "http://127.0.0.1:5021/api/premium-content", "--rpc-url", "http://127.0.0.1:9899",
    ]  # fmt: skip
    assert got["scenarios"] == "make scenarios"


def test_a_home_with_shell_characters_survives_both_shells(tmp_path: Path) -> None:
    home = tmp_path / "it's [here]"
    got = commands(stack(home), default_home=tmp_path / "x")
    assert make_runs(got["status"]) == ["status", "--home", str(home)]
    assert make_runs(got["pay"])[2:4] == ["--keypair", str(home / "keys" / "payer-0.json")]


def test_up_prints_the_commands_whole_in_a_narrow_terminal(tmp_path: Path) -> None:
    home = tmp_path / "a rather long home folder name" / "[with brackets]"
    info = stack(home, rpc_port=9899, server_port=5021)
    text = io.StringIO()
    print_up(Console(file=text, width=60, color_system=None), info)
    printed = text.getvalue()
    for command, _ in next_steps(info):
        assert command in printed  # not wrapped, not eaten as markup
