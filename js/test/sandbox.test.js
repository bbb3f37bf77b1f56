// The fixture against real stack processes: node --test (no dependencies).
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";

import { base58, connectSandbox, generateKeypair, isProcessAlive, startSandbox } from "../src/index.js";

const ROOT = new URL("..", import.meta.url).pathname;

describe("startSandbox: a whole stack of our own", () => {
  let sandbox;
  before(async () => {
    // --require-admin-token: every cheat code below only works because the helpers send it.
    sandbox = await startSandbox({ args: ["--require-admin-token"], dashboard: true });
  });
  after(async () => {
    await sandbox?.stop();
  });

  test("answers with URLs, network, mint, payers and token", async () => {
    assert.equal(sandbox.owned, true);
    assert.equal(sandbox.network, "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1");
    assert.equal(sandbox.usdcMint, "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU");
    assert.match(sandbox.rpcUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(sandbox.adminToken, /^\S{16,}$/);
    assert.equal(sandbox.payers.length, 2);
    for (const payer of sandbox.payers) {
      assert.equal(payer.secretKey.length, 64);
      assert.equal(base58(payer.secretKey.subarray(32)), payer.address);
      assert.deepEqual(JSON.parse(readFileSync(payer.keypairPath, "utf8")), [...payer.secretKey]);
      assert.equal(await sandbox.usdcBalance(payer.address), 100_000_000n);
    }
    const challenge = await fetch(`${sandbox.serverUrl}/api/premium-content`);
    assert.equal(challenge.status, 402);
    const health = await fetch(`${sandbox.facilitatorUrl}/health`);
    assert.equal(health.status, 200);
    assert.match(sandbox.dashboardUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    const overview = await (await fetch(`${sandbox.dashboardUrl}/api/overview`)).json();
    assert.deepEqual(overview.components.map((c) => c.healthy), [true, true, true]);
  });

  test("fund() mints USDC and airdrops SOL, with the admin token", async () => {
    const wallet = generateKeypair();
    const funded = await sandbox.fund(wallet.address, 2.5);
    assert.equal(funded.balance, 2_500_000n);
    assert.equal(await sandbox.rpc("getBalance", [wallet.address]).then((r) => r.value), 1_000_000_000);
    // The same cheat code without the token is refused (the stack requires it).
    const bare = await fetch(sandbox.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "sandbox_mintTo", params: [wallet.address, 1] }),
    });
    const text = await bare.text();
    assert.ok(bare.status >= 400 || JSON.parse(text).error, text);
    assert.equal(await sandbox.usdcBalance(wallet.address), 2_500_000n);
  });

  test("facilitatorFaults() and chainFaults() set, read and clear", async () => {
    const faults = [{ endpoint: "settle", kind: "pending", rate: 0.5 }];
    assert.deepEqual(await sandbox.facilitatorFaults(faults), faults);
    assert.deepEqual(await sandbox.facilitatorFaults(), faults);
    assert.deepEqual(await sandbox.facilitatorFaults([]), []);
    const set = await sandbox.chainFaults({ latencyMs: 5, dropRate: 0.25 });
    assert.equal(set.latencyMs, 5);
    assert.equal(set.dropRate, 0.25);
    const cleared = await sandbox.chainFaults({ latencyMs: 0, dropRate: 0 });
    assert.deepEqual(cleared, { latencyMs: 0, dropRate: 0, lateConfirmMs: 0, errorRate: 0 });
    await assert.rejects(sandbox.chainFaults({ dropRate: 2 }), /dropRate/);
  });

  test("events(): the server's and the facilitator's feeds, merged, live", async () => {
    const controller = new AbortController();
    const seen = [];
    const reading = (async () => {
      for await (const event of sandbox.events({ signal: controller.signal })) {
        seen.push(event);
        if (seen.some((e) => e.source === "server") && seen.some((e) => e.source === "facilitator")) break;
      }
    })();
    // Wait until both streams are open: each answer of theirs is an event once connected.
    const deadline = Date.now() + 30_000;
    while (!(seen.some((e) => e.source === "server") && seen.some((e) => e.source === "facilitator"))) {
      assert.ok(Date.now() < deadline, `events seen: ${JSON.stringify(seen)}`);
      await fetch(`${sandbox.serverUrl}/api/weather`); // a 402: the server's payment_required
      await fetch(`${sandbox.facilitatorUrl}/verify`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
      await new Promise((resolve) => setTimeout(resolve, 100)); // poll pace, not a wait for a result
    }
    await reading;
    controller.abort();
    const server = seen.find((e) => e.source === "server");
    const facilitator = seen.find((e) => e.source === "facilitator");
    assert.equal(server.kind, "payment_required");
    assert.equal(server.route, "/api/weather");
    assert.equal(facilitator.kind, "verify");
    assert.equal(facilitator.ok, false);
    assert.ok(facilitator.reason);
  });

  test("X402_SANDBOX_ENV_FILE: the helpers over a running stack, which stop() leaves alone", async () => {
    const previous = process.env.X402_SANDBOX_ENV_FILE;
    process.env.X402_SANDBOX_ENV_FILE = sandbox.envFile;
    let other;
    try {
      other = await startSandbox();
    } finally {
      if (previous === undefined) delete process.env.X402_SANDBOX_ENV_FILE;
      else process.env.X402_SANDBOX_ENV_FILE = previous;
    }
    assert.equal(other.owned, false);
    assert.equal(other.serverUrl, sandbox.serverUrl);
    assert.equal(other.adminToken, sandbox.adminToken);
    assert.equal(other.payers[0].address, sandbox.payers[0].address);
    const wallet = generateKeypair();
    assert.equal((await other.fund(wallet.address, 1)).balance, 1_000_000n);
    await other.stop();
    assert.ok(Object.values(sandbox.pids).every(isProcessAlive), "stop() of a connected stack stopped it");

    // A stack.env alone (its home elsewhere, e.g. compose's): the variables are enough.
    const lonely = join(mkdtempSync(join(tmpdir(), "x402-env-")), "stack.env");
    const env = readFileSync(sandbox.envFile, "utf8").replace(/^export X402_SANDBOX_HOME=.*$/m, "");
    writeFileSync(lonely, env);
    const bare = connectSandbox(lonely);
    assert.equal(bare.home, null);
    assert.equal((await bare.fund(generateKeypair().address, 1)).balance, 1_000_000n);
    rmSync(dirname(lonely), { recursive: true, force: true });
  });
});

test("stop() leaves no process behind and removes the temporary home", async () => {
  const sandbox = await startSandbox({ payers: 1 });
  const pids = Object.values(sandbox.pids);
  assert.equal(pids.length, 3); // no dashboard unless asked for
  assert.equal(sandbox.dashboardUrl, null);
  assert.ok(pids.every(isProcessAlive));
  await sandbox.stop();
  assert.deepEqual(pids.filter(isProcessAlive), []);
  assert.equal(existsSync(sandbox.home), false);
  await sandbox.stop(); // twice is harmless
});

test("a test run that exits without stop() leaves no process behind either", () => {
  const script = `
    import { startSandbox } from ${JSON.stringify(join(ROOT, "src/index.js"))};
    const s = await startSandbox({ payers: 0 });
    console.log(JSON.stringify(Object.values(s.pids)));
    process.exit(0);`;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  const pids = JSON.parse(out.trim().split("\n").at(-1));
  assert.equal(pids.length, 3);
  assert.deepEqual(pids.filter(isProcessAlive), []);
});

describe("without Python 3.11+: one clear line", () => {
  const bin = mkdtempSync(join(tmpdir(), "fake-python-"));
  const old = join(bin, "python3");
  writeFileSync(old, "#!/bin/sh\necho 3.9\n"); // answers the version probe as Python 3.9 would
  chmodSync(old, 0o755);
  const venv = join(bin, "no-venv-here"); // so the environment has to be built
  after(() => rmSync(bin, { recursive: true, force: true }));

  const expectOneLine = (error, pattern) => {
    assert.equal(error.name, "SandboxError");
    assert.match(error.message, pattern);
    assert.match(error.message, /Python 3\.11\+/);
    assert.doesNotMatch(error.message, /\n/);
    assert.doesNotMatch(error.stack, /\n\s+at /);
    assert.equal(existsSync(venv), false);
    return true;
  };

  test("too old", async () => {
    await assert.rejects(startSandbox({ venv, python: old }), (e) => expectOneLine(e, /is Python 3\.9/));
  });

  test("absent", async () => {
    await assert.rejects(startSandbox({ venv, python: join(bin, "python3.99") }), (e) => expectOneLine(e, /was not found/));
  });

  test("python3 on PATH is 3.9, as a user sees it: one line on stderr", () => {
    const script = `
      import { startSandbox } from ${JSON.stringify(join(ROOT, "src/index.js"))};
      try { await startSandbox({ venv: ${JSON.stringify(venv)} }); }
      catch (e) { console.error(String(e.stack)); process.exit(1); }`;
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, X402_SANDBOX_PYTHON: "" },
    });
    assert.equal(result.status, 1);
    const lines = result.stderr.trim().split("\n");
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0], /^SandboxError: x402-sandbox needs Python 3\.11\+, and `python3` is Python 3\.9: install Python 3\.11/);
  });
});
