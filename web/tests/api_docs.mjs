// Goal: the API reference page opsbox serves at /api/docs renders the served OpenAPI document
// in a real browser with the bundled Redoc: the title, the operations by module and the
// webhooks appear, nothing is loaded from any other origin (no CDN; Redoc's attribution footer
// asks for its logo from cdn.redoc.ly, which the page's Content Security Policy blocks), and the
// policy blocks nothing of the page's own. Headless Debian chromium driven by playwright-core.
// Environment: OPSBOX_BIN, OPSBOX_ARTIFACT_DIR, CHROMIUM.
import assert from "node:assert/strict";
import path from "node:path";
import test from "node:test";
import { launchBrowser, startServer, tearDown, tempDataDir } from "./lib/harness.mjs";

const ARTIFACTS = process.env.OPSBOX_ARTIFACT_DIR || process.cwd();
const WAIT_MS = 60000;

test("the API reference page renders the served document with the bundled renderer only", async () => {
  const dir = tempDataDir();
  const server = await startServer(dir);
  const base = "http://127.0.0.1:" + server.port;
  const browser = await launchBrowser();
  const { context } = browser;
  const elsewhere = [];
  const problems = [];
  try {
    const page = context.pages()[0] || await context.newPage();
    page.on("requestfinished", (r) => {
      const url = r.url();
      if (!url.startsWith(base + "/") && !url.startsWith("data:") && !url.startsWith("blob:")) {
        elsewhere.push(url);
      }
    });
    page.on("pageerror", (e) => problems.push("page error: " + e.message));
    page.on("console", (m) => {
      // Only the page's own resources count: other origins are meant to be refused.
      if (/Content Security Policy|Refused to/i.test(m.text()) && !/'https:\/\//.test(m.text())) {
        problems.push(m.text());
      }
    });
    const res = await page.goto(base + "/api/docs");
    assert.equal(res.status(), 200);
    assert.match(res.headers()["content-security-policy"], /default-src 'self'/);
    await page.waitForSelector("h1", { timeout: WAIT_MS });
    assert.match(await page.textContent("h1"), /opsbox API/);
    const attached = { state: "attached", timeout: WAIT_MS };
    await page.waitForSelector("text=Liveness: the process answers", attached);
    await page.waitForSelector("text=task_created", attached);
    const text = await page.textContent("body");
    for (const tag of ["identity", "ledger", "routing", "privacy", "intake", "webhooks"]) {
      assert.match(text, new RegExp(tag), "the module " + tag + " is listed");
    }
    await page.screenshot({ path: path.join(ARTIFACTS, "api_docs.png") });
    assert.deepEqual(elsewhere, [], "requests to other origins");
    assert.deepEqual(problems, []);
  } finally {
    await tearDown(browser, server, dir);
  }
});
