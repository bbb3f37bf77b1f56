// The two clients that put no Memo instruction in their payment (x402-solana 2.0.4, x402-fetch
// 1.2): on a stack started with `--route-binding none` each pays the sample server once (checked
// on chain); on the default stack (offers carry extra.memo, which the scheme says a client MUST
// copy) the server refuses them with the scheme's reason and nothing is charged.
import { afterAll, beforeAll, expect, test } from "vitest";
import { connectSandbox, startSandbox } from "x402-solana-sandbox";

import { pay as payWithX402FetchV1 } from "../../x402-fetch-v1-client.js";
import { pay as payWithX402Solana } from "../../x402-solana-client.js";
import { expectPaidOnChain } from "../onchain.js";

const clients = [
  ["x402-solana 2.0.4", payWithX402Solana],
  ["x402-fetch 1.2", payWithX402FetchV1],
];
const memoBound = connectSandbox(); // vitest's globalSetup stack: --route-binding memo
let memoLess;

beforeAll(async () => {
  // envFile "": a stack of its own, not the globalSetup one named by $X402_SANDBOX_ENV_FILE
  memoLess = await startSandbox({ envFile: "", args: ["--route-binding", "none"] });
}, 180_000);

afterAll(async () => {
  await memoLess?.stop();
});

test.each(clients)("%s pays the sample server on --route-binding none: one transaction", async (_, pay) => {
  const payer = await memoLess.newPayer(1);
  const merchant = memoLess.merchant.address;
  const url = `${memoLess.serverUrl}/api/premium-content`;
  const terms = { merchant, payer: payer.address, price: 10_000 };
  const result = await expectPaidOnChain(memoLess, terms, () =>
    pay(url, { secretKey: payer.secretKey, rpcUrl: memoLess.rpcUrl, usdcMint: memoLess.usdcMint }),
  );
  expect(result.body.kind).toBe("premium");
});

test.each(clients)("%s is refused memo_count where offers carry extra.memo, nothing charged", async (_, pay) => {
  const payer = await memoBound.newPayer(1);
  const url = `${memoBound.serverUrl}/api/premium-content`;
  const result = await pay(url, { secretKey: payer.secretKey, rpcUrl: memoBound.rpcUrl, usdcMint: memoBound.usdcMint });
  expect(result.status).toBe(402);
  expect(result.refused).toBe("invalid_exact_svm_payload_memo_count");
  expect(await memoBound.usdcBalance(payer.address)).toBe(1_000_000n);
});
