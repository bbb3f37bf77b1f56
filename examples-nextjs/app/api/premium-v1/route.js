// The same content sold through x402-next 1.2's withX402 (x402 v1, X-PAYMENT), settled by the
// sandbox facilitator: network "solana-devnet" (the v1 name), the fee payer from the
// facilitator's /supported. Configured at the first request from the environment, as
// ../premium/route.js is: X402_SANDBOX_FACILITATOR_URL, X402_SANDBOX_MERCHANT.
import { NextResponse } from "next/server";
import { withX402 } from "x402-next";

export const dynamic = "force-dynamic";

async function handler() {
  return NextResponse.json({ message: "paid content from Next.js (x402-next v1)" });
}

let paid;
function paidHandler() {
  if (!paid) {
    const { X402_SANDBOX_FACILITATOR_URL: url, X402_SANDBOX_MERCHANT: payTo } = process.env;
    paid = withX402(
      handler,
      payTo,
      { price: "$0.01", network: "solana-devnet", config: { description: "Premium content (v1)" } },
      { url },
    );
  }
  return paid;
}

export async function GET(request) {
  return paidHandler()(request);
}
