// An Express server selling one route through @x402/express, settled by the sandbox facilitator.
//
//   node --env-file=../.sandbox/stack.env express-server.js    # after `make up` (or any stack.env)
//   curl -i http://127.0.0.1:3001/api/premium                  # the 402 challenge
//
// The sandbox parts are only the facilitator URL, the network id (the devnet twin's CAIP-2 id)
// and the merchant address: everything else is the SDK's documented API.
import express from "express";
import { HTTPFacilitatorClient } from "@x402/core/server";
import { paymentMiddleware, x402ResourceServer } from "@x402/express";
import { ExactSvmScheme } from "@x402/svm/exact/server";
import { pathToFileURL } from "node:url";

import { configFromEnv, listen } from "./server-cli.js";


/** @param {{ facilitatorUrl: string, network: string, payTo: string, price?: string }} config */
export function createApp({ facilitatorUrl, network, payTo, price = "$0.01" }) {
  const facilitator = new HTTPFacilitatorClient({ url: facilitatorUrl });
  const resourceServer = new x402ResourceServer(facilitator).register(network, new ExactSvmScheme());
  const app = express();
  app.use(
    paymentMiddleware(
      {
        "GET /api/premium": {
          accepts: { scheme: "exact", price, network, payTo },
          description: "Premium content from the Express example",
          mimeType: "application/json",
        },
      },
      resourceServer,
    ),
  );
  app.get("/api/premium", (_req, res) => res.json({ message: "paid content from Express" }));
  app.get("/health", (_req, res) => res.json({ ok: true }));
  return app;
}

/** Listen on `port` (0: a free one) of 127.0.0.1; resolves to { url, close() }. */
export function start(config, port = 0) {
  return listen(createApp(config), port);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { url } = await start(configFromEnv(), Number(process.env.PORT ?? 3001));
  console.log(`Express example: ${url}/api/premium (pays ${process.env.X402_SANDBOX_MERCHANT})`);
}
