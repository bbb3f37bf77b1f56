"""The whole local stack: start chain, facilitator and server, fund wallets, record what runs.

Everything lives under one home folder (`.sandbox/` by default):

    keys/        merchant.json, fee-payer-N.json, payer-N.json   (Solana CLI JSON, mode 0600)
    chain/       state.json                                      (accounts, kept across down/up)
    facilitator/ ledger.sqlite3                                  (exactly-once settlement ledger)
    admin-token  the token every admin request and cheat code carries (mode 0600, made once)
    server/      memo-secret    (binds each 402 to its route; kept, so a 402 issued before
                                 `down` is still payable after `up`, and its replay still refused
                                 by the ledger rather than as an unknown memo)
                 payments.sqlite3 (payments being settled and served: one the facilitator
                                 settled while the server crashed is served once on resend)
    logs/        chain.log, facilitator.log, server.log, dashboard.log
    stack.json   URLs, network, mint, wallets, pids and each process's start time and command
                 line (what `down` stops: a pid reused by another program is left alone)
    stack.env    the same as X402_SANDBOX_* variables, for `source`, with the admin token (0600)
    reports/     load-test and benchmark reports
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from sandbox.orchestration.home import (
    StackPaths,
    admin_token_for_run,
    memo_secret,
    read_admin_token,
    write_secret,
)
from sandbox.orchestration.rpc import ChainRpc, RpcError
from sandbox.orchestration.wallets import Wallet, fund_wallets, load_or_create
from sandbox.processes import (
    ManagedProcess,
    ProcessFailed,
    pid_alive,
    pid_reused,
    port_is_free,
    process_identity,
    stop_pid,
)

Progress = Callable[[str], None]


class StackError(RuntimeError):
    """Something the user can act on: the message says what happened and what to do."""


@dataclass(frozen=True)
class StackConfig:
    home: Path = Path(".sandbox")
    host: str = "127.0.0.1"
    rpc_port: int = 8899
    facilitator_port: int = 4022
    server_port: int = 4021
    dashboard_port: int = 0  # 0: no dashboard (`up` asks for one on 4020)
    slot_ms: int = 400
    usdc_mint: str | None = None
    payers: int = 10
    payer_sol: float = 1.0
    payer_usdc: float = 100.0
    fee_payers: int = 1
    fee_payer_sol: float = 100.0
    fresh: bool = False
    admin_token: str | None = None  # None: the home's own, made once (admin-token)
    require_admin_token: bool = False  # the token even from loopback, on chain and facilitator
    # Chain faults (sandbox_setFaults names) switched on once the wallets are funded.
    chain_faults: tuple[tuple[str, float], ...] = ()
    chain_args: tuple[str, ...] = ()
    facilitator_args: tuple[str, ...] = ()
    server_args: tuple[str, ...] = ()
    route_binding: str = "memo"  # the server's --route-binding: memo, or none (no extra.memo)

    @property
    def ws_port(self) -> int:
        return self.rpc_port + 1


WALLET_FLAGS = ("payers", "payer_sol", "payer_usdc", "fee_payers", "fee_payer_sol")


def add_wallet_flags(parser: argparse.ArgumentParser) -> None:
    """`up`'s wallet flags and defaults, for the argparse tools that fund or preload the same
    wallets (the compose `setup` service, the agave genesis writer)."""
    defaults = StackConfig()
    for name in WALLET_FLAGS:
        kind = int if name in ("payers", "fee_payers") else float
        flag = "--" + name.replace("_", "-")
        parser.add_argument(flag, type=kind, default=getattr(defaults, name))


def wallet_config(args: argparse.Namespace, home: Path) -> StackConfig:
    """A StackConfig carrying the wallet flags parsed by add_wallet_flags."""
    return StackConfig(home=home, **{name: getattr(args, name) for name in WALLET_FLAGS})


@dataclass
class StackInfo:
    home: str
    rpc_url: str
    ws_url: str
    facilitator_url: str
    server_url: str
    network: str
    network_v1: str
    usdc_mint: str
    pids: dict[str, int]
    wallets: list[Wallet] = field(default_factory=list)
    started_at: float = 0.0
    ready_seconds: float = 0.0
    # name -> {"pid", "start_time", "cmdline"}; absent in stack.json files of older versions.
    processes: dict[str, dict[str, Any]] = field(default_factory=dict)
    dashboard_url: str = ""  # "" when started without one (or by an older version)

    def identity(self, name: str) -> dict[str, Any] | None:
        """The recorded identity of component `name`, if it is for its recorded pid."""
        identity = self.processes.get(name)
        if identity and identity.get("pid") == self.pids.get(name):
            return identity
        return None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StackInfo:
        wallets = [Wallet(**w) for w in data.get("wallets", [])]
        return cls(**{**data, "wallets": wallets})

    def wallet(self, name: str) -> Wallet:
        for wallet in self.wallets:
            if wallet.name == name:
                return wallet
        raise KeyError(name)

    def env(self) -> dict[str, str]:
        payer = next((w for w in self.wallets if w.name == "payer-0"), None)
        merchant = next((w for w in self.wallets if w.name == "merchant"), None)
        values = {
            "X402_SANDBOX_HOME": self.home,
            "X402_SANDBOX_RPC_URL": self.rpc_url,
            "X402_SANDBOX_WS_URL": self.ws_url,
            "X402_SANDBOX_FACILITATOR_URL": self.facilitator_url,
            "X402_SANDBOX_SERVER_URL": self.server_url,
            "X402_SANDBOX_NETWORK": self.network,
            "X402_SANDBOX_USDC_MINT": self.usdc_mint,
        }
        if self.dashboard_url:
            values["X402_SANDBOX_DASHBOARD_URL"] = self.dashboard_url
        if payer:
            values["X402_SANDBOX_PAYER_KEYPAIR"] = payer.keypair_file
        if merchant:
            values["X402_SANDBOX_MERCHANT"] = merchant.address
        return values


def read_stack(paths: StackPaths) -> StackInfo | None:
    try:
        return StackInfo.from_json(json.loads(paths.stack_json.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def running_pids(info: StackInfo | None) -> dict[str, int]:
    """The recorded components still running: same pid, same start time, same command line."""
    if info is None:
        return {}
    return {name: pid for name, pid in info.pids.items() if pid_alive(pid, info.identity(name))}


def reused_pids(info: StackInfo | None) -> dict[str, int]:
    """Recorded pids now held by other programs (ours died: a crash, a reboot)."""
    if info is None:
        return {}
    return {name: pid for name, pid in info.pids.items() if pid_reused(pid, info.identity(name))}


def _write_stack(paths: StackPaths, info: StackInfo) -> None:
    paths.stack_json.write_text(json.dumps(info.to_json(), indent=2) + "\n")
    values = info.env()
    token = read_admin_token(paths)
    if token:
        values["X402_SANDBOX_ADMIN_TOKEN"] = token
    lines = [f"export {key}={value}" for key, value in values.items()]
    write_secret(paths.stack_env, "\n".join(lines) + "\n")


def purge(paths: StackPaths) -> None:
    """Forget wallets, chain state, ledger and logs (reports are kept)."""
    for child in ("keys", "chain", "facilitator", "server", "logs", "stack.json", "stack.env"):
        target = paths.home / child
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


def _check_ports(config: StackConfig) -> None:
    wanted = {
        "chain JSON-RPC": config.rpc_port,
        "chain PubSub": config.ws_port,
        "facilitator": config.facilitator_port,
        "server": config.server_port,
    }
    if config.dashboard_port:
        wanted["dashboard"] = config.dashboard_port
    for what, port in wanted.items():
        if not port_is_free(port, config.host):
            raise StackError(
                f"port {port} ({what}) is already in use by another program on {config.host}. "
                f"Stop it, or choose another port (see `x402-sandbox up --help`)."
            )


def start_stack(config: StackConfig, progress: Progress = lambda _msg: None) -> StackInfo:
    """Start everything and return once every component answers its health check."""
    paths = StackPaths(config.home)
    started = time.monotonic()
    running = running_pids(read_stack(paths))
    if running:
        names = ", ".join(f"{n} (pid {p})" for n, p in running.items())
        raise StackError(
            f"the sandbox is already running from {paths.home}: {names}. "
            f"Use `x402-sandbox status`, or `x402-sandbox down` first."
        )
    if config.fresh:
        purge(paths)
    _check_ports(config)
    for folder in (paths.keys, paths.logs, paths.chain_state.parent, paths.ledger.parent):
        folder.mkdir(parents=True, exist_ok=True)

    wallet_names = (
        ["merchant"]
        + [f"fee-payer-{i}" for i in range(config.fee_payers)]
        + [f"payer-{i}" for i in range(config.payers)]
    )
    keypairs = {name: load_or_create(paths.key(name))[0] for name in wallet_names}
    merchant = str(keypairs["merchant"].pubkey())
    try:
        token = admin_token_for_run(
            paths, config.admin_token, config.chain_args, config.facilitator_args
        )
    except ValueError as exc:
        raise StackError(str(exc)) from None
    # In the environment, not argv: argv is world-readable (ps) and kept in stack.json.
    strict = ["--require-admin-token"] if config.require_admin_token else []

    host = config.host
    rpc_url = f"http://{host}:{config.rpc_port}"
    chain_args = [
        "--host", host, "--port", str(config.rpc_port), "--ws-port", str(config.ws_port),
        "--slot-ms", str(config.slot_ms), "--state", str(paths.chain_state),
    ]  # fmt: skip
    if config.usdc_mint:
        chain_args += ["--usdc-mint", config.usdc_mint]
    chain = ManagedProcess(
        "chain", "sandbox.chain", chain_args + strict + list(config.chain_args),
        f"{rpc_url}/health", paths.log("chain"), env={"X402_SANDBOX_CHAIN_ADMIN_TOKEN": token},
    )  # fmt: skip
    processes = [chain]
    try:
        progress(f"starting chain on {rpc_url}")
        chain.start().wait_healthy(timeout=30)
        rpc = ChainRpc(rpc_url, admin_token=token)
        chain_info = rpc.call("sandbox_getInfo")
        usdc_mint = chain_info["usdcMint"]

        facilitator_url = f"http://{host}:{config.facilitator_port}"
        facilitator_args = [
            "--host", host, "--port", str(config.facilitator_port), "--rpc-url", rpc_url,
            "--ws-url", f"ws://{host}:{config.ws_port}", "--ledger", str(paths.ledger),
        ]  # fmt: skip
        for i in range(config.fee_payers):
            facilitator_args += ["--fee-payer-keypair", str(paths.key(f"fee-payer-{i}"))]
        facilitator = ManagedProcess(
            "facilitator", "sandbox.facilitator",
            facilitator_args + strict + list(config.facilitator_args),
            f"{facilitator_url}/health", paths.log("facilitator"),
            env={"X402_SANDBOX_FACILITATOR_ADMIN_TOKEN": token},
        )  # fmt: skip
        server_url = f"http://{host}:{config.server_port}"
        server_args = [
            "--host", host, "--port", str(config.server_port),
            "--facilitator-url", facilitator_url, "--pay-to", merchant, "--usdc-mint", usdc_mint,
            "--rpc-url", rpc_url, "--payment-record", str(paths.payment_record),
            "--route-binding", config.route_binding,
        ]  # fmt: skip
        server = ManagedProcess(
            "server", "sandbox.server", server_args + list(config.server_args),
            f"{server_url}/health", paths.log("server"),
            env={"X402_SANDBOX_SERVER_MEMO_SECRET": memo_secret(paths)},
        )  # fmt: skip
        # Facilitator and server boot while the wallets are funded.
        progress("starting facilitator and server")
        facilitator.start()
        processes.append(facilitator)
        server.start()
        processes.append(server)

        progress(f"funding {len(wallet_names)} wallets")
        wallets = fund_wallets(rpc, config, keypairs, paths, usdc_mint)

        progress(f"waiting for the facilitator on {facilitator_url}")
        facilitator.wait_healthy(timeout=30)
        progress(f"waiting for the paid server on {server_url}")
        server.wait_healthy(timeout=30)
        dashboard_url = ""
        if config.dashboard_port:
            dashboard = _dashboard(config, paths, token, rpc_url, facilitator_url, server_url,
                                   usdc_mint, wallets)  # fmt: skip
            dashboard_url = dashboard.health_url.removesuffix("/health")
            progress(f"starting the dashboard on {dashboard_url}")
            dashboard.start()
            processes.append(dashboard)
            dashboard.wait_healthy(timeout=30)
        if config.chain_faults:  # only now: funding and startup must not meet them
            progress("switching on the chain faults")
            rpc.call("sandbox_setFaults", dict(config.chain_faults))
        rpc.close()
    except BaseException as exc:
        for process in reversed(processes):
            process.stop()
        if isinstance(exc, ProcessFailed):
            raise StackError(str(exc)) from None
        if isinstance(exc, RpcError | httpx.HTTPError):
            raise StackError(
                f"setting up the chain failed: {exc}. Chain faults given with --chain-arg "
                "hit the setup too; use up's --chain-fault-* flags, which start after it."
            ) from None
        raise

    genesis_network = chain_info.get("network", "")
    info = StackInfo(
        home=str(paths.home),
        rpc_url=rpc_url,
        ws_url=f"ws://{host}:{config.ws_port}",
        facilitator_url=facilitator_url,
        server_url=server_url,
        network=genesis_network,
        network_v1=_v1_name(genesis_network),
        usdc_mint=usdc_mint,
        pids={p.name: p.pid for p in processes if p.pid},
        processes={p.name: process_identity(p.pid) for p in processes if p.pid},
        wallets=wallets,
        started_at=time.time(),
        ready_seconds=round(time.monotonic() - started, 2),
        dashboard_url=dashboard_url,
    )
    _write_stack(paths, info)
    return info


def _dashboard(config, paths, token, rpc_url, facilitator_url, server_url, usdc_mint, wallets):
    """The dashboard process: it shows these wallets and forwards fault changes with the token."""
    args = [
        "--host", config.host, "--port", str(config.dashboard_port), "--rpc-url", rpc_url,
        "--facilitator-url", facilitator_url, "--server-url", server_url, "--usdc-mint", usdc_mint,
    ]  # fmt: skip
    for wallet in wallets:
        args += ["--wallet", f"{wallet.name}={wallet.address}"]
    return ManagedProcess(
        "dashboard", "sandbox.dashboard", args,
        f"http://{config.host}:{config.dashboard_port}/health", paths.log("dashboard"),
        env={"X402_SANDBOX_DASHBOARD_ADMIN_TOKEN": token},
    )  # fmt: skip


def _v1_name(network: str) -> str:
    from sandbox.protocol.networks import CAIP2_TO_V1

    return CAIP2_TO_V1.get(network, network)


STOPPED, NOT_RUNNING, NOT_OURS = "stopped", "not running", "not ours"


def stop_stack(home: Path, purge_state: bool = False) -> dict[str, str]:
    """Stop exactly the recorded processes, server first so no request is half-served.

    Returns name -> STOPPED, NOT_RUNNING, or NOT_OURS (its pid now runs another program, which
    is left alone).
    """
    paths = StackPaths(home)
    info = read_stack(paths)
    stopped: dict[str, str] = {}
    if info is not None:
        for name in ("dashboard", "server", "facilitator", "chain"):
            pid = info.pids.get(name)
            if not pid:
                continue
            identity = info.identity(name)
            if stop_pid(pid, timeout=10, identity=identity):
                stopped[name] = STOPPED
            elif pid_reused(pid, identity):
                stopped[name] = NOT_OURS
            else:
                stopped[name] = NOT_RUNNING
        info.pids = {}
        info.processes = {}
        _write_stack(paths, info)
    if purge_state:
        purge(paths)
    return stopped
