// Types for x402-solana-sandbox (src/index.js). No build step: the package ships plain ESM.

export interface StartOptions {
  /** Connect to this running stack's stack.env instead of starting one (default: $X402_SANDBOX_ENV_FILE; "" starts a stack of its own all the same). */
  envFile?: string;
  /** The sandbox checkout (default: the repository this package lives in). */
  root?: string;
  /** Its Python environment (default: `<root>/.venv`; built once when missing). */
  venv?: string;
  /** Python 3.11+ used to build the environment (default: $X402_SANDBOX_PYTHON, else `python3`). */
  python?: string;
  /** The stack's home (default: a new temporary folder, removed by stop()). */
  home?: string;
  /** Keep the temporary home after stop() (for its logs). */
  keepHome?: boolean;
  /** Slot time of the chain in ms (default 0: a block per transaction). */
  slotMs?: number;
  /** Also start the web dashboard, on a free port (default false). */
  dashboard?: boolean;
  /** Funded payer wallets (default 2), each with payerUsdc USDC (100) and payerSol SOL (1). */
  payers?: number;
  payerUsdc?: number;
  payerSol?: number;
  /** More `x402-sandbox up` flags, e.g. ["--chain-fault-latency-ms", "20"]. */
  args?: string[];
  /** How long `up` may take (default 120 000 ms). */
  timeoutMs?: number;
  /** Progress messages (default: none). */
  log?: (message: string) => void;
}

export interface Payer {
  name?: string;
  /** Base58 address (public key). */
  address: string;
  /** 64 bytes, Solana CLI layout (secret || public): `createKeyPairSignerFromBytes(secretKey)`. */
  secretKey: Uint8Array;
  /** The keypair as a Solana CLI JSON file (null when the stack's home is not on this machine). */
  keypairPath: string | null;
}

export interface Sandbox {
  /** true when startSandbox started it (stop() stops it); false for X402_SANDBOX_ENV_FILE stacks. */
  owned: boolean;
  home: string | null;
  /** The stack's stack.env (the X402_SANDBOX_* variables, admin token included). */
  envFile: string;
  env: Record<string, string>;
  rpcUrl: string;
  wsUrl: string | null;
  facilitatorUrl: string;
  serverUrl: string;
  /** The web dashboard's URL, when the stack has one (start({ dashboard: true })). */
  dashboardUrl: string | null;
  /** CAIP-2 network id: solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1 (the devnet twin). */
  network: string;
  /** v1 name: solana-devnet. */
  networkV1: string | null;
  usdcMint: string;
  adminToken: string | null;
  /** The sample server's payTo wallet. */
  merchant: { address: string; keypairPath: string | null } | null;
  payers: Payer[];
  /** name -> pid of chain, facilitator, server. */
  pids: Record<string, number>;

  /** A JSON-RPC call to the chain (with the admin token, so `sandbox_*` cheat codes work). */
  rpc<T = any>(method: string, params?: unknown[]): Promise<T>;
  /** Airdrop `sol` (default 1) and mint `usdc` whole test USDC to an address (creates its token account). */
  fund(address: string, usdc: number, options?: { sol?: number }): Promise<{ address: string; usdcAtomic: bigint; balance: bigint }>;
  /** A new funded wallet (default 10 USDC, 1 SOL). */
  newPayer(usdc?: number, options?: { sol?: number }): Promise<Payer>;
  /** USDC (atomic units, 6 decimals) held by an owner. */
  usdcBalance(owner: string, mint?: string): Promise<bigint>;
  /** The owner's token account addresses for the mint. */
  tokenAccounts(owner: string, mint?: string): Promise<string[]>;
  /** Transaction signatures that touched an address, newest first. */
  signaturesFor(address: string, limit?: number): Promise<string[]>;
  /** Replace the facilitator's faults ([] clears); no argument reads them. */
  facilitatorFaults(faults?: FacilitatorFault[]): Promise<FacilitatorFault[]>;
  /** Change the chain's faults; no argument reads them. */
  chainFaults(changes?: Partial<ChainFaults>): Promise<ChainFaults>;
  /** Every event of the server's and the facilitator's feeds, merged (see README). */
  events(options?: { since?: number; signal?: AbortSignal }): AsyncGenerator<SandboxEvent>;
  /** The facilitator's recent settlements. */
  settlements(): Promise<unknown[]>;
  /** Stop every process startSandbox started and wait until each pid is gone. */
  stop(): Promise<void>;
}

export interface FacilitatorFault {
  endpoint: "verify" | "settle" | "supported" | "health" | "*";
  kind: "latency" | "error500" | "html502" | "hang" | "invalid" | "pending" | "fake_success";
  rate?: number;
  ms?: number;
  jitterMs?: number;
  distribution?: "fixed" | "uniform" | "exponential";
  reason?: string;
  seconds?: number;
}

export interface ChainFaults {
  latencyMs: number;
  dropRate: number;
  lateConfirmMs: number;
  errorRate: number;
}

export class SandboxError extends Error {}
export const REPO_ROOT: string;
export function startSandbox(options?: StartOptions): Promise<Sandbox>;
export function connectSandbox(envFile?: string): Sandbox;
export function parseEnvFile(text: string): Record<string, string>;
export function checkPython(interpreter: string): string;
export function isProcessAlive(pid: number): boolean;
export function base58(bytes: Uint8Array): string;
export function generateKeypair(): Payer;

/** One step of one payment, from GET /_sandbox/events of the server or the facilitator. */
export interface SandboxEvent {
  id: number;
  time: number;
  source: "server" | "facilitator";
  kind: string;
  correlation?: string | null;
  ok?: boolean;
  reason?: string | null;
  message?: string | null;
  transaction?: string | null;
  [field: string]: unknown;
}
