// The official x402 client (@x402/fetch + @x402/svm) pays a URL with a sandbox payer.
//
//   node --env-file=../.sandbox/stack.env x402-fetch-client.js [URL]
//   (URL defaults to the sandbox's sample server: $X402_SANDBOX_SERVER_URL/api/premium-content)
//
// The one sandbox setting is `rpcUrl`: registerExactSvmScheme() would use the public devnet
// RPC, so the scheme is registered by hand (interop/NOTES.md, T2).
import { createKeyPairSignerFromBytes } from "@solana/kit";
import { wrapFetchWithPayment, x402Client } from "@x402/fetch";
import { ExactSvmScheme } from "@x402/svm/exact/client";

import { readAnswer, runFromCommandLine } from "./client-cli.js";

/**
 * GET `url`, paying its 402. Resolves to { status, body, receipt } (receipt: the decoded
 * PAYMENT-RESPONSE header, whose `transaction` is the settlement's signature).
 * @param {string} url
 * @param {{ secretKey: Uint8Array, rpcUrl: string }} payer
 */
export async function pay(url, { secretKey, rpcUrl }) {
  const signer = await createKeyPairSignerFromBytes(secretKey);
  const client = new x402Client().register("solana:*", new ExactSvmScheme(signer, { rpcUrl }));
  const paidFetch = wrapFetchWithPayment(fetch, client);
  return readAnswer(await paidFetch(url, { method: "GET" }));
}

await runFromCommandLine(import.meta.url, pay);
