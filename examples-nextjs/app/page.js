export default function Home() {
  return <p>GET /api/premium costs $0.01 in sandbox USDC (x402).</p>;
}
