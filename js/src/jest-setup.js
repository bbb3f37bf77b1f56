// jest globalSetup: one sandbox stack for the whole test run (jest.config.js):
//
//   export default {
//     globalSetup: "x402-solana-sandbox/jest/setup",
//     globalTeardown: "x402-solana-sandbox/jest/teardown",
//   };
//
// Test files get it with `connectSandbox()` (X402_SANDBOX_ENV_FILE and the X402_SANDBOX_*
// variables are set for the workers). With X402_SANDBOX_ENV_FILE already set it starts nothing.
import { setupSandbox } from "./shared-setup.js";

export default async function globalSetup() {
  // jest runs globalSetup and globalTeardown in the same context: the teardown finds it here.
  globalThis.__X402_SANDBOX__ = await setupSandbox();
}
