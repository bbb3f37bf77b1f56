// The official x402 client (@x402/fetch + @x402/svm) pays a URL with a sandbox payer.
//
//   node --env-file=../.sandbox/stack.env x402-fetch-client.js [URL]
//   (URL defaults to the sandbox's sample server: $X402_SANDBOX_SERVER_URL/api/premium-content)
//
// The one sandbox setting is `rpcUrl`: registerExactSvmScheme() would use the public devnet
// RPC, so the scheme is registered by hand (interop/NOTES.md, T2).
import { createKeyPairSignerFromBytes } from "@solana/kit";
import { decodePaymentResponseHeader, wrapFetchWithPayment, x402Client } from "@x402/fetch";
import { ExactSvmScheme } from "@x402/svm/exact/client";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

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
  const response = await paidFetch(url, { method: "GET" });
  const header = response.headers.get("PAYMENT-RESPONSE") ?? response.headers.get("X-PAYMENT-RESPONSE");
  const text = await response.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, body, receipt: header ? decodePaymentResponseHeader(header) : null };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const env = process.env;
  const url = process.argv[2] ?? `${env.X402_SANDBOX_SERVER_URL}/api/premium-content`;
  if (!env.X402_SANDBOX_PAYER_KEYPAIR || !env.X402_SANDBOX_RPC_URL) {
    console.error("run with --env-file=path/to/.sandbox/stack.env (make up writes it)");
    process.exit(64);
  }
  const secretKey = Uint8Array.from(JSON.parse(readFileSync(env.X402_SANDBOX_PAYER_KEYPAIR, "utf8")));
  const result = await pay(url, { secretKey, rpcUrl: env.X402_SANDBOX_RPC_URL });
  console.log(JSON.stringify(result, null, 2));
  process.exit(result.status === 200 ? 0 : 1);
}
