// vitest globalSetup: one sandbox stack for the whole test run.
//
//   // vitest.config.js
//   export default { test: { globalSetup: ["x402-solana-sandbox/vitest"] } };
//
//   // a test file
//   import { connectSandbox } from "x402-solana-sandbox";
//   const sandbox = connectSandbox();   // the stack this setup started (X402_SANDBOX_ENV_FILE)
//
// Also `inject("x402Sandbox")` gives its URLs, network, mint, payers (keypair paths) and token.
// With X402_SANDBOX_ENV_FILE already set it starts nothing and uses that stack.
import { setupSandbox } from "./shared-setup.js";

export default async function setup(project) {
  const sandbox = await setupSandbox();
  if (typeof project?.provide === "function") {
    project.provide("x402Sandbox", {
      envFile: sandbox.envFile,
      rpcUrl: sandbox.rpcUrl,
      wsUrl: sandbox.wsUrl,
      facilitatorUrl: sandbox.facilitatorUrl,
      serverUrl: sandbox.serverUrl,
      network: sandbox.network,
      usdcMint: sandbox.usdcMint,
      adminToken: sandbox.adminToken,
      merchant: sandbox.merchant,
      payers: sandbox.payers.map(({ name, address, keypairPath }) => ({ name, address, keypairPath })),
    });
  }
  return async () => {
    await sandbox.stop();
  };
}
