// jest globalTeardown: stops the stack jest/setup started (see jest-setup.js).
export default async function globalTeardown() {
  const sandbox = globalThis.__X402_SANDBOX__;
  globalThis.__X402_SANDBOX__ = undefined;
  if (sandbox) await sandbox.stop();
}
