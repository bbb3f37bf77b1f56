// The on-chain check every example test makes: the merchant's USDC grew by exactly the price and
// the payer's fell by exactly the price, in exactly one new transaction touching the merchant's
// token account, the one the receipt names.
// Runner-neutral (node:assert), so vitest and jest tests share it.
import assert from "node:assert/strict";

const DEVNET = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1";

/** A fresh merchant wallet with a USDC token account (x402 never creates the payTo's). */
export async function newMerchant(sandbox) {
  const merchant = await sandbox.newPayer(0, { sol: 0 });
  return merchant.address;
}

/**
 * Run `pay()` (resolves to { status, receipt }) and check the chain afterwards.
 * @param {{ merchant: string, payer: string, price: number }} terms addresses and atomic price
 * @returns the pay() result
 */
export async function expectPaidOnChain(sandbox, { merchant, payer, price }, pay) {
  const [account] = await sandbox.tokenAccounts(merchant);
  assert.ok(account, `merchant ${merchant} has no USDC token account`);
  const balanceBefore = await sandbox.usdcBalance(merchant);
  const payerBefore = await sandbox.usdcBalance(payer);
  const signaturesBefore = new Set(await sandbox.signaturesFor(account));

  const result = await pay();
  assert.equal(result.status, 200, JSON.stringify(result));
  assert.equal(result.receipt?.success, true, JSON.stringify(result.receipt));
  // a v1 receipt names the network by its v1 name
  const v1Name = sandbox.network === DEVNET ? "solana-devnet" : sandbox.network;
  assert.ok([sandbox.network, v1Name].includes(result.receipt.network), result.receipt.network);

  // The receipt comes after the facilitator saw the transaction confirmed, so the balance is
  // already there; wait on the condition all the same (a few ms on the block-per-tx chain).
  const balanceAfter = await waitFor(
    () => sandbox.usdcBalance(merchant),
    (balance) => balance !== balanceBefore,
    10_000,
  );
  assert.equal(balanceAfter - balanceBefore, BigInt(price));
  assert.equal(payerBefore - (await sandbox.usdcBalance(payer)), BigInt(price));
  const added = (await sandbox.signaturesFor(account)).filter((s) => !signaturesBefore.has(s));
  assert.deepEqual(added, [result.receipt.transaction]);
  const tx = await sandbox.rpc("getTransaction", [result.receipt.transaction, { encoding: "json", maxSupportedTransactionVersion: 0 }]);
  assert.equal(tx.meta.err, null);
  return result;
}

async function waitFor(read, done, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
}
