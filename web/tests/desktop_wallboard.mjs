// Goal: the agent desktop (/desktop) and the supervisor wallboard (/wallboard) work together in a
// real browser against the real routing routes and the live stream: both users sign in to the console
// at these deep links (labelled controls, 1366x768 without horizontal scrolling); the agent becomes
// available and the wallboard's agents by activity change without a reload; a chat message
// arrives, the wallboard shows it waiting, the agent sees the offer with a running countdown
// and accepts it with the keyboard, sees the customer's message, replies, completes and wraps
// up (keyboard again); the wallboard follows (wrap-up, then available) and counts it answered.
// Headless Debian chromium (one browser, two isolated contexts) driven by playwright-core; the
// server runs on a free loopback port over a temp SQLite database.
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
  await page.waitForFunction(() =>
    document.getElementById("stream-status")?.textContent === "stream: live", null,
  { timeout: WAIT_MS });
}

async function waitForText(page, selector, expected) {
  await page.waitForFunction(([s, e]) => {
    const node = document.querySelector(s);
    return node !== null && node.textContent.trim() === e;
  }, [selector, expected], { timeout: WAIT_MS });
}

// The wallboard's count of agents in `activity` ("available: 1").
async function waitForCount(wallboard, activity, n) {
  const label = activity.replace("_", "-");
  await waitForText(wallboard, `#agent-counts li[data-activity="${activity}"]`, `${label}: ${n}`);
}

async function waitForQueueCell(wallboard, column, expected) {
  await waitForText(wallboard, `#queues tr[data-queue="support"] td.${column}`, String(expected));
}

async function assertFitsViewport(page, name) {
  const { scroll, width } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth, width: document.documentElement.clientWidth,
  }));
  assert.ok(scroll <= width, `${name}: ${scroll}px wide in a ${width}px viewport`);
}

test("an agent takes a chat offer with the keyboard and wraps up while the wallboard follows live", async () => {
  const dir = tempDataDir();
  cli(dir, ["admin", "create-tenant", "--tenant", "acme", "--name", "Acme"]);
  const ann = JSON.parse(cli(dir, ["admin", "create-user", "--tenant", "acme", "--username", "ann",
    "--password-stdin", "--role", "agent"], PASSWORD + "\n"));
  cli(dir, ["admin", "create-user", "--tenant", "acme", "--username", "sam", "--password-stdin",
    "--role", "supervisor"], PASSWORD + "\n");
  const admin = JSON.parse(cli(dir, ["admin", "create-api-key", "--tenant", "acme", "--name",
    "setup", "--role", "admin"])).key;
  const integration = JSON.parse(cli(dir, ["admin", "create-api-key", "--tenant", "acme",
    "--name", "chat-widget", "--role", "integration"])).key;
  const server = await startServer(dir);
  const base = "http://127.0.0.1:" + server.port;
  // Long offer and wrap-up limits: the test, not a timer, ends them.
  await call(base, admin, "PUT", "/routing/workers/" + ann.user_id,
    { name: "Ann Agent", attributes: { languages: ["en"] }, capacity: { chat: 1 } });
  await call(base, admin, "PUT", "/routing/queues/support", { name: "Support",
    target_expression: "true", reservation_timeout_s: 300, wrap_up_s: 3600 });
  await call(base, admin, "PUT", "/routing/workflows/default",
    { default_filter: { targets: [{ queue_id: "support" }] } });

  const browsers = await launchContexts(2, { viewport: VIEWPORT });
  const errors = [];
  try {
    const [supervisorContext, agentContext] = browsers.contexts;
    const wallboard = await supervisorContext.newPage();
    const desktop = await agentContext.newPage();
    for (const page of [wallboard, desktop]) page.on("pageerror", (e) => errors.push(e.message));

    await wallboard.goto(base + "/wallboard");
    await logIn(wallboard, "sam");
    await waitForQueueCell(wallboard, "waiting", 0);
    await waitForText(wallboard, `#agents tr[data-worker="${ann.user_id}"] td.activity`, "offline");
    await waitForCount(wallboard, "available", 0);

    await desktop.goto(base + "/desktop");
    await logIn(desktop, "ann");
    const me = await desktop.evaluate(() =>
      fetch("/api/v1/tenants/acme/me").then((r) => r.json()));
    assert.equal(me.actor_id, ann.user_id, "the agent's worker id is her user id");
    await waitForText(desktop, "#current-activity", "offline");

    await desktop.getByLabel("My activity", { exact: true }).selectOption("available");
    await desktop.getByRole("button", { name: "Set activity" }).click();
    await waitForText(desktop, "#current-activity", "available");
    await waitForCount(wallboard, "available", 1);
    await waitForCount(wallboard, "offline", 0);

    const chat = await call(base, integration, "POST", "/channels/chat/messages", {
      provider_message_id: "widget-1", from: { external_id: "visitor-7", name: "Carol" },
      text: "Hello, my card payment failed", language: "en" });
    const conversationId = chat.items[0].conversation_id;
    await waitForQueueCell(wallboard, "waiting", 1);
    await waitForQueueCell(wallboard, "offered", 1);

    const offer = desktop.getByRole("region", { name: "Incoming offer" });
    await offer.waitFor({ state: "visible", timeout: WAIT_MS });
    assert.equal(await desktop.textContent("#offer-channel"), "chat");
    assert.equal(await desktop.textContent("#offer-queue"), "support");
    const first = Number(await desktop.textContent("#offer-countdown"));
    assert.ok(first > 0 && first <= 300, "countdown starts within the offer timeout: " + first);
    await desktop.waitForFunction((n) =>
      Number(document.getElementById("offer-countdown").textContent) < n, first,
    { timeout: WAIT_MS });
    await desktop.screenshot({ path: path.join(ARTIFACTS, "desktop_offer.png") });
    await assertFitsViewport(desktop, "desktop");

    // Keyboard: the offer takes the focus on its Accept button; Enter accepts.
    await desktop.waitForFunction(() => document.activeElement?.id === "accept", null,
      { timeout: WAIT_MS });
    await desktop.keyboard.press("Enter");
    const work = desktop.getByRole("region", { name: /Current task/ });
    await work.waitFor({ state: "visible", timeout: WAIT_MS });
    assert.equal(await offer.isHidden(), true);
    await waitForText(desktop, "#work-status", "assigned");
    await desktop.waitForFunction(() => [...document.querySelectorAll("#messages li")]
      .some((li) => li.textContent === "customer: Hello, my card payment failed"), null,
    { timeout: WAIT_MS });
    await desktop.waitForSelector("#timeline li", { timeout: WAIT_MS });
    await waitForQueueCell(wallboard, "waiting", 0);
    await waitForQueueCell(wallboard, "answered", 1);

    await desktop.getByLabel("Reply to the customer").fill("Hi Carol, let me check that.");
    await desktop.getByRole("button", { name: "Send reply" }).click();
    await desktop.waitForFunction(() => [...document.querySelectorAll("#messages li")]
      .some((li) => li.textContent === "agent: Hi Carol, let me check that."), null,
    { timeout: WAIT_MS });
    const messages = await call(base, admin, "GET", `/conversations/${conversationId}/messages`);
    assert.ok(messages.items.some((m) => m.direction === "outbound"), "the reply is recorded");

    // Keyboard: Complete, then the focus moves to Finish wrap-up.
    await desktop.getByRole("button", { name: /Complete/ }).focus();
    await desktop.keyboard.press("Enter");
    await waitForText(desktop, "#work-status", "wrap-up");
    await waitForText(desktop, "#current-activity", "wrap-up");
    await waitForCount(wallboard, "wrap_up", 1);
    await waitForText(wallboard, `#agents tr[data-worker="${ann.user_id}"] td.activity`, "wrap-up");
    await desktop.waitForFunction(() => document.activeElement?.id === "wrap-up", null,
      { timeout: WAIT_MS });
    await desktop.keyboard.press("Enter");
    await work.waitFor({ state: "hidden", timeout: WAIT_MS });
    await waitForText(desktop, "#current-activity", "available");
    await waitForCount(wallboard, "available", 1);
    await waitForCount(wallboard, "wrap_up", 0);
    await waitForQueueCell(wallboard, "answered", 1);
    await waitForQueueCell(wallboard, "abandoned", 0);

    await wallboard.screenshot({ path: path.join(ARTIFACTS, "wallboard.png") });
    await assertFitsViewport(wallboard, "wallboard");
    assert.ok(await wallboard.getByRole("img", { name: "Tasks waiting over time" }).isVisible());
    assert.deepEqual(errors, []);
  } finally {
    await closeContexts(browsers, server, dir);
  }
});
