// What every example client shares: reading the paid answer, and running from the command line
// with the variables of .sandbox/stack.env (`node --env-file=../.sandbox/stack.env CLIENT [URL]`).
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

/**
 * The answer of a paid fetch as { status, body, receipt, refused }: body parsed when it is JSON,
 * receipt the decoded PAYMENT-RESPONSE (v2) or X-PAYMENT-RESPONSE (v1) header, or null; refused
 * the x402 reason of a payment answered 402 (the PAYMENT-REQUIRED header's or the v1 body's
 * `error`), or null.
 * @param {Response} response
 */
export async function readAnswer(response) {
  const header = response.headers.get("PAYMENT-RESPONSE") ?? response.headers.get("X-PAYMENT-RESPONSE");
  const required = response.headers.get("PAYMENT-REQUIRED");
  const text = await response.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  const receipt = header ? decodeBase64Json(header) : null;
  const refused = (required ? decodeBase64Json(required).error : body?.error) ?? null;
  return { status: response.status, body, receipt, refused };
}

function decodeBase64Json(header) {
  return JSON.parse(Buffer.from(header, "base64").toString("utf8"));
}

/**
 * When `moduleUrl` is the script node was started with: pay argv[2] (default: the sample server's
 * /api/premium-content) with the sandbox payer, print the answer, exit 0 on a 200.
 * @param {string} moduleUrl the caller's import.meta.url
 * @param {(url: string, payer: { secretKey: Uint8Array, rpcUrl: string, usdcMint: string }) => Promise<object>} pay
 */
export async function runFromCommandLine(moduleUrl, pay) {
  if (moduleUrl !== pathToFileURL(process.argv[1]).href) return;
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
