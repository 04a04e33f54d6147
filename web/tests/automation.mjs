// Goal: the automation boundary in the console (issue #12), in a real browser against the real
// server: a bot's session hands off to a human; the routed task is offered to the agent and the
// desktop shows the handoff packet first, above the offer (intent, what was tried, what was
// collected, authentication, the masked transcript); the agent accepts with the keyboard and
// marks the packet not useful naming what was missing, which the acceptance KPI counts; a
// compliance officer declares a boundary rule in Settings with the keyboard and the new policy
// version is in force. Headless Debian chromium driven by playwright-core; the server runs on a
// free loopback port over a temp SQLite database.
// Environment: OPSBOX_BIN, OPSBOX_ARTIFACT_DIR (screenshots; default cwd), CHROMIUM.
import assert from "node:assert/strict";
import path from "node:path";
import test from "node:test";
import { call, cli, closeContexts, launchContexts, startServer, tempDataDir } from "./lib/harness.mjs";

const ARTIFACTS = process.env.OPSBOX_ARTIFACT_DIR || process.cwd();
const WAIT_MS = 30000;
const PASSWORD = "correct horse battery staple";
const VIEWPORT = { width: 1366, height: 768 };

async function logIn(page, username) {
  await page.getByLabel("Tenant").fill("acme");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
}

function setUp() {
  const dir = tempDataDir();
  cli(dir, ["admin", "create-tenant", "--tenant", "acme", "--name", "Acme"]);
  const ann = JSON.parse(cli(dir, ["admin", "create-user", "--tenant", "acme", "--username", "ann",
    "--password-stdin", "--role", "agent"], PASSWORD + "\n"));
  cli(dir, ["admin", "create-user", "--tenant", "acme", "--username", "cora", "--password-stdin",
    "--role", "compliance_officer"], PASSWORD + "\n");
  const key = (role) => JSON.parse(cli(dir, ["admin", "create-api-key", "--tenant", "acme",
    "--name", role, "--role", role])).key;
  return { dir, ann, admin: key("admin"), bot: key("integration") };
}

test("a handoff packet is shown first on the offered task", async () => {
  const { dir, ann, admin, bot } = setUp();
  const server = await startServer(dir);
  const base = "http://127.0.0.1:" + server.port;
  await call(base, admin, "PUT", "/routing/workers/" + ann.user_id,
    { name: "Ann Agent", attributes: {}, capacity: { chat: 1 } });
  await call(base, admin, "PUT", "/routing/queues/cards", { name: "Cards",
    target_expression: "true", reservation_timeout_s: 300, wrap_up_s: 3600 });
  await call(base, admin, "PUT", "/routing/workflows/default",
    { default_filter: { targets: [{ queue_id: "cards" }] } });

  const browsers = await launchContexts(1, { viewport: VIEWPORT });
  const errors = [];
  try {
    const desktop = await browsers.contexts[0].newPage();
    desktop.on("pageerror", (e) => errors.push(e.message));
    await desktop.goto(base + "/desktop");
    await logIn(desktop, "ann");
    await desktop.waitForFunction(() =>
      document.getElementById("stream-status")?.textContent === "stream: live", null,
    { timeout: WAIT_MS });
    await desktop.getByLabel("My activity", { exact: true }).selectOption("available");
    await desktop.getByRole("button", { name: "Set activity" }).click();
    await desktop.waitForFunction(() =>
      document.getElementById("current-activity")?.textContent === "available", null,
    { timeout: WAIT_MS });

    // The bot's session: intent, authentication, a step, a slot, the transcript, then a handoff.
    const s = (await call(base, bot, "POST", "/automation/sessions",
      { platform: "acme-bot", channel: "chat" })).session_id;
    for (const event of [
      { type: "intent", intent: "card_arrival", confidence: 0.91 },
      { type: "authentication", status: "partial", method: "otp" },
      { type: "step", name: "track_delivery", result: "failed" },
      { type: "slot", name: "delivery_city", value: "Pune" },
      { type: "utterance", speaker: "customer", text: "card 4111 1111 1111 1111 never arrived" },
      { type: "utterance", speaker: "automation", text: "Let me connect you to a colleague." },
      { type: "outcome", outcome: "failed", reason: "courier system down" }]) {
      await call(base, bot, "POST", `/automation/sessions/${s}/events`, event);
    }

    const handoff = desktop.getByRole("region", { name: "Handoff from automation" });
    await handoff.waitFor({ state: "visible", timeout: WAIT_MS });
    await desktop.getByRole("region", { name: "Incoming offer" }).waitFor({ state: "visible",
      timeout: WAIT_MS });
    // First: the packet precedes the offer in the page.
    const order = await desktop.evaluate(() => {
      const regions = [...document.querySelectorAll("section[role=region]")].filter((r) => !r.hidden);
      return regions.map((r) => r.id);
    });
    assert.deepEqual(order.slice(0, 2), ["handoff", "offer"]);
    assert.equal(await desktop.textContent("#handoff-intent"), "card_arrival");
    assert.equal(await desktop.textContent("#handoff-auth"), "partial · otp");
    assert.equal(await desktop.textContent("#handoff-outcome"), "failed: courier system down");
    assert.equal(await desktop.textContent("#handoff-steps li"), "track_delivery: failed");
    assert.equal(await desktop.textContent("#handoff-slots li"), "delivery_city: Pune");
    const transcript = await desktop.$$eval("#handoff-transcript li", (lis) => lis.map((li) => li.textContent));
    assert.equal(transcript.length, 2);
    assert.ok(!transcript[0].includes("4111"), "the transcript is masked: " + transcript[0]);
    assert.ok(transcript[0].includes("[CARD]"), transcript[0]);
    await desktop.screenshot({ path: path.join(ARTIFACTS, "desktop_handoff.png") });

    // Keyboard: Enter accepts (the offer holds the focus); the packet stays above the work.
    await desktop.waitForFunction(() => document.activeElement?.id === "accept", null,
      { timeout: WAIT_MS });
    await desktop.keyboard.press("Enter");
    await desktop.getByRole("region", { name: /Current task/ }).waitFor({ state: "visible",
      timeout: WAIT_MS });
    assert.equal(await handoff.isVisible(), true);
    await desktop.getByLabel("What was missing (comma-separated)").focus();
    await desktop.keyboard.type("slots.delivery_address");
    await desktop.keyboard.press("Enter");
    await desktop.waitForFunction(() =>
      document.getElementById("handoff-review-status")?.textContent === "Reviewed: not useful", null,
    { timeout: WAIT_MS });
    const kpi = await call(base, admin, "GET", "/automation/handoff-acceptance");
    assert.deepEqual(kpi.intents.map((r) => [r.intent, r.handoffs, r.reviewed, r.useful, r.missing]),
      [["card_arrival", 1, 1, 0, { "slots.delivery_address": 1 }]]);
    assert.deepEqual(errors, []);
  } finally {
    await closeContexts(browsers, server, dir);
  }
});

test("a compliance officer declares a boundary rule in settings with the keyboard", async () => {
  const { dir } = setUp();
  const server = await startServer(dir);
  const base = "http://127.0.0.1:" + server.port;
  const browsers = await launchContexts(1, { viewport: VIEWPORT });
  const errors = [];
  try {
    const page = await browsers.contexts[0].newPage();
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(base + "/settings/automation");
    await logIn(page, "cora");
    await page.waitForSelector("#policy-exclusions", { timeout: WAIT_MS });
    assert.match(await page.textContent("#policy-exclusions"), /fraud/);
    const form = page.getByRole("form", { name: "Declare a rule (a new policy version)" });
    await form.getByLabel("Intent").focus();
    await page.keyboard.type("card_arrival");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Control+A");
    await page.keyboard.type("chat");
    await form.getByLabel("Boundary").selectOption("self_serve");
    await form.getByLabel("Required slots (comma-separated)").fill("card_last4");
    await form.getByLabel("Reason for the change").focus();
    await page.keyboard.type("pilot on chat");
    await page.keyboard.press("Enter");
    await page.waitForSelector('tr[data-rule="card_arrival/chat"]', { timeout: WAIT_MS });
    const view = await page.evaluate(() =>
      fetch("/api/v1/tenants/acme/automation/policy").then((r) => r.json()));
    assert.equal(view.policy.version, 1);
    assert.deepEqual(view.policy.rules, [{ intent: "card_arrival", channel: "chat",
      boundary: "self_serve", required_slots: ["card_last4"] }]);
    await page.screenshot({ path: path.join(ARTIFACTS, "settings_automation.png") });
    assert.deepEqual(errors, []);
  } finally {
    await closeContexts(browsers, server, dir);
  }
});
