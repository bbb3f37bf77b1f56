// PayAI's client (x402-solana 2.0.4, on @solana/web3.js) pays a URL with a sandbox payer.
//
//   node --env-file=../.sandbox/stack.env x402-solana-client.js [URL]
//   (URL defaults to the sandbox's sample server: $X402_SANDBOX_SERVER_URL/api/premium-content)
//
// Sandbox settings: the network "solana-devnet" (the sandbox presents itself as devnet) and the
// RPC URL. Known defects (interop/README.md): it puts no Memo instruction in its transaction, so
// it can only pay a server started with `--route-binding none`; it pays an offer on any solana:
// network, mainnet included.
import { Keypair } from "@solana/web3.js";
import { createX402Client } from "x402-solana/client";

import { readAnswer, runFromCommandLine } from "./client-cli.js";

/**
 * GET `url`, paying its 402. Resolves to { status, body, receipt }.
 * @param {string} url
 * @param {{ secretKey: Uint8Array, rpcUrl: string }} payer
 */
export async function pay(url, { secretKey, rpcUrl }) {
  const keypair = Keypair.fromSecretKey(secretKey);
  const wallet = {
    publicKey: keypair.publicKey,
    async signTransaction(transaction) {
      transaction.sign([keypair]);
      return transaction;
    },
  };
  const client = createX402Client({ wallet, network: "solana-devnet", rpcUrl });
  return readAnswer(await client.fetch(url, { method: "GET" }));
}

await runFromCommandLine(import.meta.url, pay);
