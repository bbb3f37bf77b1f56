export const metadata = { title: "x402 sandbox: Next.js example" };

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
