// jest (globalSetup x402-solana-sandbox/jest/setup, see jest.config.js): the two client
// examples pay the sandbox's own sample server, each checked on chain.
import { expect, test } from "@jest/globals";
import { connectSandbox } from "x402-solana-sandbox";

import { pay as payWithFaremeter } from "../../faremeter-client.js";
import { pay as payWithX402Fetch } from "../../x402-fetch-client.js";
import { expectPaidOnChain } from "../onchain.js";

const sandbox = connectSandbox();
const url = `${sandbox.serverUrl}/api/premium-content`; // $0.01
const merchant = sandbox.merchant.address;

test("the @x402/fetch client pays the sample server: merchant +$0.01, one transaction", async () => {
  const payer = sandbox.payers[0];
  const result = await expectPaidOnChain(sandbox, { merchant, payer: payer.address, price: 10_000 }, () =>
    payWithX402Fetch(url, { secretKey: payer.secretKey, rpcUrl: sandbox.rpcUrl }),
  );
  expect(result.body.kind).toBe("premium");
});

test("the @faremeter/fetch client pays the sample server: merchant +$0.01, one transaction", async () => {
  const payer = sandbox.payers[1];
  const result = await expectPaidOnChain(sandbox, { merchant, payer: payer.address, price: 10_000 }, () =>
    payWithFaremeter(url, { secretKey: payer.secretKey, rpcUrl: sandbox.rpcUrl, usdcMint: sandbox.usdcMint }),
  );
  expect(result.body.kind).toBe("premium");
});
