// Goal: the minimal web page (/) works in a real browser against the real server: a wrong
// password shows the error and logs nothing in; the right one shows the tenant's recent ledger
// events, newest first, including the login itself; an event recorded through the API appears
// after Refresh; Log out ends the session (the API then answers 401 to the old cookie).
// Headless Debian chromium driven by playwright-core; the server runs on a free loopback port
// over a temp SQLite database. Environment: OPSBOX_BIN, OPSBOX_ARTIFACT_DIR, CHROMIUM.
import assert from "node:assert/strict";
import path from "node:path";
import test from "node:test";
import { cli, launchBrowser, startServer, tearDown, tempDataDir } from "./lib/harness.mjs";

const ARTIFACTS = process.env.OPSBOX_ARTIFACT_DIR || process.cwd();
const WAIT_MS = 30000;
const PASSWORD = "correct horse battery staple";



async function eventTypes(page) {
  return page.$$eval("#events tbody tr", (rows) => rows.map((r) => r.children[2].textContent));
}

test("an operator logs in, sees the ledger, sees a new event after refresh, and logs out", async () => {
  const dir = tempDataDir();
  cli(dir, ["admin", "create-tenant", "--tenant", "acme", "--name", "Acme"]);
  cli(dir, ["admin", "create-user", "--tenant", "acme", "--username", "olivia",
    "--password-stdin", "--role", "supervisor", "--role", "admin"], PASSWORD + "\n");
  const key = JSON.parse(cli(dir, ["admin", "create-api-key", "--tenant", "acme", "--name", "crm",
    "--role", "integration"])).key;
  const server = await startServer(dir);
  const base = "http://127.0.0.1:" + server.port;
  const browser = await launchBrowser();
  const { context } = browser;
  const errors = [];
  try {
    const page = context.pages()[0] || await context.newPage();
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(base + "/");
    await page.fill("#tenant", "acme");
    await page.fill("#username", "olivia");
    await page.fill("#password", "not the password");
    await page.click("#login-form button[type=submit]");
    await page.waitForFunction(() => document.getElementById("login-error").textContent !== "",
      null, { timeout: WAIT_MS });
    assert.equal(await page.isHidden("#events-view"), true);

    await page.fill("#password", PASSWORD);
    await page.click("#login-form button[type=submit]");
    await page.waitForSelector("#events tbody tr", { timeout: WAIT_MS });
    const types = await eventTypes(page);
    assert.equal(types[0], "login_succeeded", "newest first: the login itself");
    assert.ok(types.includes("login_failed"), "the failed attempt is on the ledger");
    assert.ok(types.includes("tenant_created"));

    const res = await fetch(base + "/api/v1/tenants/acme/external-events", {
      method: "POST",
      headers: { "Authorization": "Bearer " + key, "Content-Type": "application/json" },
      body: JSON.stringify({ source: "crm", type: "customer.updated", external_id: "c-1",
        occurred_at: "2026-11-22T10:00:00Z", payload: { segment: "gold" } }),
    });
    assert.equal(res.status, 201);
    await page.click("#refresh");
    await page.waitForFunction(() =>
      document.querySelector("#events tbody tr td:nth-child(3)").textContent ===
        "external_event_recorded", null, { timeout: WAIT_MS });
    await page.screenshot({ path: path.join(ARTIFACTS, "index_page.png"), fullPage: true });

    const cookies = await context.cookies(base);
    const session = cookies.find((c) => c.name === "opsbox_session");
    assert.ok(session && session.httpOnly && session.sameSite === "Strict");
    await page.click("#logout");
    await page.waitForSelector("#login-view:not([hidden])", { timeout: WAIT_MS });
    const after = await fetch(base + "/api/v1/tenants/acme/me",
      { headers: { Cookie: "opsbox_session=" + session.value } });
    assert.equal(after.status, 401);
    assert.deepEqual(errors, []);
  } finally {
    await tearDown(browser, server, dir);
  }
});
