// Shared by the browser tests: the opsbox CLI and server over a temp SQLite database, and a
// headless Debian chromium (playwright-core cannot download browsers here).
// Environment: OPSBOX_BIN (the opsbox binary), CHROMIUM (default /usr/bin/chromium).
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { chromium } from "playwright-core";
import { watch } from "./contract.mjs";

export const BIN = process.env.OPSBOX_BIN || "opsbox";
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

// A fresh data folder with a config whose data_dir points into it. The browser tests click
// faster than any person and drive `opsbox simulate` from the same address: request budgets
// are set out of their way (their own tests are tests/integration/test_security_limits.py), and
// the outbound policy lets webhooks reach the tests' plain-http receivers on loopback (its own
// tests are test_outbound_policy.py and netns_outbound_policy.py).
export function tempDataDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "opsbox-browser-"));
  const budgets = ["api_key", "session", "address", "provider"]
    .flatMap((who) => [`${who}_per_s = 1000000`, `${who}_burst = 1000000`]).join("\n");
  fs.writeFileSync(path.join(dir, "opsbox.toml"),
    `data_dir = "${dir}"\n[rate_limit]\n${budgets}\n` +
    "[outbound]\nallow_http = true\nallow_loopback = true\n");
  return dir;
}

// Runs `opsbox <group> <command> --db … --config … <rest>` on the folder's database.
export function cli(dir, args, input) {
  const db = "sqlite:" + path.join(dir, "opsbox.db");
  const config = path.join(dir, "opsbox.toml");
  return execFileSync(BIN, [...args.slice(0, 2), "--db", db, "--config", config, ...args.slice(2)],
    { input, encoding: "utf8" });
}

// Starts `opsbox serve` on a free loopback port; resolves to {proc, port}.
export async function startServer(dir) {
  const db = "sqlite:" + path.join(dir, "opsbox.db");
  const config = path.join(dir, "opsbox.toml");
  const log = fs.openSync(path.join(dir, "server.log"), "a");
  const proc = spawn(BIN, ["serve", "--db", db, "--config", config, "--listen", "127.0.0.1:0"],
    { stdio: ["ignore", "pipe", log] });
  const lines = readline.createInterface({ input: proc.stdout });
  const first = await new Promise((resolve, reject) => {
    lines.once("line", resolve);
    proc.once("exit", (code) => reject(new Error("server exited " + code)));
  });
  assert.match(first, /^listening on port \d+$/);
  const port = Number(first.split(" ").pop());
  serverBase = "http://127.0.0.1:" + port;
  return { proc, port };
}

// The last server started: the browsers launched after it check its responses against its
// OpenAPI document (contract.mjs); tearDown and closeContexts fail on a mismatch.
let serverBase = null;

// A headless chromium context with a fresh profile; close it with tearDown.
export async function launchBrowser(options = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "opsbox-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    ...options,
  });
  return { context, profile, watcher: serverBase ? watch(context, serverBase) : null };
}

// One headless chromium with `count` isolated contexts (separate cookies: two users of the
// same server side by side); close it with closeBrowsers.
export async function launchContexts(count, options = {}) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const contexts = [];
  for (let i = 0; i < count; i++) contexts.push(await browser.newContext(options));
  const watchers = serverBase ? contexts.map((c) => watch(c, serverBase)) : [];
  return { browser, contexts, watchers };
}

// Closes the browser of launchContexts, stops the server (SIGTERM, waits), removes the folder.
export async function closeContexts({ browser, watchers }, server, dir) {
  const broken = await contractFailure(watchers || []);
  await browser.close();
  server.proc.kill("SIGTERM");
  await new Promise((resolve) => server.proc.once("exit", resolve));
  fs.rmSync(dir, { recursive: true, force: true });
  if (broken) throw broken;
}

// The first watcher's contract failure (an Error), or null; cleanup goes on either way.
async function contractFailure(watchers) {
  for (const w of watchers) {
    try {
      if (w) await w.check();
    } catch (e) {
      return e;
    }
  }
  return null;
}

// Closes the browser, stops the server (SIGTERM, waits) and removes the temp folders.
export async function tearDown({ context, profile, watcher }, server, dir) {
  const broken = await contractFailure([watcher]);
  await context.close();
  server.proc.kill("SIGTERM");
  await new Promise((resolve) => server.proc.once("exit", resolve));
  fs.rmSync(profile, { recursive: true, force: true });
  fs.rmSync(dir, { recursive: true, force: true });
  if (broken) throw broken;
}

// The API of tenant "acme" with a key: JSON in and out; throws with the body on an unexpected
// status.
export async function call(base, key, method, suffix, body) {
  const res = await fetch(base + "/api/v1/tenants/acme" + suffix, {
    method,
    headers: { "Authorization": "Bearer " + key, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${suffix}: ${res.status} ${text}`);
  return JSON.parse(text || "{}");
}
