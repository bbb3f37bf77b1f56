// faremeter-client.js with @faremeter/fetch's default retry loop (retryCount 2), as most
// faremeter code runs: each time a paid request still answers 402 it signs a brand-new
// transaction. `x402-sandbox check-client` catches it on settlement-pending (interop/README.md).
//
//   node --env-file=../.sandbox/stack.env faremeter-retry-client.js [URL]
import { pay as payOnce } from "./faremeter-client.js";
import { runFromCommandLine } from "./client-cli.js";

/** GET `url` the way faremeter does by default: up to two more payments while it answers 402. */
export async function pay(url, payer) {
  return payOnce(url, payer, { retryCount: 2 });
}

await runFromCommandLine(import.meta.url, pay);
