// A Hono server (on @hono/node-server) selling one route through @x402/hono, settled by the
// sandbox facilitator.
//
//   node --env-file=../.sandbox/stack.env hono-server.js      # after `make up`
//   curl -i http://127.0.0.1:3002/api/premium
import { serve } from "@hono/node-server";
import { HTTPFacilitatorClient } from "@x402/core/server";
import { paymentMiddleware, x402ResourceServer } from "@x402/hono";
import { ExactSvmScheme } from "@x402/svm/exact/server";
import { Hono } from "hono";
import { pathToFileURL } from "node:url";

import { configFromEnv } from "./server-cli.js";

/** @param {{ facilitatorUrl: string, network: string, payTo: string, price?: string }} config */
export function createApp({ facilitatorUrl, network, payTo, price = "$0.01" }) {
  const facilitator = new HTTPFacilitatorClient({ url: facilitatorUrl });
  const resourceServer = new x402ResourceServer(facilitator).register(network, new ExactSvmScheme());
  const app = new Hono();
  app.use(
    paymentMiddleware(
      {
        "GET /api/premium": {
          accepts: { scheme: "exact", price, network, payTo },
          description: "Premium content from the Hono example",
          mimeType: "application/json",
        },
      },
      resourceServer,
    ),
  );
  app.get("/api/premium", (c) => c.json({ message: "paid content from Hono" }));
  app.get("/health", (c) => c.json({ ok: true }));
  return app;
}

/** Listen on `port` (0: a free one) of 127.0.0.1; resolves to { url, close() }. */
export function start(config, port = 0) {
  const app = createApp(config);
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, (info) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { url } = await start(configFromEnv(), Number(process.env.PORT ?? 3002));
  console.log(`Hono example: ${url}/api/premium (pays ${process.env.X402_SANDBOX_MERCHANT})`);
}
