// Goal (issue #14): a reply the provider refuses is visible where people work, and is sent again
// from there with the keyboard. An SMS arrives (signed like Twilio) and is offered to the agent,
// who accepts it on the desktop and replies; a fake Twilio on loopback refuses the reply (400,
// error 21211), so the desktop raises an alert with the provider's reason and the message shows
// "failed" with a Retry button; meanwhile the supervisor's console home lists the failed
// delivery with an alert. The agent reaches Retry with Tab and presses Enter: the fake receives
// the reply again, the message becomes "sent", the alert goes, and the supervisor's list
// empties on its next refresh. Headless Debian chromium (two isolated contexts) driven by
// playwright-core; the server runs on a free loopback port over a temp SQLite database.
// Environment: OPSBOX_BIN, OPSBOX_ARTIFACT_DIR (screenshots; default cwd), CHROMIUM.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import http from "node:http";
import path from "node:path";
import test from "node:test";
import { call, cli, closeContexts, launchContexts, startServer, tempDataDir } from "./lib/harness.mjs";

const ARTIFACTS = process.env.OPSBOX_ARTIFACT_DIR || process.cwd();
const WAIT_MS = 30000;
const PASSWORD = "correct horse battery staple";
const PUBLIC_BASE = "https://ops.example.test";
const ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef";
const AUTH_TOKEN = "browser-sms-token";
const FROM = "+15005550006";

// Twilio's Messages resource on loopback: refuses the first `refuse` requests (400, 21211),
// accepts the rest (201 with a sid), recording every form it receives.
function fakeTwilio(refuse) {
  const forms = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => { body += chunk; });
    req.on("end", () => {
      forms.push(Object.fromEntries(new URLSearchParams(body)));
      const refused = forms.length <= refuse;
      const reply = refused
        ? { code: 21211, message: "The 'To' number is not a valid phone number.", status: 400 }
        : { sid: "SM" + String(forms.length).padStart(32, "0"), status: "queued" };
      res.writeHead(refused ? 400 : 201, { "Content-Type": "application/json" });
      res.end(JSON.stringify(reply));
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () =>
    resolve({ server, forms, url: "http://127.0.0.1:" + server.address().port })));
}

function twilioSignature(url, fields) {
  const data = url + [...fields].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([k, v]) => k + v).join("");
  return crypto.createHmac("sha1", AUTH_TOKEN).update(data).digest("base64");
}

async function logIn(page, username) {
  await page.getByLabel("Tenant").fill("acme");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
}

test("a refused SMS reply raises an alert for the agent and the supervisor and is retried with the keyboard", async () => {
  const dir = tempDataDir();
  cli(dir, ["admin", "create-tenant", "--tenant", "acme", "--name", "Acme"]);
  const ann = JSON.parse(cli(dir, ["admin", "create-user", "--tenant", "acme", "--username", "ann",
    "--password-stdin", "--role", "agent"], PASSWORD + "\n"));
  cli(dir, ["admin", "create-user", "--tenant", "acme", "--username", "sam", "--password-stdin",
    "--role", "supervisor"], PASSWORD + "\n");
  const admin = JSON.parse(cli(dir, ["admin", "create-api-key", "--tenant", "acme", "--name",
    "setup", "--role", "admin"])).key;
  const twilio = await fakeTwilio(1);
  const server = await startServer(dir);
  const base = "http://127.0.0.1:" + server.port;
  await call(base, admin, "PUT", "/channels/sms/config", {
    settings: { account_sid: ACCOUNT_SID, from_number: FROM, api_base_url: twilio.url,
      public_base_url: PUBLIC_BASE, default_region: "US" },
    secrets: { auth_token: AUTH_TOKEN } });
  await call(base, admin, "PUT", "/routing/workers/" + ann.user_id,
    { name: "Ann Agent", attributes: { languages: ["en"] }, capacity: { sms: 1 } });
  await call(base, admin, "PUT", "/routing/queues/texts", { name: "Texts",
    target_expression: "true", reservation_timeout_s: 300, wrap_up_s: 3600 });
  await call(base, admin, "PUT", "/routing/workflows/default",
    { default_filter: { targets: [{ queue_id: "texts" }] } });

  const browsers = await launchContexts(2, { viewport: { width: 1366, height: 768 } });
  const errors = [];
  try {
    const [agentContext, supervisorContext] = browsers.contexts;
    const desktop = await agentContext.newPage();
    const home = await supervisorContext.newPage();
    for (const page of [desktop, home]) page.on("pageerror", (e) => errors.push(e.message));

    await desktop.goto(base + "/desktop");
    await logIn(desktop, "ann");
    await desktop.waitForFunction(() =>
      document.getElementById("stream-status")?.textContent === "stream: live", null,
    { timeout: WAIT_MS });
    await desktop.getByLabel("My activity", { exact: true }).selectOption("available");
    await desktop.getByRole("button", { name: "Set activity" }).click();

    const inbound = base + "/api/v1/tenants/acme/channels/sms/inbound";
    const fields = [["MessageSid", "SM" + "1".repeat(32)], ["AccountSid", ACCOUNT_SID],
      ["From", "+14155550123"], ["To", FROM], ["Body", "Where is my new card?"]];
    const res = await fetch(inbound, { method: "POST", body: new URLSearchParams(fields).toString(),
      headers: { "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": twilioSignature(PUBLIC_BASE + "/api/v1/tenants/acme/channels/sms/inbound", fields) } });
    assert.equal(res.status, 200, await res.text());

    await desktop.getByRole("region", { name: "Incoming offer" }).waitFor({ state: "visible", timeout: WAIT_MS });
    await desktop.waitForFunction(() => document.activeElement?.id === "accept", null, { timeout: WAIT_MS });
    await desktop.keyboard.press("Enter");
    await desktop.getByRole("region", { name: /Current task/ }).waitFor({ state: "visible", timeout: WAIT_MS });
    await desktop.getByLabel("Reply to the customer").fill("It was posted today.");
    await desktop.getByRole("button", { name: "Send reply" }).click();

    // The provider refuses: an alert with its reason, and the message marked failed.
    const alert = desktop.locator("#delivery-alert");
    await alert.waitFor({ state: "visible", timeout: WAIT_MS });
    assert.match(await alert.textContent(), /21211/);
    assert.equal(await alert.getAttribute("role"), "alert");
    await desktop.waitForSelector('#messages li[data-status="failed"] button.retry', { timeout: WAIT_MS });

    // The supervisor's home lists it.
    await home.goto(base + "/");
    await logIn(home, "sam");
    await home.locator("#failed-deliveries-alert").waitFor({ state: "visible", timeout: WAIT_MS });
    assert.match(await home.locator("#home-failed-deliveries").textContent(), /21211/);
    await home.screenshot({ path: path.join(ARTIFACTS, "home_failed_delivery.png") });

    // Keyboard only: Tab from the reply box back to the Retry button, then Enter.
    await desktop.getByLabel("Reply to the customer").focus();
    for (let i = 0; i < 20; i++) {
      if (await desktop.evaluate(() => document.activeElement?.classList.contains("retry"))) break;
      await desktop.keyboard.press("Shift+Tab");
    }
    assert.ok(await desktop.evaluate(() => document.activeElement?.classList.contains("retry")),
      "the Retry button is reachable with the keyboard");
    await desktop.screenshot({ path: path.join(ARTIFACTS, "desktop_failed_delivery.png") });
    await desktop.keyboard.press("Enter");
    await desktop.waitForSelector('#messages li[data-status="sent"]', { timeout: WAIT_MS });
    await alert.waitFor({ state: "hidden", timeout: WAIT_MS });
    assert.deepEqual(twilio.forms.map((f) => f.Body), ["It was posted today.", "It was posted today."]);
    assert.equal(twilio.forms[1].To, "+14155550123");

    await home.locator("#failed-deliveries-alert").waitFor({ state: "detached", timeout: WAIT_MS });
    assert.deepEqual(errors, []);
  } finally {
    twilio.server.close();
    await closeContexts(browsers, server, dir);
  }
});
