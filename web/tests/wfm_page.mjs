// Goal: the planning page (/wfm, the console's Workforce page) works in a real browser against
// the real server: a planner signs in to the console, forecasts a queue from history and saves it, sees required agents equal to what
// `opsbox wfm erlang-c` computes for the same interval, changes a target and sees the required
// agents change live to the new Erlang value, saves targets and a schedule (the roster appears),
// reloads and loads everything back through the UI. Headless Debian chromium driven by
// playwright-core; the server runs on a free loopback port over a temp SQLite database.
// Environment: OPSBOX_BIN (the opsbox binary), OPSBOX_ARTIFACT_DIR (screenshot; default cwd),
// CHROMIUM (default /usr/bin/chromium).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import test from "node:test";
import { BIN, cli, launchBrowser, startServer, tearDown, tempDataDir } from "./lib/harness.mjs";

const ARTIFACTS = process.env.OPSBOX_ARTIFACT_DIR || process.cwd();
const WAIT_MS = 30000;
const PASSWORD = "correct horse battery staple";


function erlangC(volume, intervalS, ahtS, answerS, serviceLevel, shrinkage) {
  const out = execFileSync(BIN, ["wfm", "erlang-c", "--volume", String(volume), "--interval-s",
    String(intervalS), "--aht-s", String(ahtS), "--target-answer-s", String(answerS),
    "--service-level", String(serviceLevel), "--shrinkage", String(shrinkage), "--json"],
  { encoding: "utf8" });
  return JSON.parse(out);
}


// The row of interval `index` in the per-interval table: its cell texts by column.
async function row(page, index) {
  return page.$eval(`#intervals tr[data-index="${index}"]`, (tr) =>
    Object.fromEntries([...tr.querySelectorAll("td")].map((td) => [td.dataset.col, td.textContent])));
}

async function waitForCell(page, index, col, expected) {
  await page.waitForFunction(([i, c, e]) => {
    const td = document.querySelector(`#intervals tr[data-index="${i}"] td[data-col="${c}"]`);
    return td && td.textContent === e;
  }, [index, col, String(expected)], { timeout: WAIT_MS });
}

async function waitForStatus(page, pattern) {
  await page.waitForFunction((p) => new RegExp(p).test(document.getElementById("status").textContent),
    pattern, { timeout: WAIT_MS });
}

// Volume and AHT of interval `index` of the selected day, from the saved forecast via the API.
async function forecastInterval(page, index) {
  return page.evaluate(async (i) => {
    const tenant = JSON.parse(localStorage.getItem("opsbox.session")).tenant;
    const base = "/api/v1/tenants/" + tenant + "/wfm/forecasts";
    const list = await (await fetch(base + "?limit=1&queue=cards")).json();
    const f = await (await fetch(base + "/" + list.items[0].forecast_id)).json();
    const day = document.getElementById("day").value;
    const offset = (Date.parse(day) - Date.parse(f.first_start_local.slice(0, 10))) / 86400000;
    const k = offset * (1440 / f.interval_min) + i;
    return { volume: f.volume[k], aht_s: f.aht_s[k], interval_s: f.interval_min * 60 };
  }, index);
}

test("planner forecasts, retargets live, schedules and reloads on the /wfm page", async () => {
  const dir = tempDataDir();
  cli(dir, ["admin", "create-tenant", "--tenant", "demo", "--name", "Demo"]);
  cli(dir, ["admin", "create-user", "--tenant", "demo", "--username", "planner",
    "--password-stdin", "--role", "wfm_planner"], PASSWORD + "\n");
  const server = await startServer(dir);
  const browser = await launchBrowser({
    viewport: { width: 1400, height: 1000 },
  });
  const { context } = browser;
  const errors = [];
  try {
    const page = context.pages()[0] || await context.newPage();
    page.on("pageerror", (e) => errors.push(e.message));
    const base = "http://127.0.0.1:" + server.port;
    await page.goto(base + "/wfm");
    await page.fill("#tenant", "demo");
    await page.fill("#username", "planner");
    await page.fill("#password", PASSWORD);
    await page.click("#login-button");
    await page.waitForSelector("#planner", { state: "visible", timeout: WAIT_MS });

    await page.click("#sample-history");
    await page.click("#save-forecast");
    await waitForStatus(page, "^Recomputed");
    const noon = 12;
    const f = await forecastInterval(page, noon);
    const before = erlangC(f.volume, f.interval_s, f.aht_s, 20, 0.8, 0.3);
    await waitForCell(page, noon, "required", before.agents);
    await waitForCell(page, noon, "required-scheduled", before.scheduled_agents);

    await page.fill("#t-answer", "5");
    await page.fill("#t-sl", "95");
    const after = erlangC(f.volume, f.interval_s, f.aht_s, 5, 0.95, 0.3);
    assert.ok(after.agents > before.agents, "the stricter target needs more agents");
    await waitForCell(page, noon, "required", after.agents);
    await waitForCell(page, noon, "required-scheduled", after.scheduled_agents);
    await page.click("#save-targets");
    await waitForStatus(page, "^Saved targets");

    await page.click("#build-schedule");
    await waitForStatus(page, "^Recomputed");
    assert.ok(await page.$$eval("#roster tbody tr", (r) => r.length) > 0, "the roster has shifts");
    const scheduled = Number((await row(page, noon)).scheduled);
    assert.ok(scheduled >= after.scheduled_agents, "the schedule covers the requirement at noon");
    await page.waitForFunction((i) => document.querySelector(
      `#intervals tr[data-index="${i}"] td[data-col="simulated-sl"]`).textContent.includes("%"),
    noon, { timeout: WAIT_MS });

    await page.reload();
    await page.waitForSelector("#planner", { state: "visible", timeout: WAIT_MS });
    await page.click("#load-forecast");
    await waitForCell(page, noon, "required", after.agents);
    await waitForCell(page, noon, "scheduled", scheduled);
    assert.equal(await page.inputValue("#t-sl"), "95");
    assert.equal(await page.$$eval("#chart-volume svg path", (p) => p.length) > 0, true);

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, "wfm_page.png"), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await tearDown(browser, server, dir);
  }
});
