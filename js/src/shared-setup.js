// What the vitest and jest globalSetup files share: start (or connect to) the sandbox once per
// test run and hand it to the test files through environment variables, which the test
// workers inherit: X402_SANDBOX_ENV_FILE (so `connectSandbox()` in a test finds the stack) and
// every X402_SANDBOX_* variable of its stack.env (URLs, network, mint, payer keypair, token).
import { startSandbox } from "./index.js";

/** Options from the environment, for runs that cannot pass them in code. */
function optionsFromEnv() {
  const options = {};
  if (process.env.X402_SANDBOX_JS_PAYERS) options.payers = Number(process.env.X402_SANDBOX_JS_PAYERS);
  if (process.env.X402_SANDBOX_JS_SLOT_MS) options.slotMs = Number(process.env.X402_SANDBOX_JS_SLOT_MS);
  if (process.env.X402_SANDBOX_JS_KEEP_HOME) options.keepHome = true;
  if (process.env.X402_SANDBOX_JS_VENV) options.venv = process.env.X402_SANDBOX_JS_VENV;
  return options;
}

export async function setupSandbox(options = {}) {
  const sandbox = await startSandbox({
    log: (message) => process.stderr.write(`${message}\n`),
    ...optionsFromEnv(),
    ...options,
  });
  for (const [name, value] of Object.entries(sandbox.env)) process.env[name] = value;
  process.env.X402_SANDBOX_ENV_FILE = sandbox.envFile;
  return sandbox;
}
