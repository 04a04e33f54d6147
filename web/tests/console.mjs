// Goal: the console is one application a contact-centre team can use after one sign-in, in a real
// browser against the real server, at a desktop (1366x768) and a phone (390x844) viewport:
// - a deep link before sign-in goes to the sign-in page and back to the link; a wrong password
//   says so; an administrator then visits every page of the navigation (and reloads) without a
//   second sign-in; every page is axe-core clean (no serious or critical violation) and is
//   photographed into the build folder;
// - an agent does not see Settings and gets "no access" on its URL;
// - a supervisor's home shows a queue at risk while `opsbox simulate` overloads a queue;
// - creating an API key in Settings shows the key once (a dialog), never again;
// - a form shows the server's RFC 9457 field error beside the field (webhook url);
// - a webhook dead letter (a loopback target answering 500) is replayed from the UI;
// - an event's inclusion proof is checked in the browser against the signed checkpoint;
// - Hindi renders (navigation and headings in Devanagari, axe clean);
// - an expired session returns to sign-in and back to the page; logging out in one tab logs the
//   other tab out, and the server then refuses the old cookie.
// One server (temp SQLite) and one headless Debian chromium for every scenario; playwright-core.
// Environment: OPSBOX_BIN, OPSBOX_ARTIFACT_DIR (screenshots go to <dir>/console/), CHROMIUM.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import test from "node:test";
import { BIN, call, cli, closeContexts, launchContexts, startServer, tempDataDir } from "./lib/harness.mjs";

const require = createRequire(import.meta.url);
const AXE = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const ARTIFACTS = path.join(process.env.OPSBOX_ARTIFACT_DIR || process.cwd(), "console");
const WAIT_MS = 30000;
const RISK_WAIT_MS = 120000;
const PASSWORD = "correct horse battery staple";
const VIEWPORTS = [{ name: "desktop", width: 1366, height: 768 }, { name: "phone", width: 390, height: 844 }];
// The administrator's navigation, in order (Desktop needs routing.work, which admin lacks).
const ADMIN_PAGES = ["home", "wallboard", "customers", "conversations", "workforce", "privacy",
  "audit", "cases", "collections", "kpis", "settings"];

async function until(fn, what) {
  for (let i = 0; i < 600; i++) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("gave up waiting for " + what);
}

async function signIn(page, username) {
  await page.waitForSelector("#login-form", { timeout: WAIT_MS });
  await page.fill("#tenant", "acme");
  await page.fill("#username", username);
  await page.fill("#password", PASSWORD);
  await page.click("#login-button");
  await page.waitForSelector("#nav", { timeout: WAIT_MS });
}

async function axeClean(page, label) {
  const results = await page.evaluate(async (source) => {
    if (!window.axe) (0, eval)(source);
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => v.id + ": " + v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", "));
  }, AXE);
  assert.deepEqual(results, [], label + " has serious or critical accessibility violations");
}

async function shoot(page, viewport, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}-${viewport.name}.png`), fullPage: true });
}

async function settle(page) {
  await page.waitForFunction(() => !document.querySelector("main .loading"), null, { timeout: WAIT_MS });
}

async function fitsViewport(page, label) {
  const { scroll, width } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth, width: document.documentElement.clientWidth }));
  assert.ok(scroll <= width, `${label}: ${scroll}px wide in a ${width}px viewport`);
}

test("one sign-in serves every console page, by role, at desktop and phone sizes", async () => {
  const dir = tempDataDir();
  fs.appendFileSync(path.join(dir, "opsbox.toml"),
    "[webhooks]\nretry_max = 1\nretry_delay_ms_initial = 50\npoll_interval_ms = 50\n" +
    "[ledger]\ncheckpoint_interval_events = 1\ncheckpoint_interval_ms = 100\n");
  cli(dir, ["admin", "create-tenant", "--tenant", "acme", "--name", "Acme"]);
  const users = { olivia: "admin", ann: "agent", sam: "supervisor", cora: "compliance_officer" };
  for (const [name, role] of Object.entries(users)) {
    cli(dir, ["admin", "create-user", "--tenant", "acme", "--username", name, "--password-stdin",
      "--role", role], PASSWORD + "\n");
  }
  const admin = JSON.parse(cli(dir, ["admin", "create-api-key", "--tenant", "acme", "--name", "setup",
    "--role", "admin"])).key;
  const simKey = JSON.parse(cli(dir, ["admin", "create-api-key", "--tenant", "acme", "--name", "sim",
    "--role", "admin"])).key;
  // A webhook target on loopback that always fails: its deliveries become dead letters.
  const target = http.createServer((req, res) => { req.resume(); res.writeHead(500).end("down"); });
  await new Promise((r) => target.listen(0, "127.0.0.1", r));
  const server = await startServer(dir);
  const base = "http://127.0.0.1:" + server.port;
  const sub = await call(base, admin, "POST", "/webhooks",
    { url: `http://127.0.0.1:${target.address().port}/hooks`, event_types: ["external_event_recorded"] });
  await call(base, admin, "POST", "/external-events", { source: "crm", type: "customer.updated",
    external_id: "c-1", occurred_at: "2026-11-22T10:00:00Z", payload: { segment: "gold" } });
  await until(async () => (await call(base, admin, "GET", "/webhooks/deliveries?status=dead")).items.length === 1,
    "the dead letter");
  // Traffic a single agent cannot keep up with: the queue's longest wait grows.
  const sim = spawn(BIN, ["simulate", "--url", base, "--tenant", "acme", "--agents", "1",
    "--rate-per-min", "60", "--handle-s-mean", "120", "--wrap-up-s", "1", "--duration-s", "600",
    "--seed", "7", "--channels", "chat"], { env: { ...process.env, OPSBOX_API_KEY: simKey }, stdio: "ignore" });

  const browsers = await launchContexts(0);
  const errors = [];
  try {
    for (const viewport of VIEWPORTS) {
      const size = { viewport: { width: viewport.width, height: viewport.height } };
      const context = await browsers.browser.newContext(size);
      const page = await context.newPage();
      page.on("pageerror", (e) => errors.push(viewport.name + ": " + e.message));

      // A deep link before sign-in: the sign-in page, a wrong password, then back to the link.
      await page.goto(base + "/audit?type=tenant_created");
      await page.waitForSelector("#login-form", { timeout: WAIT_MS });
      assert.match(page.url(), /\/sign-in\?next=%2Faudit/);
      await axeClean(page, "sign-in");
      await shoot(page, viewport, "sign-in");
      await page.fill("#tenant", "acme");
      await page.fill("#username", "olivia");
      await page.fill("#password", "not the password");
      await page.click("#login-button");
      await page.waitForFunction(() => document.getElementById("login-error").textContent !== "", null,
        { timeout: WAIT_MS });
      await signIn(page, "olivia");
      assert.equal(new URL(page.url()).pathname, "/audit");
      await page.waitForSelector('#events tr[data-seq]', { timeout: WAIT_MS });

      // Every page of the navigation by clicking, and a reload, without a second sign-in.
      const listed = await page.$$eval("#nav a", (as) => as.map((a) => a.getAttribute("href").slice(1)));
      assert.deepEqual(listed, ADMIN_PAGES);
      for (const id of ADMIN_PAGES) {
        await page.click(`#nav a[href="/${id}"]`);
        await page.waitForSelector(`main[data-page="${id}"]`, { timeout: WAIT_MS });
        await settle(page);
        assert.equal(await page.locator("#login-form").count(), 0, id + " asked to sign in again");
        assert.equal(await page.getAttribute(`#nav a[href="/${id}"]`, "aria-current"), "page");
        await axeClean(page, id);
        await fitsViewport(page, id);
        await shoot(page, viewport, id);
      }
      await page.reload();
      await page.waitForSelector('main[data-page="settings"]', { timeout: WAIT_MS });
      assert.equal(await page.locator("#login-form").count(), 0, "a reload keeps the session");

      // Settings: an API key is shown once.
      await page.click('a[href="/settings/api-keys"]');
      const keyName = "crm-" + viewport.name;
      await page.getByLabel("Name", { exact: true }).fill(keyName);
      await page.click('form[aria-label="Create an API key"] button[type=submit]');
      const shown = await page.waitForSelector("#new-api-key", { timeout: WAIT_MS });
      const key = await shown.textContent();
      assert.match(key, /^obx_/);
      await axeClean(page, "the API key dialog");
      await shoot(page, viewport, "api-key-once");
      await page.getByRole("button", { name: "Close" }).click();
      await page.waitForSelector(`tr[data-key] >> text=${keyName}`, { timeout: WAIT_MS });
      await page.reload();
      await page.waitForSelector(`tr[data-key] >> text=${keyName}`, { timeout: WAIT_MS });
      assert.equal((await page.content()).includes(key), false, "the key is never shown again");

      // Webhooks: the server's field error beside the field, then a dead letter replayed.
      await page.click('a[href="/settings/webhooks"]');
      await page.getByLabel("URL", { exact: true }).fill("ftp://example.invalid/hooks");
      await page.click('form[aria-label="Subscribe a URL"] button[type=submit]');
      await page.waitForFunction(() => /url/.test(document.querySelector(
        '.field[data-field="url"] .field-error')?.textContent || ""), null, { timeout: WAIT_MS });
      assert.equal(await page.getAttribute('.field[data-field="url"] input', "aria-invalid"), "true");
      await shoot(page, viewport, "field-error");
      const row = `tr[data-delivery^="${sub.subscription_id}:"]`;
      await page.waitForSelector(row, { timeout: WAIT_MS });
      const replaysBefore = (await call(base, admin, "GET", "/events?type=webhook_delivery_replayed")).items.length;
      await page.click(`${row} button.replay`);
      await page.waitForSelector(".toast >> text=Delivery replayed", { timeout: WAIT_MS });
      await until(async () => (await call(base, admin, "GET", "/events?type=webhook_delivery_replayed"))
        .items.length === replaysBefore + 1, "webhook_delivery_replayed");

      // Audit: an event's inclusion proof checked in this browser.
      await page.goto(base + "/audit/1");
      await page.click("#check-proof");
      await page.waitForSelector('#proof-result[data-verified]', { timeout: WAIT_MS });
      assert.equal(await page.getAttribute("#proof-result", "data-verified"), "true",
        await page.textContent("#proof-result"));
      await axeClean(page, "event detail");
      await shoot(page, viewport, "audit-event");
      if (viewport.name === "desktop") {
        // A server that lies is caught: a changed audit path, then a changed signature.
        const tamper = async (change, expected) => {
          await page.route("**/events/1/proof", async (route) => {
            const proof = await (await route.fetch()).json();
            change(proof);
            await route.fulfill({ json: proof });
          });
          await page.click("#check-proof");
          await page.waitForFunction((e) => document.getElementById("proof-result").dataset.verified === "false" &&
            document.getElementById("proof-result").textContent.includes(e), expected, { timeout: WAIT_MS });
          await page.unroute("**/events/1/proof");
        };
        const flip = (hex) => (hex[0] === "0" ? "1" : "0") + hex.slice(1);
        await tamper((p) => { p.audit_path[0] = flip(p.audit_path[0]); }, "another root");
        await tamper((p) => { p.checkpoint.signature = flip(p.checkpoint.signature); }, "signature");
      }

      // The administrator's home shows the scheduled backups' state, with an alert unless they
      // are fine (a fresh test server has run none yet: pending).
      await page.goto(base + "/home");
      await page.waitForSelector("#home-backups [data-backup-state]", { timeout: WAIT_MS });
      const backupState = await page.getAttribute("#home-backups [data-backup-state]", "data-backup-state");
      const served = await page.evaluate(async (p) => (await (await fetch(p)).json()).state,
        "/api/v1/tenants/acme/system/backups");
      assert.equal(backupState, served);
      assert.equal(await page.isVisible("#backup-alert"), !["ok", "standby"].includes(served));

      // Hindi.
      await page.goto(base + "/home");
      await page.waitForSelector("#language", { timeout: WAIT_MS });
      await page.selectOption("#language", "hi");
      await page.waitForFunction(() => document.documentElement.lang === "hi" &&
        document.querySelector('#nav a[href="/home"]').textContent.includes("होम"), null, { timeout: WAIT_MS });
      await settle(page);
      await axeClean(page, "home in Hindi");
      await shoot(page, viewport, "home-hindi");
      await page.selectOption("#language", "en");

      // An expired session (the cookie is gone): back to sign-in, then back to the page.
      await page.click('#nav a[href="/privacy"]');
      await page.waitForSelector('main[data-page="privacy"]', { timeout: WAIT_MS });
      await context.clearCookies();
      await page.click('#nav a[href="/customers"]');
      await page.click('#nav a[href="/audit"]');
      await page.waitForSelector("#login-form", { timeout: WAIT_MS });
      assert.match(page.url(), /\/sign-in\?next=%2F(audit|customers)/);
      assert.ok(await page.isVisible(".notice"), "the sign-in page says the session ended");
      const expectedBack = decodeURIComponent(new URL(page.url()).searchParams.get("next"));
      await signIn(page, "olivia");
      assert.equal(new URL(page.url()).pathname, expectedBack);

      // Logging out in one tab logs the other tab out.
      const other = await context.newPage();
      other.on("pageerror", (e) => errors.push(viewport.name + " tab 2: " + e.message));
      await other.goto(base + "/home");
      await other.waitForSelector("#nav", { timeout: WAIT_MS });
      const cookie = (await context.cookies(base)).find((c) => c.name === "opsbox_session");
      assert.ok(cookie && cookie.httpOnly && cookie.sameSite === "Strict");
      await page.click("#logout");
      await page.waitForSelector("#login-form", { timeout: WAIT_MS });
      await other.waitForSelector("#login-form", { timeout: WAIT_MS });
      const after = await fetch(base + "/api/v1/tenants/acme/me", { headers: { Cookie: "opsbox_session=" + cookie.value } });
      assert.equal(after.status, 401);
      await context.close();

      // An agent: no Settings, and "no access" on its URL.
      const agentContext = await browsers.browser.newContext(size);
      const agent = await agentContext.newPage();
      agent.on("pageerror", (e) => errors.push(viewport.name + " agent: " + e.message));
      await agent.goto(base + "/");
      await signIn(agent, "ann");
      await agent.waitForSelector('main[data-page="home"]', { timeout: WAIT_MS });
      const agentNav = await agent.$$eval("#nav a", (as) => as.map((a) => a.getAttribute("href")));
      assert.ok(agentNav.includes("/desktop") && !agentNav.includes("/settings"), agentNav.join(" "));
      await settle(agent);
      await axeClean(agent, "agent home");
      await shoot(agent, viewport, "home-agent");
      await agent.click('#nav a[href="/desktop"]');
      await agent.waitForFunction(() => document.getElementById("stream-status")?.textContent === "stream: live",
        null, { timeout: WAIT_MS });
      await axeClean(agent, "desktop");
      await shoot(agent, viewport, "desktop");
      await agent.goto(base + "/settings/api-keys");
      await agent.waitForSelector("#no-access", { timeout: WAIT_MS });
      assert.equal(await agent.locator("#login-form").count(), 0);
      await axeClean(agent, "no access");
      await shoot(agent, viewport, "no-access");
      await agentContext.close();

      // A supervisor's home shows the overloaded queue at risk.
      const supervisorContext = await browsers.browser.newContext(size);
      const supervisor = await supervisorContext.newPage();
      supervisor.on("pageerror", (e) => errors.push(viewport.name + " supervisor: " + e.message));
      await supervisor.goto(base + "/home");
      await signIn(supervisor, "sam");
      await supervisor.waitForSelector('#home-risk tr[data-queue="sim"] [data-sla="risk"], ' +
        '#home-risk tr[data-queue="sim"] [data-sla="breach"]', { timeout: RISK_WAIT_MS });
      await axeClean(supervisor, "supervisor home");
      await shoot(supervisor, viewport, "home-supervisor");
      await supervisorContext.close();

      // Compliance: approvals, dead letters and the ledger on the home.
      const complianceContext = await browsers.browser.newContext(size);
      const compliance = await complianceContext.newPage();
      compliance.on("pageerror", (e) => errors.push(viewport.name + " compliance: " + e.message));
      await compliance.goto(base + "/home");
      await signIn(compliance, "cora");
      await compliance.waitForSelector("#home-ledger dl", { timeout: WAIT_MS });
      await compliance.click("#home-ledger button");
      await compliance.waitForSelector("#verify-result.ok", { timeout: WAIT_MS });
      await settle(compliance);
      await axeClean(compliance, "compliance home");
      await shoot(compliance, viewport, "home-compliance");
      await complianceContext.close();
    }
    assert.deepEqual(errors, []);
  } finally {
    sim.kill("SIGTERM");
    await new Promise((r) => (sim.exitCode !== null ? r() : sim.once("exit", r)));
    target.close();
    await closeContexts(browsers, server, dir);
  }
});
