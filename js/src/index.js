// x402-solana-sandbox for JavaScript and TypeScript: the whole sandbox stack (local Solana chain,
// x402 facilitator, sample paid server) from a test runner, through the project's own CLI.
//
//   import { startSandbox } from "x402-solana-sandbox";
//   const sandbox = await startSandbox();          // free loopback ports, a temporary home
//   ... sandbox.serverUrl, sandbox.payers[0].secretKey, await sandbox.fund(address, 5) ...
//   await sandbox.stop();                          // every process it started is gone
//
// With X402_SANDBOX_ENV_FILE=path/to/stack.env (what `x402-sandbox up` writes, e.g.
// .sandbox/stack.env or a compose stack's) it starts nothing and connects to that stack instead.
// No dependencies: node's own child_process, fs, net and fetch. Types: index.d.ts.
import { spawn, spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository checkout this package lives in (js/ is one of its folders). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const MIN_PYTHON = [3, 11];
const USDC_DECIMALS = 6;

/**
 * What the sandbox says when it cannot start: one line, no stack trace (the `stack` property
 * is the message too, so test runners that print `err.stack` print that line only).
 */
export class SandboxError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = "SandboxError";
    this.stack = `SandboxError: ${message}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Starting a stack

/**
 * Start chain, facilitator and paid server on free loopback ports in a temporary home, or
 * connect to a running stack when `envFile` (default: $X402_SANDBOX_ENV_FILE) is set.
 * @param {import("./index.d.ts").StartOptions} [options]
 * @returns {Promise<import("./index.d.ts").Sandbox>}
 */
export async function startSandbox(options = {}) {
  const envFile = options.envFile ?? process.env.X402_SANDBOX_ENV_FILE;
  if (envFile) return connectSandbox(envFile);

  const root = resolve(options.root ?? REPO_ROOT);
  const venv = resolve(options.venv ?? join(root, ".venv"));
  const log = options.log ?? (() => {});
  const cli = await ensureCli({ root, venv, python: options.python, log });

  const ownHome = !options.home;
  const home = resolve(options.home ?? mkdtempSync(join(tmpdir(), "x402-sandbox-")));
  const flags = [
    "--home", home,
    "--host", "127.0.0.1",
    "--slot-ms", String(options.slotMs ?? 0),
    "--payers", String(options.payers ?? 2),
    "--payer-usdc", String(options.payerUsdc ?? 100),
    "--payer-sol", String(options.payerSol ?? 1),
    "--fresh",
    ...(options.args ?? []),
  ];
  const timeoutMs = options.timeoutMs ?? 120_000;
  let lastError;
  // Free ports are found, then handed to `up`: another program may take one in between, so a
  // start that fails on a port is tried again on new ones (and only that).
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const rpcPort = await freePortPair();
    const ports = [
      "--rpc-port", String(rpcPort),
      "--facilitator-port", String(await freePort()),
      "--server-port", String(await freePort()),
      // The web dashboard only when asked for: its default port would clash between stacks.
      "--dashboard-port", options.dashboard ? String(await freePort()) : "0",
    ];
    log(`x402-sandbox: starting the stack in ${home}`);
    const result = await run(cli, ["up", ...flags, ...ports, "--json"], {
      env: childEnv(),
      timeoutMs,
    });
    if (result.code === 0) {
      const sandbox = fromHome(home, { owned: true, cli, removeHome: ownHome && !options.keepHome });
      log(`x402-sandbox: up (server ${sandbox.serverUrl})`);
      return sandbox;
    }
    // A failed `up` may have started some components: stop them before anything else.
    await run(cli, ["down", "--home", home], { env: childEnv(), timeoutMs: 30_000 });
    lastError = explainFailure("x402-sandbox up", result, home);
    if (!/port|address already in use/i.test(result.stdout + result.stderr)) break;
  }
  if (ownHome && !options.keepHome) rmSync(home, { recursive: true, force: true });
  throw new SandboxError(lastError);
}

/**
 * The helpers over a stack that is already running, from its stack.env (the variables
 * `x402-sandbox up` writes, the admin token included). `stop()` of the result stops nothing.
 * @param {string} [envFile] default $X402_SANDBOX_ENV_FILE
 * @returns {import("./index.d.ts").Sandbox}
 */
export function connectSandbox(envFile = process.env.X402_SANDBOX_ENV_FILE) {
  if (!envFile) {
    throw new SandboxError("connectSandbox: no stack.env given and X402_SANDBOX_ENV_FILE is not set");
  }
  let text;
  try {
    text = readFileSync(envFile, "utf8");
  } catch (error) {
    throw new SandboxError(`cannot read the sandbox env file ${envFile}: ${error.code ?? error.message}`);
  }
  const env = parseEnvFile(text);
  for (const name of ["X402_SANDBOX_RPC_URL", "X402_SANDBOX_FACILITATOR_URL", "X402_SANDBOX_SERVER_URL"]) {
    if (!env[name]) throw new SandboxError(`${envFile} has no ${name}: is it a stack.env that \`x402-sandbox up\` wrote?`);
  }
  // The stack's own stack.json (wallets, pids) when its home is on this machine.
  const home = env.X402_SANDBOX_HOME;
  const stackJson = home && join(home, "stack.json");
  if (stackJson && existsSync(stackJson)) {
    return fromHome(home, { owned: false, env, envFile: resolve(envFile) });
  }
  const payerFile = env.X402_SANDBOX_PAYER_KEYPAIR;
  const payers = payerFile && existsSync(payerFile) ? [readPayer("payer-0", payerFile)] : [];
  return makeSandbox({
    owned: false,
    home: home ?? null,
    envFile: resolve(envFile),
    env,
    rpcUrl: env.X402_SANDBOX_RPC_URL,
    wsUrl: env.X402_SANDBOX_WS_URL ?? null,
    facilitatorUrl: env.X402_SANDBOX_FACILITATOR_URL,
    serverUrl: env.X402_SANDBOX_SERVER_URL,
    dashboardUrl: env.X402_SANDBOX_DASHBOARD_URL ?? null,
    network: env.X402_SANDBOX_NETWORK,
    networkV1: null,
    usdcMint: env.X402_SANDBOX_USDC_MINT,
    adminToken: env.X402_SANDBOX_ADMIN_TOKEN ?? null,
    merchant: env.X402_SANDBOX_MERCHANT ? { address: env.X402_SANDBOX_MERCHANT, keypairPath: null } : null,
    payers,
    pids: {},
  });
}

/** Parse a dotenv / shell `export NAME=value` file (what stack.env is). */
export function parseEnvFile(text) {
  const env = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2];
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1);
    env[match[1]] = value;
  }
  return env;
}

function fromHome(home, { owned, cli = null, removeHome = false, env = null, envFile = null }) {
  const info = JSON.parse(readFileSync(join(home, "stack.json"), "utf8"));
  const stackEnvPath = envFile ?? join(home, "stack.env");
  const fileEnv = env ?? (existsSync(stackEnvPath) ? parseEnvFile(readFileSync(stackEnvPath, "utf8")) : {});
  let adminToken = fileEnv.X402_SANDBOX_ADMIN_TOKEN ?? null;
  if (!adminToken && existsSync(join(home, "admin-token"))) {
    adminToken = readFileSync(join(home, "admin-token"), "utf8").trim() || null;
  }
  const wallet = (name) => info.wallets.find((w) => w.name === name);
  const merchant = wallet("merchant");
  return makeSandbox({
    owned,
    cli,
    removeHome,
    home,
    envFile: stackEnvPath,
    env: fileEnv,
    rpcUrl: info.rpc_url,
    wsUrl: info.ws_url,
    facilitatorUrl: info.facilitator_url,
    serverUrl: info.server_url,
    dashboardUrl: info.dashboard_url || null,
    network: info.network,
    networkV1: info.network_v1,
    usdcMint: info.usdc_mint,
    adminToken,
    merchant: merchant ? { address: merchant.address, keypairPath: merchant.keypair_file } : null,
    payers: info.wallets
      .filter((w) => w.name.startsWith("payer-"))
      .map((w) => readPayer(w.name, w.keypair_file)),
    pids: { ...info.pids },
  });
}

function readPayer(name, keypairPath) {
  const secretKey = Uint8Array.from(JSON.parse(readFileSync(keypairPath, "utf8")));
  return { name, address: base58(secretKey.subarray(32)), keypairPath, secretKey };
}

// ---------------------------------------------------------------------------------------------
// The helpers: cheat codes and admin endpoints, with the admin token and JSON content type

function makeSandbox(fields) {
  const { cli, removeHome, ...pub } = fields;
  let stopped = false;
  let rpcId = 0;

  const adminHeaders = () => ({
    "content-type": "application/json",
    ...(pub.adminToken ? { authorization: `Bearer ${pub.adminToken}` } : {}),
  });

  async function rpc(method, params = []) {
    rpcId += 1;
    let response;
    try {
      response = await fetch(pub.rpcUrl, {
        method: "POST",
        headers: adminHeaders(),
        body: JSON.stringify({ jsonrpc: "2.0", id: rpcId, method, params }),
      });
    } catch (error) {
      throw new SandboxError(`${method}: the sandbox chain at ${pub.rpcUrl} does not answer (${error.cause?.code ?? error.message})`);
    }
    const text = await response.text();
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      throw new SandboxError(`${method}: HTTP ${response.status} from ${pub.rpcUrl}: ${text.slice(0, 200)}`);
    }
    if (body.error) throw new SandboxError(`${method}: ${body.error.message} (JSON-RPC error ${body.error.code})`);
    return body.result;
  }

  async function admin(method, path, payload) {
    const url = `${pub.facilitatorUrl}${path}`;
    let response;
    try {
      response = await fetch(url, {
        method,
        headers: adminHeaders(),
        body: payload === undefined ? undefined : JSON.stringify(payload),
      });
    } catch (error) {
      throw new SandboxError(`${method} ${url}: the facilitator does not answer (${error.cause?.code ?? error.message})`);
    }
    const text = await response.text();
    if (!response.ok) throw new SandboxError(`${method} ${url}: HTTP ${response.status} ${text.slice(0, 300)}`);
    return JSON.parse(text);
  }

  async function usdcBalance(owner, mint = pub.usdcMint) {
    const result = await rpc("getTokenAccountsByOwner", [owner, { mint }, { encoding: "jsonParsed" }]);
    return result.value.reduce(
      (sum, account) => sum + BigInt(account.account.data.parsed.info.tokenAmount.amount),
      0n,
    );
  }

  const sandbox = {
    ...pub,
    rpc,

    /** Airdrop SOL and mint test USDC (whole units, decimals allowed) to `address`. */
    async fund(address, usdc, { sol = 1 } = {}) {
      if (sol > 0) await rpc("requestAirdrop", [address, Math.round(sol * 1e9)]);
      const atomic = Math.round(Number(usdc) * 10 ** USDC_DECIMALS);
      await rpc("sandbox_mintTo", [address, atomic]);
      return { address, usdcAtomic: BigInt(atomic), balance: await usdcBalance(address) };
    },

    /** A new wallet with `usdc` test USDC and 1 SOL: { address, secretKey, keypairPath }. */
    async newPayer(usdc = 10, { sol = 1 } = {}) {
      const payer = generateKeypair();
      if (pub.home && existsSync(join(pub.home, "keys"))) {
        const path = join(pub.home, "keys", `js-${payer.address}.json`);
        try {
          writeFileSync(path, JSON.stringify([...payer.secretKey]), { mode: 0o600 });
          payer.keypairPath = path;
        } catch {
          // a home we may not write to (another user's stack): the bytes are enough
        }
      }
      await sandbox.fund(payer.address, usdc, { sol });
      return payer;
    },

    usdcBalance,

    /** Signatures of transactions that touched `address`, newest first. */
    async signaturesFor(address, limit = 100) {
      const result = await rpc("getSignaturesForAddress", [address, { limit }]);
      return result.map((entry) => entry.signature);
    },

    /** The owner's USDC token account addresses (an x402 payment moves USDC between these). */
    async tokenAccounts(owner, mint = pub.usdcMint) {
      const result = await rpc("getTokenAccountsByOwner", [owner, { mint }, { encoding: "jsonParsed" }]);
      return result.value.map((account) => account.pubkey);
    },

    /**
     * Replace the facilitator's faults (`[]` clears them), e.g.
     * `[{ endpoint: "settle", kind: "pending", rate: 0.5 }]`; no argument: read them.
     */
    async facilitatorFaults(faults) {
      if (faults === undefined) return (await admin("GET", "/_sandbox/faults")).faults;
      return (await admin("POST", "/_sandbox/faults", { faults })).faults;
    },

    /** Change the chain's faults ({ latencyMs, dropRate, lateConfirmMs, errorRate }); none: read them. */
    async chainFaults(changes) {
      if (changes === undefined) return rpc("sandbox_getFaults", []);
      return rpc("sandbox_setFaults", [changes]);
    },

    /**
     * Every event of the server's and the facilitator's feeds (GET /_sandbox/events), merged,
     * as an async iterator: `for await (const event of sandbox.events()) ...`. Each event has
     * id, time, source ("server" | "facilitator"), kind and its fields; `correlation` links the
     * steps of one payment. `since: 0` replays what the feeds still hold; by default only new
     * events come. Stop with `signal` (an AbortSignal) or by breaking out of the loop.
     */
    async *events({ since, signal } = {}) {
      const controller = new AbortController();
      if (signal) signal.addEventListener("abort", () => controller.abort(), { once: true });
      const queue = [];
      let wake = null;
      const push = (item) => {
        queue.push(item);
        if (wake) wake();
      };
      const feeds = [
        [pub.serverUrl, {}],  // the server has no admin token and refuses one
        [pub.facilitatorUrl, pub.adminToken ? { authorization: `Bearer ${pub.adminToken}` } : {}],
      ];
      const query = since === undefined ? "?since=999999999999" : `?since=${since}`;
      for (const [base, headers] of feeds) {
        readFeed(`${base}/_sandbox/events${query}`, headers, controller.signal, push);
      }
      try {
        while (!controller.signal.aborted) {
          if (!queue.length) await new Promise((resolve) => { wake = resolve; });
          wake = null;
          while (queue.length) {
            const item = queue.shift();
            if (item instanceof Error) throw item;
            yield item;
          }
        }
      } finally {
        controller.abort();
      }
    },

    /** Recent settlements and rejections the facilitator decided (for debugging). */
    async settlements() {
      return (await admin("GET", "/_sandbox/settlements")).settlements;
    },

    /**
     * Stop every process this sandbox started (`x402-sandbox down`, then waits until each pid
     * is gone) and remove its temporary home. A sandbox from X402_SANDBOX_ENV_FILE is left alone.
     */
    async stop() {
      if (stopped || !pub.owned) return;
      stopped = true;
      process.removeListener("exit", onExit);
      const result = await run(cli, ["down", "--home", pub.home], { env: childEnv(), timeoutMs: 60_000 });
      const left = await waitGone(Object.values(pub.pids), 15_000);
      for (const pid of left) {
        // `down` could not stop it: kill it, but only if it is still one of ours (its command
        // line names this home).
        if (cmdline(pid).includes(pub.home)) safeKill(pid, "SIGKILL");
      }
      const still = await waitGone(left, 5_000);
      if (removeHome) rmSync(pub.home, { recursive: true, force: true });
      if (still.length) throw new SandboxError(`stop(): processes ${still.join(", ")} are still running`);
      if (result.code !== 0 && left.length) {
        throw new SandboxError(explainFailure("x402-sandbox down", result, pub.home));
      }
    },
  };

  // A test run that exits without calling stop() (a crash, Ctrl-C) must not leave the stack
  // running: stop it synchronously on exit.
  function onExit() {
    if (stopped || !pub.owned) return;
    stopped = true;
    spawnSync(cli, ["down", "--home", pub.home], { env: childEnv(), stdio: "ignore", timeout: 30_000 });
    if (removeHome) rmSync(pub.home, { recursive: true, force: true });
  }
  if (pub.owned) process.on("exit", onExit);
  return sandbox;
}

// ---------------------------------------------------------------------------------------------
// The Python side: find the CLI, build .venv once when it is missing

async function readFeed(url, headers, signal, push) {
  let response;
  try {
    response = await fetch(url, { headers, signal });
  } catch (error) {
    if (!signal.aborted) push(new SandboxError(`GET ${url}: no answer (${error.cause?.code ?? error.message})`));
    return;
  }
  if (!response.ok) {
    push(new SandboxError(`GET ${url}: HTTP ${response.status} ${(await response.text()).slice(0, 200)}`));
    return;
  }
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = frame.split("\n").find((line) => line.startsWith("data: "));
        if (data) push(JSON.parse(data.slice(6)));
      }
    }
  } catch (error) {
    if (!signal.aborted) push(new SandboxError(`GET ${url}: the stream broke (${error.message})`));
  }
}

async function ensureCli({ root, venv, python, log }) {
  const cli = join(venv, "bin", "x402-sandbox");
  if (existsSync(cli) && existsSync(join(venv, ".installed"))) return cli;
  if (!existsSync(join(root, "pyproject.toml"))) {
    throw new SandboxError(`${root} is not the x402 Solana sandbox checkout (no pyproject.toml); pass { root } or set X402_SANDBOX_ENV_FILE`);
  }
  const interpreter = python || process.env.X402_SANDBOX_PYTHON || "python3";
  const version = checkPython(interpreter);
  log(`x402-sandbox: building ${venv} with ${interpreter} (Python ${version}); the first run takes a minute`);
  const steps = [
    [interpreter, ["-m", "venv", venv]],
    [join(venv, "bin", "python"), ["-m", "pip", "install", "--quiet", "--upgrade", "pip"]],
    [join(venv, "bin", "python"), ["-m", "pip", "install", "--quiet", "-e", `${root}[dev]`]],
  ];
  for (const [command, args] of steps) {
    if (command === interpreter && existsSync(join(venv, "bin", "python"))) continue;
    const result = await run(command, args, { cwd: root, timeoutMs: 900_000 });
    if (result.code !== 0) {
      throw new SandboxError(`building ${venv} failed at \`${[command, ...args].join(" ")}\`: ${lastLine(result.stderr || result.stdout)}`);
    }
  }
  writeFileSync(join(venv, ".installed"), "");
  return cli;
}

/** The interpreter's version ("3.11"), or a SandboxError of one line. */
export function checkPython(interpreter) {
  const hint = "install Python 3.11 or newer, or name one with X402_SANDBOX_PYTHON=/path/to/python3.11 (or the `python` option), or run the stack elsewhere (docker compose up) and set X402_SANDBOX_ENV_FILE=path/to/stack.env";
  const probe = spawnSync(interpreter, ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"], {
    encoding: "utf8",
    timeout: 30_000,
  });
  if (probe.error?.code === "ENOENT" || probe.error?.code === "EACCES") {
    throw new SandboxError(`x402-sandbox needs Python ${MIN_PYTHON.join(".")}+, and \`${interpreter}\` was not found: ${hint}`);
  }
  const version = (probe.stdout ?? "").trim();
  const match = /^(\d+)\.(\d+)$/.exec(version);
  if (probe.status !== 0 || !match) {
    throw new SandboxError(`x402-sandbox needs Python ${MIN_PYTHON.join(".")}+, and \`${interpreter}\` did not run as Python: ${hint}`);
  }
  const [major, minor] = [Number(match[1]), Number(match[2])];
  if (major < MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor < MIN_PYTHON[1])) {
    throw new SandboxError(`x402-sandbox needs Python ${MIN_PYTHON.join(".")}+, and \`${interpreter}\` is Python ${version}: ${hint}`);
  }
  return version;
}

// ---------------------------------------------------------------------------------------------
// Small tools

/** The environment for the CLI: ours, without X402_SANDBOX_* settings meant for another stack. */
function childEnv() {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith("X402_SANDBOX_")) env[key] = value;
  }
  env.PYTHONUNBUFFERED = "1";
  return env;
}

function run(command, args, { env = process.env, cwd, timeoutMs = 120_000 } = {}) {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      resolvePromise({ code: -1, stdout, stderr: stderr || String(error.message) });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? -1, signal, stdout, stderr });
    });
  });
}

function lastLine(text) {
  const lines = String(text).split("\n").map((l) => l.trim()).filter(Boolean);
  return lines.at(-1) ?? "(no output)";
}

function explainFailure(what, result, home) {
  // The CLI prints its own one-line reason; a traceback's last line is the exception.
  const reason = result.signal ? `killed by ${result.signal} (timeout?)` : lastLine(result.stderr || result.stdout);
  return `${what} failed: ${reason} (logs: ${join(home, "logs")})`;
}

function freePort() {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePromise(port));
    });
  });
}

function portIsFree(port) {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.unref();
    server.on("error", () => resolvePromise(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolvePromise(true)));
  });
}

/** A free port whose next one is free too (the chain's RPC and PubSub). */
async function freePortPair() {
  for (let i = 0; i < 50; i += 1) {
    const port = await freePort();
    if (port < 65535 && (await portIsFree(port + 1))) return port;
  }
  throw new SandboxError("no two consecutive free loopback ports found");
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return error.code === "EPERM";
  }
  try {
    // A zombie (exited, not yet reaped by its parent) is gone for our purposes.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true; // no /proc (macOS): kill(0) said alive
  }
}

async function waitGone(pids, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let alive = pids.filter(pidAlive);
  while (alive.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    alive = alive.filter(pidAlive);
  }
  return alive;
}

function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}

function safeKill(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export { pidAlive as isProcessAlive };

const B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/** Base58 (Solana addresses). */
export function base58(bytes) {
  let n = 0n;
  for (const b of bytes) n = n * 256n + BigInt(b);
  let out = "";
  while (n > 0n) {
    out = B58[Number(n % 58n)] + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = `1${out}`;
  }
  return out;
}

/** A new ed25519 keypair as Solana CLI bytes (64: secret || public) and its address. */
export function generateKeypair() {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const d = Buffer.from(privateKey.export({ format: "jwk" }).d, "base64url");
  const x = Buffer.from(publicKey.export({ format: "jwk" }).x, "base64url");
  const secretKey = new Uint8Array(64);
  secretKey.set(d, 0);
  secretKey.set(x, 32);
  return { address: base58(x), secretKey, keypairPath: null };
}
