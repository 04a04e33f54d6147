// Goal: the cases page works in a real browser against the real server: with a short SLA policy
// (set over the API), a supervisor opens a complaint from the keyboard, moves it on with the
// keyboard, and sees its breach appear without reloading: the live countdown turns overdue, the
// server's SLA timer records the breach (it shows in the timeline), and the list marks the row
// breached and finds it by the "breached" filter. List and detail are axe-core clean. Headless
// Debian chromium driven by playwright-core; the server runs on a free loopback port over a temp
// SQLite database. Environment: OPSBOX_BIN, OPSBOX_ARTIFACT_DIR, CHROMIUM.
import assert from "node:assert/strict";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import test from "node:test";
import { cli, launchBrowser, startServer, tearDown, tempDataDir } from "./lib/harness.mjs";

const require = createRequire(import.meta.url);
const AXE = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const ARTIFACTS = process.env.OPSBOX_ARTIFACT_DIR || process.cwd();
const WAIT_MS = 30000;
const PASSWORD = "correct horse battery staple";

async function axeClean(page, label) {
  const results = await page.evaluate(async (source) => {
    if (!window.axe) (0, eval)(source);
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => v.id + ": " + v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", "));
  }, AXE);
  assert.deepEqual(results, [], label + " has serious or critical accessibility violations");
}

test("a supervisor opens a complaint with a short SLA and sees its breach appear", async () => {
  const dir = tempDataDir();
  cli(dir, ["admin", "create-tenant", "--tenant", "demo", "--name", "Demo"]);
  cli(dir, ["admin", "create-user", "--tenant", "demo", "--username", "sam",
    "--password-stdin", "--role", "supervisor"], PASSWORD + "\n");
  const key = JSON.parse(cli(dir, ["admin", "create-api-key", "--tenant", "demo", "--name", "setup",
    "--role", "admin"])).key;
  const server = await startServer(dir);
  const base = "http://127.0.0.1:" + server.port;
  const settings = await fetch(base + "/api/v1/tenants/demo/case-settings", {
    method: "PUT",
    headers: { Authorization: "Bearer " + key, "Content-Type": "application/json" },
    body: JSON.stringify({ calendar: { zone: "UTC" }, sla_policies: [{ type: "complaint",
      first_response_s: 4, resolution_s: 8, business_time: false, at_risk_share: 0.5 }] }),
  });
  assert.equal(settings.status, 200, await settings.text());
  const browser = await launchBrowser({ viewport: { width: 1366, height: 900 } });
  const errors = [];
  try {
    const page = browser.context.pages()[0] || await browser.context.newPage();
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(base + "/cases");
    await page.fill("#tenant", "demo");
    await page.fill("#username", "sam");
    await page.fill("#password", PASSWORD);
    await page.keyboard.press("Enter");
    await page.waitForSelector("#open-case", { timeout: WAIT_MS });
    await axeClean(page, "the empty case list");

    // Open a complaint from the keyboard: fill the subject and press Enter.
    await page.selectOption('#open-case [name="category"]', "cards.disputed_transaction");
    await page.fill('#open-case [name="description"]', "Charged twice at the grocer");
    await page.focus('#open-case [name="subject"]');
    await page.keyboard.type("Charged twice");
    await page.keyboard.press("Enter");
    await page.waitForSelector("#case-subject", { timeout: WAIT_MS });
    const caseId = new URL(page.url()).pathname.split("/").pop();
    assert.match(caseId, /^case_/);
    assert.equal(await page.textContent('[data-fact="status"]'), "new");

    // Move it on with the keyboard: focus the button and press Enter.
    await page.focus('#transitions button[data-to="open"]');
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.querySelector('[data-fact="status"]')?.textContent === "open",
      null, { timeout: WAIT_MS });

    // The breach appears: the countdown turns overdue and the timer's record shows up.
    await page.waitForSelector('#case-sla [data-sla="breach"]', { timeout: WAIT_MS });
    await page.waitForFunction(() => /overdue/.test(document.querySelector("#case-sla .countdown")?.textContent || ""),
      null, { timeout: WAIT_MS });
    await page.waitForFunction(() => [...document.querySelectorAll('#case td[data-col="kind"]')]
      .filter((td) => td.textContent === "sla_breached").length === 2, null, { timeout: WAIT_MS });
    await axeClean(page, "the case detail");
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, "cases_detail.png"), fullPage: true });

    // Back to the list: the row stands out as breached and the "breached" filter finds it.
    await page.click('a[href="/cases"][data-nav]:not([title])');
    await page.waitForSelector(`#cases tr[data-case="${caseId}"].sla-breach [data-sla="breach"]`,
      { timeout: WAIT_MS });
    await page.selectOption('#case-filters [name="sla_state"]', "breached");
    await page.waitForSelector(`#cases tr[data-case="${caseId}"]`, { timeout: WAIT_MS });
    await page.selectOption('#case-filters [name="sla_state"]', "on_track");
    await page.waitForSelector(`#cases tr[data-case="${caseId}"]`, { state: "detached", timeout: WAIT_MS });
    await axeClean(page, "the case list");
    await page.screenshot({ path: path.join(ARTIFACTS, "cases_list.png"), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await tearDown(browser, server, dir);
  }
});
