// A Next.js route handler sold through @x402/next's withX402 (settles only after a response
// below 400), settled by the sandbox facilitator. Configured at run time from the environment
// (`next start` with the variables of .sandbox/stack.env), so one build serves any stack:
//   X402_SANDBOX_FACILITATOR_URL, X402_SANDBOX_NETWORK, X402_SANDBOX_MERCHANT (the payTo)
import { HTTPFacilitatorClient } from "@x402/core/server";
import { withX402, x402ResourceServer } from "@x402/next";
import { ExactSvmScheme } from "@x402/svm/exact/server";
import { NextResponse } from "next/server";

export const dynamic = "force-dynamic";

async function handler() {
  return NextResponse.json({ message: "paid content from Next.js" });
}

let paid; // built at the first request: the environment is not there at build time
function paidHandler() {
  if (!paid) {
    const { X402_SANDBOX_FACILITATOR_URL: url, X402_SANDBOX_NETWORK: network, X402_SANDBOX_MERCHANT: payTo } =
      process.env;
    const server = new x402ResourceServer(new HTTPFacilitatorClient({ url })).register(network, new ExactSvmScheme());
    paid = withX402(
      handler,
      {
        accepts: { scheme: "exact", price: "$0.01", network, payTo },
        description: "Premium content from the Next.js example",
        mimeType: "application/json",
      },
      server,
    );
  }
  return paid;
}

export async function GET(request) {
  return paidHandler()(request);
}
