// An Express server selling one route through x402-express 1.2 (x402 v1), settled by the sandbox
// facilitator.
//
//   node --env-file=../.sandbox/stack.env x402-express-v1-server.js   # after `make up`
//   curl -i http://127.0.0.1:3003/api/premium                        # the v1 402 challenge
//
// Sandbox settings: the facilitator URL and the network "solana-devnet" (v1 names networks so;
// the sandbox presents itself as devnet). The middleware asks the facilitator's /supported for
// the fee payer and prices "$0.01" in devnet USDC, the sandbox's test USDC address.
import express from "express";
import { paymentMiddleware } from "x402-express";
import { pathToFileURL } from "node:url";

import { configFromEnv, listen } from "./server-cli.js";

/** @param {{ facilitatorUrl: string, payTo: string, price?: string }} config */
export function createApp({ facilitatorUrl, payTo, price = "$0.01" }) {
  const app = express();
  app.use(
    paymentMiddleware(
      payTo,
      {
        "GET /api/premium": {
          price,
          network: "solana-devnet",
          config: { description: "Premium content from the x402-express v1 example" },
        },
      },
      { url: facilitatorUrl },
    ),
  );
  app.get("/api/premium", (_req, res) => res.json({ message: "paid content from x402-express v1" }));
  return app;
}

/** Listen on `port` (0: a free one) of 127.0.0.1; resolves to { url, close() }. */
export function start(config, port = 0) {
  return listen(createApp(config), port);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { url } = await start(configFromEnv(), Number(process.env.PORT ?? 3003));
  console.log(`x402-express v1 example: ${url}/api/premium (pays ${process.env.X402_SANDBOX_MERCHANT})`);
}
