"""The compose stack's one-shot `setup` service: wallets into the shared `home` volume.

Creates (or reuses) the merchant, fee-payer and payer keypairs in Solana CLI JSON format under
HOME/keys, funds the new ones over JSON-RPC (requestAirdrop, sandbox_mintTo), creates the
merchant's USDC account, and writes HOME/stack.json and HOME/stack.env in the same layout as
`x402-sandbox up`, with the URLs as seen inside the compose network. Wallets kept in the volume
from a previous run keep their balances (the chain keeps its state in its own volume).

Exit status 0 when every wallet is funded; 1 with a one-line reason otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from sandbox.orchestration.rpc import ChainRpc, RpcError
from sandbox.orchestration.stack import StackConfig, StackInfo, StackPaths, fund_wallets
from sandbox.orchestration.wallets import load_or_create
from sandbox.protocol.networks import CAIP2_TO_V1


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path("/sandbox"))
    parser.add_argument("--rpc-url", default="http://chain:8899")
    parser.add_argument("--ws-url", default="ws://chain:8900")
    parser.add_argument("--facilitator-url", default="http://facilitator:4022")
    parser.add_argument("--server-url", default="http://server:4021")
    parser.add_argument("--payers", type=int, default=10)
    parser.add_argument("--payer-sol", type=float, default=1.0)
    parser.add_argument("--payer-usdc", type=float, default=100.0)
    parser.add_argument("--fee-payers", type=int, default=1)
    parser.add_argument("--fee-payer-sol", type=float, default=100.0)
    parser.add_argument(
        "--admin-token",
        default=os.environ.get("X402_ADMIN_TOKEN"),
        help="sent with every request, for the chain's cheat codes (default: $X402_ADMIN_TOKEN)",
    )
    parser.add_argument("--wait", type=float, default=60.0, help="seconds to wait for the chain")
    args = parser.parse_args(argv)
    if args.payers < 1 or args.fee_payers < 1:
        parser.error("--payers and --fee-payers must be at least 1")
    return args


def wait_for_chain(rpc_url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"{rpc_url}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"setup: the chain at {rpc_url} did not answer /health in {seconds}s")
        time.sleep(0.5)


def setup(args: argparse.Namespace) -> StackInfo:
    config = StackConfig(
        home=args.home,
        payers=args.payers,
        payer_sol=args.payer_sol,
        payer_usdc=args.payer_usdc,
        fee_payers=args.fee_payers,
        fee_payer_sol=args.fee_payer_sol,
    )
    paths = StackPaths(args.home)
    paths.keys.mkdir(parents=True, exist_ok=True)
    names = (
        ["merchant"]
        + [f"fee-payer-{i}" for i in range(args.fee_payers)]
        + [f"payer-{i}" for i in range(args.payers)]
    )
    keypairs = {name: load_or_create(paths.key(name))[0] for name in names}

    rpc = ChainRpc(args.rpc_url)
    if args.admin_token:
        # The chain answers cheat codes from outside its loopback only with the token.
        rpc._client.headers["Authorization"] = f"Bearer {args.admin_token}"
    try:
        chain_info = rpc.call("sandbox_getInfo")
        usdc_mint = chain_info["usdcMint"]
        wallets = fund_wallets(rpc, config, keypairs, paths, usdc_mint)
    finally:
        rpc.close()
    network = chain_info.get("network", "")
    info = StackInfo(
        home=str(paths.home),
        rpc_url=args.rpc_url,
        ws_url=args.ws_url,
        facilitator_url=args.facilitator_url,
        server_url=args.server_url,
        network=network,
        network_v1=CAIP2_TO_V1.get(network, network),
        usdc_mint=usdc_mint,
        pids={},
        wallets=wallets,
        started_at=time.time(),
    )
    write_stack(paths, info)
    return info


def write_stack(paths: StackPaths, info: StackInfo) -> None:
    """stack.json and stack.env, as `x402-sandbox up` writes them (the server sources the env)."""
    paths.stack_json.write_text(json.dumps(info.to_json(), indent=2) + "\n")
    lines = [f"export {key}={value}" for key, value in info.env().items()]
    paths.stack_env.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    wait_for_chain(args.rpc_url, args.wait)
    try:
        info = setup(args)
    except RpcError as exc:
        print(f"setup: the chain refused a funding call: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"setup: {exc}", file=sys.stderr)
        return 1
    unfunded = [w.name for w in info.wallets if w.name.startswith("payer") and not w.usdc]
    if unfunded:
        print(f"setup: payers without USDC after funding: {', '.join(unfunded)}", file=sys.stderr)
        return 1
    print(json.dumps({w.name: w.address for w in info.wallets}, indent=2))
    print(f"setup: {len(info.wallets)} wallets ready in {info.home} (USDC mint {info.usdc_mint})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
