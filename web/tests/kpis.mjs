// Goal: the KPI dashboard (issue #13) in a real browser against the real server: a supervisor
// signs in, opens KPIs from the navigation with the keyboard, and watches the figures change
// while `opsbox simulate` routes contacts through the server (offered grows, the queue's row
// appears with answered contacts and a service level, the trend table fills); the view
// switches to agents with the keyboard; the CSV link downloads the same figures. The chart has
// a text equivalent (the table). Headless Debian chromium driven by playwright-core; the server
// runs on a free loopback port over a temp SQLite database.
// Environment: OPSBOX_BIN, OPSBOX_ARTIFACT_DIR (screenshots; default cwd), CHROMIUM.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import test from "node:test";
import { BIN, call, cli, closeContexts, launchContexts, startServer, tempDataDir } from "./lib/harness.mjs";

const ARTIFACTS = process.env.OPSBOX_ARTIFACT_DIR || process.cwd();
const WAIT_MS = 60000;
const PASSWORD = "correct horse battery staple";

test("the KPI dashboard changes while opsbox simulate routes contacts", async () => {
  const dir = tempDataDir();
  cli(dir, ["admin", "create-tenant", "--tenant", "acme", "--name", "Acme"]);
  cli(dir, ["admin", "create-user", "--tenant", "acme", "--username", "sam", "--password-stdin",
    "--role", "supervisor"], PASSWORD + "\n");
  const admin = JSON.parse(cli(dir, ["admin", "create-api-key", "--tenant", "acme", "--name", "sim",
    "--role", "admin"])).key;
  const server = await startServer(dir);
  const base = "http://127.0.0.1:" + server.port;
  // The client's contract for this month: the invoice card reads it.
  const month = new Date().toISOString().slice(0, 7);
  await call(base, admin, "PUT", "/billing/contract", { client_name: "Acme Bank", currency: "INR",
    effective_month: month, pricing: { per_contact_minor: 1250 },
    targets: [{ kpi: "service_level", op: ">=", target: 0.8 }] });
  const browsers = await launchContexts(1, { viewport: { width: 1366, height: 900 }, acceptDownloads: true });
  let sim = null;
  const errors = [];
  try {
    const page = await browsers.contexts[0].newPage();
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(base + "/");
    await page.getByLabel("Tenant").fill("acme");
    await page.getByLabel("Username").fill("sam");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    const nav = page.locator('#nav a[href="/kpis"]');
    await nav.waitFor({ timeout: WAIT_MS });
    await nav.focus();
    await page.keyboard.press("Enter");
    await page.waitForSelector('main[data-page="kpis"]', { timeout: WAIT_MS });
    const offered = page.locator('#kpi-totals dd[data-kpi="offered"]');
    await offered.waitFor({ timeout: WAIT_MS });
    assert.equal(await offered.textContent(), "0");

    sim = spawn(BIN, ["simulate", "--url", base, "--tenant", "acme", "--api-key", admin,
      "--rate-per-min", "240", "--flat", "--agents", "3", "--handle-s-mean", "0.5",
      "--wrap-up-s", "0.2", "--duration-s", "40", "--seed", "3", "--channels", "voice"],
    { stdio: "ignore" });
    // The page refreshes itself: no reload, the totals grow as contacts are answered.
    await page.waitForFunction(() => {
      const v = Number(document.querySelector('#kpi-totals dd[data-kpi="answered"]')?.textContent);
      return v >= 3;
    }, null, { timeout: WAIT_MS });
    const first = Number(await offered.textContent());
    assert.ok(first >= 3, "offered " + first);
    await page.waitForFunction((before) =>
      Number(document.querySelector('#kpi-totals dd[data-kpi="offered"]')?.textContent) > before,
    first, { timeout: WAIT_MS });
    const queueRow = page.locator("#kpi-table tr[data-group]").first();
    await queueRow.waitFor({ timeout: WAIT_MS });
    const sl = await queueRow.locator('td[data-col="service_level"]').textContent();
    assert.match(sl, /%$/, "a service level in percent: " + sl);
    assert.ok(await page.locator("#kpi-trend tr[data-time]").count() >= 1);
    await page.screenshot({ path: path.join(ARTIFACTS, "kpis_dashboard.png") });

    // Keyboard: switch the view to agents; the table's first column becomes the agent.
    await page.locator("#kpi-view").focus();
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("ArrowDown");
    await page.waitForFunction(() =>
      document.querySelector("#kpi-table th")?.textContent?.startsWith("Agent"), null,
    { timeout: WAIT_MS });
    await page.waitForSelector('#kpi-totals dd[data-kpi="handled"]', { timeout: WAIT_MS });

    // The client invoice for the month: its contacts line is the handled contacts at 12.50,
    // the same figures as the invoice API answers.
    if (sim && sim.exitCode === null) {
      sim.kill("SIGTERM");
      await new Promise((resolve) => sim.once("exit", resolve));
    }
    // Tasks in flight when the simulation stopped still end: wait for the invoice to settle.
    let invoice = await call(base, admin, "GET", "/billing/invoices/" + month);
    for (let i = 0; i < 60; i++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const again = await call(base, admin, "GET", "/billing/invoices/" + month);
      if (JSON.stringify(again) === JSON.stringify(invoice)) break;
      invoice = again;
    }
    await page.locator("#invoice-month").focus();
    await page.locator("#invoice-month").fill(month);
    await page.locator("#invoice-month").dispatchEvent("change");
    await page.waitForFunction((total) =>
      document.querySelector('#invoice-totals dd[data-total="total"]')?.textContent?.replace(/[^0-9]/g, "") ===
        String(total), invoice.total_minor, { timeout: WAIT_MS });
    const contacts = invoice.lines.find((l) => l.item === "contacts");
    assert.equal(contacts.amount_minor, invoice.usage.contacts * 1250);
    assert.ok(invoice.usage.contacts >= 3);
    await page.locator('#invoice tr[data-item="contacts"]').waitFor({ timeout: WAIT_MS });

    // The CSV link downloads the same grouping as a file.
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#kpi-csv")]);
    const file = await download.path();
    const text = (await import("node:fs")).readFileSync(file, "utf8");
    assert.match(text.split("\r\n")[0], /^agent,hour,handled,aht,att,acw,transfer_rate$/);
    assert.deepEqual(errors, []);
  } finally {
    if (sim && sim.exitCode === null) sim.kill("SIGTERM");
    await closeContexts(browsers, server, dir);
  }
});
