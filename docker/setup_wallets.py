"""The compose stack's one-shot `setup` service: wallets into the shared `home` volume.

Creates (or reuses) the merchant, fee-payer and payer keypairs in Solana CLI JSON format under
HOME/keys, funds the new ones over JSON-RPC (requestAirdrop, sandbox_mintTo), creates the
merchant's USDC account, and writes HOME/stack.json and HOME/stack.env in the same layout as
`x402-sandbox up`, with the URLs as seen inside the compose network. Wallets kept in the volume
from a previous run keep their balances (the chain keeps its state in its own volume).

A chain without cheat codes (solana-test-validator under the `agave` profile; sandbox_getInfo
answers -32601) cannot fund anything: the wallets must have been preloaded at genesis
(`python -m sandbox.orchestration.agave`, the `agave-genesis` service). Setup then only reads
the balances back and writes stack.json / stack.env.

Exit status 0 when every payer holds USDC and the merchant has its USDC account; 1 with a
one-line reason otherwise (stack.json / stack.env are written either way).
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

from solders.pubkey import Pubkey

from sandbox.orchestration.rpc import ChainRpc, RpcError
from sandbox.orchestration.stack import (
    StackInfo,
    StackPaths,
    add_wallet_flags,
    wallet_config,
)
from sandbox.orchestration.wallets import fund_wallets, load_or_create, read_wallets
from sandbox.protocol import associated_token_address
from sandbox.protocol.networks import CAIP2_TO_V1, USDC_DEVNET_MINT, caip2_from_genesis_hash
from sandbox.protocol.programs import TOKEN_PROGRAM_ID

METHOD_NOT_FOUND = -32601


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path("/sandbox"))
    parser.add_argument("--rpc-url", default="http://chain:8899")
    parser.add_argument("--ws-url", default="ws://chain:8900")
    parser.add_argument("--facilitator-url", default="http://facilitator:4022")
    parser.add_argument("--server-url", default="http://server:4021")
    # Wallet defaults are `x402-sandbox up`'s (and the agave genesis writer's).
    add_wallet_flags(parser)
    parser.add_argument(
        "--usdc-mint",
        default=USDC_DEVNET_MINT,
        help="the USDC mint on a chain without cheat codes (ours says which it serves)",
    )
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


def setup(args: argparse.Namespace) -> tuple[StackInfo, bool]:
    """Wallets funded (with cheat codes) or read back (without); the flag says which."""
    config = wallet_config(args, args.home)
    paths = StackPaths(args.home)
    paths.keys.mkdir(parents=True, exist_ok=True)
    names = (
        ["merchant"]
        + [f"fee-payer-{i}" for i in range(args.fee_payers)]
        + [f"payer-{i}" for i in range(args.payers)]
    )
    keypairs = {name: load_or_create(paths.key(name))[0] for name in names}

    # The chain answers cheat codes from beyond its loopback only with the token.
    rpc = ChainRpc(args.rpc_url, admin_token=args.admin_token)
    try:
        chain_info = chain_cheat_info(rpc)
        if chain_info is not None:
            usdc_mint = chain_info["usdcMint"]
            network = chain_info.get("network", "")
            wallets = fund_wallets(rpc, config, keypairs, paths, usdc_mint)
        else:
            usdc_mint = args.usdc_mint
            network = caip2_from_genesis_hash(rpc.call("getGenesisHash"))
            if rpc.call("getAccountInfo", usdc_mint, {"encoding": "base64"})["value"] is None:
                raise ValueError(
                    f"the USDC mint {usdc_mint} does not exist on the chain at {args.rpc_url}, "
                    f"which has no cheat codes to create it: preload it at genesis "
                    f"(python -m sandbox.orchestration.agave, the agave-genesis service)"
                )
            mint = Pubkey.from_string(usdc_mint)
            wallets = read_wallets(
                rpc,
                {
                    name: (
                        str(kp.pubkey()),
                        str(paths.key(name)),
                        str(associated_token_address(kp.pubkey(), mint, TOKEN_PROGRAM_ID)),
                    )
                    for name, kp in keypairs.items()
                },
            )
    finally:
        rpc.close()
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
    return info, chain_info is not None


def chain_cheat_info(rpc: ChainRpc) -> dict | None:
    """sandbox_getInfo's answer, or None when the chain has no cheat codes (a real validator,
    or ours with --no-cheats: the method is unknown, -32601)."""
    try:
        return rpc.call("sandbox_getInfo")
    except RpcError as exc:
        if exc.error.get("code") == METHOD_NOT_FOUND:
            return None
        raise


def write_stack(paths: StackPaths, info: StackInfo) -> None:
    """stack.json and stack.env, as `x402-sandbox up` writes them (the server sources the env)."""
    paths.stack_json.write_text(json.dumps(info.to_json(), indent=2) + "\n")
    lines = [f"export {key}={value}" for key, value in info.env().items()]
    paths.stack_env.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    wait_for_chain(args.rpc_url, args.wait)
    try:
        info, funded = setup(args)
    except RpcError as exc:
        print(f"setup: the chain refused a funding call: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"setup: {exc}", file=sys.stderr)
        return 1
    missing = [w.name for w in info.wallets if w.name.startswith("payer") and not w.usdc]
    missing += [w.name for w in info.wallets if w.name == "merchant" and w.usdc is None]
    if missing:
        how = (
            "after funding"
            if funded
            else "on a chain without cheat codes (preload them at genesis: "
            "python -m sandbox.orchestration.agave, the agave-genesis service)"
        )
        print(f"setup: wallets without USDC {how}: {', '.join(missing)}", file=sys.stderr)
        return 1
    print(json.dumps({w.name: w.address for w in info.wallets}, indent=2))
    source = "funded" if funded else "preloaded at genesis, no cheat codes"
    print(
        f"setup: {len(info.wallets)} wallets ready in {info.home} ({source}; "
        f"USDC mint {info.usdc_mint}, network {info.network})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
