// The official TypeScript SDK's facilitator, served over node:http:
//   node facilitator.mjs --port 4042 --rpc-url http://127.0.0.1:8899 --fee-payer-keypair FILE
//
// @x402/core ships the facilitator as a library (x402Facilitator) and leaves HTTP to the user;
// this is that layer and nothing more. The only sandbox setting is `defaultRpcUrl`, handed to
// toFacilitatorSvmSigner. Every check is the SDK's own.
//   POST /verify, POST /settle  {x402Version, paymentPayload, paymentRequirements}
//   GET /supported, GET /health
// A body that is not JSON or that the SDK's schemas (@x402/core/schemas) reject gets 400
// {error}; an exception thrown by the SDK gets 500 {error}.
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { parseArgs } from "node:util";

import { createKeyPairSignerFromBytes } from "@solana/kit";
import { x402Facilitator } from "@x402/core/facilitator";
import { parsePaymentPayload, parsePaymentRequirements } from "@x402/core/schemas";
import { SOLANA_DEVNET_CAIP2, toFacilitatorSvmSigner } from "@x402/svm";
import { registerExactSvmScheme } from "@x402/svm/exact/facilitator";

const MAX_BODY_BYTES = 1 << 20;

const { values: args } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "4042" },
    "rpc-url": { type: "string" },
    "fee-payer-keypair": { type: "string" },
    network: { type: "string", default: SOLANA_DEVNET_CAIP2 },
  },
});
if (!args["rpc-url"] || !args["fee-payer-keypair"]) {
  console.error(
    "usage: node facilitator.mjs --port PORT --rpc-url URL --fee-payer-keypair FILE [--network ID]",
  );
  process.exit(64);
}

async function buildFacilitator() {
  const secret = JSON.parse(await readFile(args["fee-payer-keypair"], "utf8"));
  const keypair = await createKeyPairSignerFromBytes(Uint8Array.from(secret));
  const signer = toFacilitatorSvmSigner(keypair, { defaultRpcUrl: args["rpc-url"] });
  const facilitator = new x402Facilitator();
  registerExactSvmScheme(facilitator, { signer, networks: args.network });
  return facilitator;
}

class BadRequest extends Error {}

function readBody(request) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    request.on("data", (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BadRequest("request body too large"));
        request.destroy();
      } else {
        chunks.push(chunk);
      }
    });
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function parseRequest(text) {
  let body;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new BadRequest(`body is not JSON: ${error.message}`);
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new BadRequest("body must be a JSON object");
  }
  const payload = parsePaymentPayload(body.paymentPayload);
  if (!payload.success) {
    throw new BadRequest(`paymentPayload: ${payload.error.message}`);
  }
  const requirements = parsePaymentRequirements(body.paymentRequirements);
  if (!requirements.success) {
    throw new BadRequest(`paymentRequirements: ${requirements.error.message}`);
  }
  // The SDK gets the objects as sent (its own express example passes req.body through).
  return [body.paymentPayload, body.paymentRequirements];
}

function send(response, status, value) {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  response.writeHead(status, {
    "Content-Type": typeof value === "string" ? "text/plain" : "application/json",
  });
  response.end(text);
}

async function route(facilitator, request, response) {
  const path = new URL(request.url, "http://localhost").pathname;
  const key = `${request.method} ${path}`;
  if (key === "GET /health") return send(response, 200, "ok");
  if (key === "GET /supported") return send(response, 200, facilitator.getSupported());
  if (key !== "POST /verify" && key !== "POST /settle") {
    return send(response, 404, { error: `no route ${key}` });
  }
  let parsed;
  try {
    parsed = parseRequest(await readBody(request));
  } catch (error) {
    if (error instanceof BadRequest) return send(response, 400, { error: error.message });
    throw error;
  }
  try {
    const answer =
      path === "/verify" ? await facilitator.verify(...parsed) : await facilitator.settle(...parsed);
    return send(response, 200, answer);
  } catch (error) {
    return send(response, 500, { error: `${error?.name ?? "Error"}: ${error?.message ?? error}` });
  }
}

const facilitator = await buildFacilitator();
const server = createServer((request, response) => {
  route(facilitator, request, response).catch((error) => {
    console.error("facilitator: unexpected", error);
    if (!response.headersSent) send(response, 500, { error: String(error) });
  });
});
server.listen(Number(args.port), args.host, () => {
  const feePayer = facilitator.getSupported().kinds[0]?.extra?.feePayer;
  console.log(
    `ts facilitator: http://${args.host}:${args.port} rpc ${args["rpc-url"]} fee payer ${feePayer}`,
  );
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
