// What the Express-based example servers share: listening on loopback, and the sandbox
// settings read from the variables of .sandbox/stack.env.

/** Listen on `port` (0: a free one) of 127.0.0.1; resolves to { url, close() }. */
export function listen(app, port = 0) {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, "127.0.0.1", () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
    server.on("error", reject);
  });
}

/** { facilitatorUrl, network, payTo, usdcMint } from stack.env's names; exit 64 when unset. */
export function configFromEnv(env = process.env) {
  for (const name of ["X402_SANDBOX_FACILITATOR_URL", "X402_SANDBOX_NETWORK", "X402_SANDBOX_MERCHANT"]) {
    if (!env[name]) {
      console.error(`${name} is not set: run with --env-file=path/to/.sandbox/stack.env (make up writes it)`);
      process.exit(64);
    }
  }
  return {
    facilitatorUrl: env.X402_SANDBOX_FACILITATOR_URL,
    network: env.X402_SANDBOX_NETWORK,
    payTo: env.X402_SANDBOX_MERCHANT,
    usdcMint: env.X402_SANDBOX_USDC_MINT,
  };
}
