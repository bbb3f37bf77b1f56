// The example test: vitest's globalSetup (x402-solana-sandbox/vitest, see vitest.config.js)
// started the sandbox; this file runs the Express example on it and pays it with @x402/fetch.
import { afterAll, beforeAll, expect, test } from "vitest";
import { connectSandbox } from "x402-solana-sandbox";

import { start } from "../../express-server.js";
import { pay } from "../../x402-fetch-client.js";
import { expectPaidOnChain, newMerchant } from "../onchain.js";

const sandbox = connectSandbox(); // the stack globalSetup started (X402_SANDBOX_ENV_FILE)
let server;
let merchant;

beforeAll(async () => {
  merchant = await newMerchant(sandbox);
  server = await start({ facilitatorUrl: sandbox.facilitatorUrl, network: sandbox.network, payTo: merchant });
});
afterAll(async () => {
  await server?.close();
});

test("the Express example answers 402 without payment", async () => {
  const response = await fetch(`${server.url}/api/premium`);
  expect(response.status).toBe(402);
  expect(response.headers.get("payment-required")).toBeTruthy();
});

test("@x402/fetch pays the Express example: merchant +$0.01 on chain, one transaction", async () => {
  const payer = await sandbox.newPayer(1);
  const result = await expectPaidOnChain(sandbox, { merchant, payer: payer.address, price: 10_000 }, () =>
    pay(`${server.url}/api/premium`, { secretKey: payer.secretKey, rpcUrl: sandbox.rpcUrl }),
  );
  expect(result.body).toEqual({ message: "paid content from Express" });
  expect(await sandbox.usdcBalance(payer.address)).toBe(990_000n);
});
