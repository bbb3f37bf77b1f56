// The faremeter client (@faremeter/fetch + @faremeter/payment-solana) pays a URL with a sandbox
// payer.
//
//   node --env-file=../.sandbox/stack.env faremeter-client.js [URL]
//   (URL defaults to the sandbox's sample server: $X402_SANDBOX_SERVER_URL/api/premium-content)
//
// Sandbox settings: the wallet's network ("devnet": the sandbox presents itself as devnet), the
// USDC mint and the RPC URL the payment handler reads the blockhash and the mint from.
import { wrap } from "@faremeter/fetch";
import { exact } from "@faremeter/payment-solana";
import { createLocalWallet } from "@faremeter/wallet-solana";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

/**
 * GET `url`, paying its 402. Resolves to { status, body, receipt } (receipt: the decoded
 * PAYMENT-RESPONSE / X-PAYMENT-RESPONSE header).
 * @param {string} url
 * @param {{ secretKey: Uint8Array, rpcUrl: string, usdcMint: string }} payer
 */
export async function pay(url, { secretKey, rpcUrl, usdcMint }) {
  const wallet = await createLocalWallet("devnet", secretKey);
  const handler = exact.createPaymentHandler(wallet, usdcMint, rpcUrl);
  const paidFetch = wrap(fetch, { handlers: [handler], retryCount: 0 });
  const response = await paidFetch(url, { method: "GET" });
  const header = response.headers.get("PAYMENT-RESPONSE") ?? response.headers.get("X-PAYMENT-RESPONSE");
  const text = await response.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  const receipt = header ? JSON.parse(Buffer.from(header, "base64").toString("utf8")) : null;
  return { status: response.status, body, receipt };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const env = process.env;
  const url = process.argv[2] ?? `${env.X402_SANDBOX_SERVER_URL}/api/premium-content`;
  if (!env.X402_SANDBOX_PAYER_KEYPAIR || !env.X402_SANDBOX_RPC_URL || !env.X402_SANDBOX_USDC_MINT) {
    console.error("run with --env-file=path/to/.sandbox/stack.env (make up writes it)");
    process.exit(64);
  }
  const secretKey = Uint8Array.from(JSON.parse(readFileSync(env.X402_SANDBOX_PAYER_KEYPAIR, "utf8")));
  const result = await pay(url, { secretKey, rpcUrl: env.X402_SANDBOX_RPC_URL, usdcMint: env.X402_SANDBOX_USDC_MINT });
  console.log(JSON.stringify(result, null, 2));
  process.exit(result.status === 200 ? 0 : 1);
}
