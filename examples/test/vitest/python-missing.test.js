// What a JavaScript developer without Python 3.11+ sees from each runner's globalSetup: one
// line saying so, no stack trace. `python3` on PATH is a fake that answers as Python 3.9 does,
// and the Python environment is pointed at an empty folder, so it would have to be built.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";

const examples = join(import.meta.dirname, "..", "..");
const bin = mkdtempSync(join(tmpdir(), "fake-python-"));
writeFileSync(join(bin, "python3"), "#!/bin/sh\necho 3.9\n");
chmodSync(join(bin, "python3"), 0o755);
const venv = join(bin, "venv");
afterAll(() => rmSync(bin, { recursive: true, force: true }));

function runWithOldPython(command, args) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    // not the stack this run's globalSetup started, nor vitest's own worker settings
    if (!key.startsWith("X402_SANDBOX_") && !key.startsWith("VITEST")) env[key] = value;
  }
  Object.assign(env, { PATH: `${bin}:${process.env.PATH}`, X402_SANDBOX_JS_VENV: venv, NO_COLOR: "1", FORCE_COLOR: "0" });
  return spawnSync(command, args, { cwd: examples, env, encoding: "utf8", timeout: 60_000 });
}

const expected = /^SandboxError: x402-sandbox needs Python 3\.11\+, and `python3` is Python 3\.9: install Python 3\.11 or newer/;

test("jest globalSetup: exactly one line", () => {
  const result = runWithOldPython(join(examples, "..", "node_modules", ".bin", "jest"), []);
  expect(result.status).not.toBe(0);
  const lines = (result.stdout + result.stderr).trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(expected);
  expect(existsSync(venv)).toBe(false);
});

test("vitest globalSetup: the one line, and no stack trace", () => {
  const result = runWithOldPython(join(examples, "..", "node_modules", ".bin", "vitest"), ["run", "test/vitest/express.test.js"]);
  expect(result.status).not.toBe(0);
  const output = result.stdout + result.stderr;
  const errors = output.split("\n").filter((line) => /Error/.test(line) && !/Unhandled Error/.test(line));
  expect(errors).toHaveLength(1);
  expect(errors[0].trim()).toMatch(expected);
  expect(output).not.toMatch(/\n\s+at /);
  expect(existsSync(venv)).toBe(false);
});
