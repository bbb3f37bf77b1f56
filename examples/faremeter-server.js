// An Express server selling one route through @faremeter/middleware 0.22, settled by the sandbox
// facilitator (faremeter's remote-facilitator mode).
//
//   node --env-file=../.sandbox/stack.env faremeter-server.js   # after `make up`
//   curl -i http://127.0.0.1:3004/api/premium                   # the 402 challenge
//
// Sandbox settings: the facilitator URL, the network "solana-devnet", the USDC mint and the
// merchant. Before each 402 the middleware asks the facilitator's POST /accepts to complete the
// offer (extra.feePayer), which the sandbox facilitator answers.
import express from "express";
import { createMiddleware } from "@faremeter/middleware/express";
import { pathToFileURL } from "node:url";

import { configFromEnv, listen } from "./server-cli.js";

/** @param {{ facilitatorUrl: string, payTo: string, usdcMint: string, price?: number }} config */
export async function createApp({ facilitatorUrl, payTo, usdcMint, price = 10_000 }) {
  const app = express();
  const paywall = await createMiddleware({
    facilitatorURL: facilitatorUrl,
    accepts: [
      {
        scheme: "exact",
        network: "solana-devnet",
        maxAmountRequired: String(price), // atomic units: 10,000 = $0.01 of a 6-decimal USDC
        payTo,
        asset: usdcMint,
        description: "Premium content from the faremeter example",
        mimeType: "application/json",
        maxTimeoutSeconds: 60,
      },
    ],
  });
  app.get("/api/premium", paywall, (_req, res) => res.json({ message: "paid content from faremeter" }));
  return app;
}

/** Listen on `port` (0: a free one) of 127.0.0.1; resolves to { url, close() }. */
export async function start(config, port = 0) {
  return listen(await createApp(config), port);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { url } = await start(configFromEnv(), Number(process.env.PORT ?? 3004));
  console.log(`faremeter example: ${url}/api/premium (pays ${process.env.X402_SANDBOX_MERCHANT})`);
}
