// The Hono example on the sandbox of vitest's globalSetup, paid by @x402/fetch.
import { afterAll, beforeAll, expect, test } from "vitest";
import { connectSandbox } from "x402-solana-sandbox";

import { start } from "../../hono-server.js";
import { pay } from "../../x402-fetch-client.js";
import { expectPaidOnChain, newMerchant } from "../onchain.js";

const sandbox = connectSandbox();
let server;
let merchant;

beforeAll(async () => {
  merchant = await newMerchant(sandbox);
  server = await start({ facilitatorUrl: sandbox.facilitatorUrl, network: sandbox.network, payTo: merchant });
});
afterAll(async () => {
  await server?.close();
});

test("@x402/fetch pays the Hono example: merchant +$0.01 on chain, one transaction", async () => {
  const payer = await sandbox.newPayer(1);
  const result = await expectPaidOnChain(sandbox, { merchant, payer: payer.address, price: 10_000 }, () =>
    pay(`${server.url}/api/premium`, { secretKey: payer.secretKey, rpcUrl: sandbox.rpcUrl }),
  );
  expect(result.body).toEqual({ message: "paid content from Hono" });
});
