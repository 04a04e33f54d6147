// Goal: the collections pages (issue #11) work in a real browser against the real server, with
// the keyboard alone: an agent signs in, opens Collections from the navigation, sees the worklist
// in working order with "can contact now?", and a blocked contact shows its reason (the disputed
// account: dispute_hold); the agent opens that account with the keyboard and sees the same
// reason in its contact check; recording an outbound call on it is refused and the refusal
// shows the rule, while an allowed account's call is recorded and appears in its attempts.
// The portfolio is tests/data/collections/demo_portfolio.csv (the demo's), imported with
// `opsbox collections import`. Headless Debian chromium driven by playwright-core; the server
// runs on a free loopback port over a temp SQLite database.
// Environment: OPSBOX_BIN, OPSBOX_ARTIFACT_DIR (screenshot; default cwd), CHROMIUM.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import test from "node:test";
import { fileURLToPath } from "node:url";
import { cli, launchBrowser, startServer, tearDown, tempDataDir } from "./lib/harness.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PORTFOLIO = path.join(HERE, "..", "..", "tests", "data", "collections", "demo_portfolio.csv");
const ARTIFACTS = process.env.OPSBOX_ARTIFACT_DIR || process.cwd();
const WAIT_MS = 30000;
const PASSWORD = "correct horse battery staple";

test("a blocked contact shows its reason on the worklist and on the account", async () => {
  const dir = tempDataDir();
  cli(dir, ["admin", "create-tenant", "--tenant", "acme", "--name", "Acme"]);
  cli(dir, ["admin", "create-user", "--tenant", "acme", "--username", "agent",
    "--password-stdin", "--role", "agent"], PASSWORD + "\n");
  const report = JSON.parse(cli(dir, ["collections", "import", "--tenant", "acme", "--json", PORTFOLIO]));
  assert.equal(report.rows_rejected, 0);
  const server = await startServer(dir);
  const browser = await launchBrowser({ viewport: { width: 1366, height: 900 } });
  const errors = [];
  try {
    const page = browser.context.pages()[0] || await browser.context.newPage();
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto("http://127.0.0.1:" + server.port + "/collections");
    await page.waitForSelector("#login-form", { timeout: WAIT_MS });
    await page.fill("#tenant", "acme");
    await page.fill("#username", "agent");
    await page.fill("#password", PASSWORD);
    await page.keyboard.press("Enter");
    await page.waitForSelector("#worklist table", { timeout: WAIT_MS });

    // Working order: the largest overdue amount first (CC-2003, 45,000 INR).
    const order = await page.$$eval("#worklist tbody tr", (rows) => rows.map((r) => r.dataset.account));
    assert.equal(order[0], "CC-2003");
    assert.equal(order.length, 10);
    const disputed = page.locator('#worklist tr[data-account="LN-1002"]');
    assert.equal(await disputed.locator('td[data-col="can"]').textContent(), "no");
    assert.match(await disputed.locator('td[data-col="reasons"]').textContent(), /dispute_hold/);
    const vulnerable = page.locator('#worklist tr[data-account="CC-2003"] td[data-col="reasons"]');
    assert.match(await vulnerable.textContent(), /vulnerable/);

    // Open the disputed account with the keyboard only.
    await page.locator('#worklist tr[data-account="LN-1002"] a').focus();
    await page.keyboard.press("Enter");
    await page.waitForSelector('#contact-check [data-allowed="false"]', { timeout: WAIT_MS });
    assert.match(await page.textContent("#contact-check"), /dispute_hold/);
    assert.doesNotMatch(await page.textContent("#account"), /vikram\.s@example\.in|9845012346/);

    // Recording an outbound call is refused and shows the rule.
    await page.selectOption('select[name="channel"]', "voice");
    await page.selectOption('select[name="direction"]', "outbound");
    await page.locator("form.form button[type=submit]").focus();
    await page.keyboard.press("Enter");
    await page.waitForSelector('#attempt-refused li[data-rule="dispute_hold"]', { timeout: WAIT_MS });
    assert.match(await page.textContent("form.form .form-error"), /contact policy/);

    // An inbound call is recorded and appears in the attempts.
    await page.selectOption('select[name="direction"]', "inbound");
    await page.selectOption('select[name="outcome"]', "callback_requested");
    await page.locator("form.form button[type=submit]").focus();
    await page.keyboard.press("Enter");
    await page.waitForSelector("tr[data-attempt]", { timeout: WAIT_MS });
    assert.match(await page.textContent("tr[data-attempt]"), /callback_requested/);

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, "collections.png"), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await tearDown(browser, server, dir);
  }
});
