// The faremeter client (@faremeter/fetch + @faremeter/payment-solana) pays a URL with a sandbox
// payer.
//
//   node --env-file=../.sandbox/stack.env faremeter-client.js [URL]
//   (URL defaults to the sandbox's sample server: $X402_SANDBOX_SERVER_URL/api/premium-content)
//
// Sandbox settings: the wallet's network ("devnet": the sandbox presents itself as devnet), the
// USDC mint and the RPC URL the payment handler reads the blockhash and the mint from.
// retryCount 0: faremeter's default (2) signs a new transaction each time a paid request still
// answers 402, so a slow settlement charges two or three times (faremeter-retry-client.js).
import { wrap } from "@faremeter/fetch";
import { exact } from "@faremeter/payment-solana";
import { createLocalWallet } from "@faremeter/wallet-solana";

import { readAnswer, runFromCommandLine } from "./client-cli.js";

/**
 * GET `url`, paying its 402. Resolves to { status, body, receipt } (receipt: the decoded
 * PAYMENT-RESPONSE / X-PAYMENT-RESPONSE header).
 * @param {string} url
 * @param {{ secretKey: Uint8Array, rpcUrl: string, usdcMint: string }} payer
 * @param {{ retryCount?: number }} [options] faremeter's retryCount (default here: 0)
 */
export async function pay(url, { secretKey, rpcUrl, usdcMint }, { retryCount = 0 } = {}) {
  const wallet = await createLocalWallet("devnet", secretKey);
  const handler = exact.createPaymentHandler(wallet, usdcMint, rpcUrl);
  const paidFetch = wrap(fetch, { handlers: [handler], retryCount });
  return readAnswer(await paidFetch(url, { method: "GET" }));
}

await runFromCommandLine(import.meta.url, pay);
