// The official TypeScript x402 client pays one URL: `node client_pay.mjs URL KEYPAIR_FILE RPC_URL`.
//
// Built only from the SDK's documented API (@x402/fetch's wrapFetchWithPayment, @x402/core's
// x402Client, @x402/svm's ExactSvmScheme); the only sandbox setting is `rpcUrl`. Prints one
// JSON line: {status, body, paymentResponse, paymentRequired, sent, headers} (exit 0 whatever
// the status), or {error} (exit 2) when the SDK throws. `sent` holds the decoded payment header
// of each request the SDK made; `headers` are the final response's (names lower-case).
import { readFile } from "node:fs/promises";

import { createKeyPairSignerFromBytes } from "@solana/kit";
import { decodePaymentResponseHeader, wrapFetchWithPayment, x402Client } from "@x402/fetch";
import { ExactSvmScheme } from "@x402/svm/exact/client";
import { ExactSvmSchemeV1 } from "@x402/svm/exact/v1/client";
import { NETWORKS as V1_NETWORKS } from "@x402/svm/v1";

const [url, keypairFile, rpcUrl] = process.argv.slice(2);
if (!url || !keypairFile || !rpcUrl) {
  console.error("usage: node client_pay.mjs URL KEYPAIR_FILE RPC_URL");
  process.exit(64);
}

function decodeHeader(value) {
  return value ? JSON.parse(Buffer.from(value, "base64").toString("utf8")) : null;
}

async function main() {
  const secret = Uint8Array.from(JSON.parse(await readFile(keypairFile, "utf8")));
  const signer = await createKeyPairSignerFromBytes(secret);

  // registerExactSvmScheme() (the SDK's helper) builds its schemes without a config, i.e. on the
  // public RPC; registering by hand is the documented way to pass `rpcUrl`.
  const client = new x402Client().register("solana:*", new ExactSvmScheme(signer, { rpcUrl }));
  for (const network of V1_NETWORKS) {
    client.registerV1(network, new ExactSvmSchemeV1(signer, { rpcUrl }));
  }

  // The fetch handed to the wrapper records what the SDK sent and what it got back.
  const sent = [];
  let paymentRequired = null;
  const recordingFetch = async (request) => {
    sent.push({
      paymentSignature: request.headers.get("PAYMENT-SIGNATURE"),
      xPayment: request.headers.get("X-PAYMENT"),
    });
    const response = await fetch(request);
    if (response.status === 402 && paymentRequired === null) {
      paymentRequired = decodeHeader(response.headers.get("PAYMENT-REQUIRED"));
    }
    return response;
  };

  const paidFetch = wrapFetchWithPayment(recordingFetch, client);
  const response = await paidFetch(url, { method: "GET" });
  const text = await response.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  const receipt =
    response.headers.get("PAYMENT-RESPONSE") ?? response.headers.get("X-PAYMENT-RESPONSE");
  return {
    status: response.status,
    body,
    paymentResponse: receipt ? decodePaymentResponseHeader(receipt) : null,
    paymentRequired,
    headers: Object.fromEntries(response.headers),
    sent: sent.map((entry) => ({
      ...entry,
      paymentSignature: decodeHeader(entry.paymentSignature),
      xPayment: decodeHeader(entry.xPayment),
    })),
  };
}

main().then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  },
  (error) => {
    process.stdout.write(`${JSON.stringify({ error: String(error?.stack ?? error) })}\n`);
    process.exit(2);
  },
);
