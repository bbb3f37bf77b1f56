// jest: one sandbox stack for the run. ESM test files, so jest runs with
// NODE_OPTIONS=--experimental-vm-modules (the test:jest script) and without transforms.
export default {
  globalSetup: "x402-solana-sandbox/jest/setup",
  globalTeardown: "x402-solana-sandbox/jest/teardown",
  testMatch: ["<rootDir>/test/jest/**/*.test.js"],
  transform: {},
  testEnvironment: "node",
  testTimeout: 60_000,
  maxWorkers: 1,
};
