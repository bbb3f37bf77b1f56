// The middlewares beside @x402/express and @x402/hono that x402-on-Solana tutorials name, each
// selling a route settled by the sandbox facilitator, each paid and checked on chain (merchant
// +$0.01, payer -$0.01, one transaction): x402-express 1.2 (x402 v1), paid by x402-fetch 1.2;
// @faremeter/middleware 0.22 (its remote-facilitator mode: POST /accepts), paid by
// @faremeter/fetch.
import { afterAll, beforeAll, expect, test } from "vitest";
import { connectSandbox } from "x402-solana-sandbox";

import { start as startFaremeter } from "../../faremeter-server.js";
import { pay as payWithFaremeter } from "../../faremeter-client.js";
import { start as startExpressV1 } from "../../x402-express-v1-server.js";
import { pay as payWithX402FetchV1 } from "../../x402-fetch-v1-client.js";
import { expectPaidOnChain, newMerchant } from "../onchain.js";

const sandbox = connectSandbox();
const servers = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

async function paidThrough(startServer, pay) {
  const merchant = await newMerchant(sandbox);
  const config = { facilitatorUrl: sandbox.facilitatorUrl, network: sandbox.network, payTo: merchant, usdcMint: sandbox.usdcMint };
  const server = await startServer(config);
  servers.push(server);
  const unpaid = await fetch(`${server.url}/api/premium`);
  expect(unpaid.status).toBe(402);
  const payer = await sandbox.newPayer(1);
  const wallet = { secretKey: payer.secretKey, rpcUrl: sandbox.rpcUrl, usdcMint: sandbox.usdcMint };
  return expectPaidOnChain(sandbox, { merchant, payer: payer.address, price: 10_000 }, () =>
    pay(`${server.url}/api/premium`, wallet),
  );
}

test("x402-express 1.2 (v1) is paid through the sandbox facilitator by x402-fetch 1.2", async () => {
  const result = await paidThrough(startExpressV1, payWithX402FetchV1);
  expect(result.body).toEqual({ message: "paid content from x402-express v1" });
});

test("@faremeter/middleware 0.22 is paid through the sandbox facilitator by @faremeter/fetch", async () => {
  const result = await paidThrough(startFaremeter, payWithFaremeter);
  expect(result.body).toEqual({ message: "paid content from faremeter" });
});
