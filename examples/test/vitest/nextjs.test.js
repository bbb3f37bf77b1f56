// The Next.js example (examples-nextjs: a route handler with @x402/next's withX402, and one with
// x402-next 1.2's, x402 v1) under `next start` on the sandbox of vitest's globalSetup, paid by
// @x402/fetch and x402-fetch 1.2. `make test-js`
// builds it first (the workspace's npm ci + next build in examples-nextjs); a checkout without
// a build gets one here.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { connectSandbox, isProcessAlive } from "x402-solana-sandbox";

import { pay } from "../../x402-fetch-client.js";
import { pay as payWithX402FetchV1 } from "../../x402-fetch-v1-client.js";
import { expectPaidOnChain, newMerchant } from "../onchain.js";

const root = join(import.meta.dirname, "..", "..", "..");
const app = join(root, "examples-nextjs");
const next = join(root, "node_modules", ".bin", "next"); // the workspace's one node_modules
const sandbox = connectSandbox();
let child;
let url;
let merchant;
let output = "";

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  if (!existsSync(next)) throw new Error(`${app}: run \`npm ci\` in ${root} first (make test-js does)`);
  if (!existsSync(join(app, ".next", "BUILD_ID"))) {
    const build = spawnSync(next, ["build"], { cwd: app, encoding: "utf8", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
    if (build.status !== 0) throw new Error(`next build failed: ${build.stdout}${build.stderr}`);
  }
  merchant = await newMerchant(sandbox);
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  child = spawn(next, ["start", "-H", "127.0.0.1", "-p", String(port)], {
    cwd: app,
    detached: true, // its own process group: next start runs a worker we stop with it
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", X402_SANDBOX_MERCHANT: merchant },
  });
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  // Ready when /api/health answers (or fail as soon as the server exits).
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await fetch(`${url}/api/health`).then((r) => r.ok, () => false);
    if (ok) break;
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r("running"), 100))]);
    if (code !== "running") throw new Error(`next start exited (${code}): ${output}`);
    if (Date.now() > deadline) throw new Error(`next start did not answer within 60 s: ${output}`);
  }
}, 180_000);

afterAll(async () => {
  if (!child) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  process.kill(-child.pid, "SIGTERM");
  await exited;
  const deadline = Date.now() + 10_000;
  while (isProcessAlive(child.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(isProcessAlive(child.pid)).toBe(false);
});

test("the Next.js route answers 402 without payment", async () => {
  const response = await fetch(`${url}/api/premium`);
  expect(response.status).toBe(402);
  expect(response.headers.get("payment-required")).toBeTruthy();
});

test("@x402/fetch pays the Next.js route handler: merchant +$0.01 on chain, one transaction", async () => {
  const payer = await sandbox.newPayer(1);
  const result = await expectPaidOnChain(sandbox, { merchant, payer: payer.address, price: 10_000 }, () =>
    pay(`${url}/api/premium`, { secretKey: payer.secretKey, rpcUrl: sandbox.rpcUrl }),
  );
  expect(result.body).toEqual({ message: "paid content from Next.js" });
});

test("x402-fetch 1.2 pays the x402-next 1.2 (v1) route handler: merchant +$0.01 on chain, one transaction", async () => {
  const unpaid = await fetch(`${url}/api/premium-v1`);
  expect(unpaid.status).toBe(402);
  expect((await unpaid.json()).x402Version).toBe(1);
  const payer = await sandbox.newPayer(1);
  const result = await expectPaidOnChain(sandbox, { merchant, payer: payer.address, price: 10_000 }, () =>
    payWithX402FetchV1(`${url}/api/premium-v1`, { secretKey: payer.secretKey, rpcUrl: sandbox.rpcUrl }),
  );
  expect(result.body).toEqual({ message: "paid content from Next.js (x402-next v1)" });
});
