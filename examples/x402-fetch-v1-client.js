// The v1 TypeScript client (x402-fetch 1.2) pays a URL with a sandbox payer.
//
//   node --env-file=../.sandbox/stack.env x402-fetch-v1-client.js [URL]
//   (URL defaults to the sandbox's sample server: $X402_SANDBOX_SERVER_URL/api/premium-content)
//
// Sandbox settings: the network "solana-devnet" and `svmConfig.rpcUrl`. The signer takes the
// secret key as base58. Known defect (interop/README.md): no Memo instruction, so it can only pay
// a server started with `--route-binding none`.
import bs58 from "bs58";
import { createSigner, wrapFetchWithPayment } from "x402-fetch";

import { readAnswer, runFromCommandLine } from "./client-cli.js";

const MAX_PRICE = 100_000n; // 0.10 USDC, x402-fetch's own default ceiling, stated

/**
 * GET `url`, paying its 402. Resolves to { status, body, receipt }.
 * @param {string} url
 * @param {{ secretKey: Uint8Array, rpcUrl: string }} payer
 */
export async function pay(url, { secretKey, rpcUrl }) {
  const signer = await createSigner("solana-devnet", bs58.encode(secretKey));
  const paidFetch = wrapFetchWithPayment(fetch, signer, MAX_PRICE, undefined, { svmConfig: { rpcUrl } });
  return readAnswer(await paidFetch(url, { method: "GET" }));
}

await runFromCommandLine(import.meta.url, pay);
