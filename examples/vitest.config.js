// vitest: one sandbox stack for the run (x402-solana-sandbox/vitest), test files one at a time
// (they share the stack; each pays its own merchant, but two cores are better spent in turn).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    globalSetup: ["x402-solana-sandbox/vitest"],
    include: ["test/vitest/**/*.test.js"],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
