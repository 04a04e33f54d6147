// The API document as a contract in the browser tests: every response the pages receive from
// opsbox is checked against the served OpenAPI document's schema for that operation and status
// (Ajv, JSON Schema 2020-12, from tools/openapi). The same rules as
// tests/integration/contract.py: an undocumented status, content type or body fails the test
// (watch() collects, check() throws); checked (operationId, status) pairs are tallied into
// $OPSBOX_CONTRACT_DIR for tests/contract/coverage_report.py.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const tools = path.resolve(import.meta.dirname, "..", "..", "..", "tools", "openapi", "node_modules");
const Ajv2020 = require(path.join(tools, "ajv", "dist", "2020.js")).default;
const addFormats = require(path.join(tools, "ajv-formats")).default;

const DOC_ID = "urn:opsbox:openapi";
const METHODS = ["get", "put", "post", "delete", "patch"];

function escape(part) {
  return String(part).replaceAll("~", "~0").replaceAll("/", "~1");
}

export class Contract {
  constructor(doc) {
    this.doc = { ...doc, $id: DOC_ID };
    this.ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(this.ajv);
    this.ajv.addSchema(this.doc);
    this.routes = [];
    for (const [template, item] of Object.entries(doc.paths)) {
      for (const m of Object.keys(item)) {
        if (METHODS.includes(m)) this.routes.push([m.toUpperCase(), template.replace(/^\/|\/$/g, "").split("/"), template]);
      }
    }
    this.validators = new Map();
  }

  find(method, pathname) {
    const segs = pathname.replace(/^\/|\/$/g, "").split("/");
    let best = null;
    for (const [m, tsegs, template] of this.routes) {
      if (m !== method || tsegs.length !== segs.length) continue;
      const key = [];
      let ok = true;
      for (let i = 0; i < segs.length && ok; i++) {
        if (tsegs[i].startsWith("{") && tsegs[i].endsWith("}")) key.push(1);
        else if (tsegs[i] === segs[i]) key.push(0);
        else ok = false;
      }
      if (ok && (!best || key.join() < best[0].join())) best = [key, template];
    }
    return best ? [best[1], this.doc.paths[best[1]][method.toLowerCase()]] : [null, null];
  }

  resolve(obj, pointer) {
    while (obj && obj.$ref) {
      pointer = obj.$ref.slice(1);
      obj = obj.$ref.slice(2).split("/").reduce((o, p) => o[p.replaceAll("~1", "/").replaceAll("~0", "~")], this.doc);
    }
    return [obj, pointer];
  }

  // Returns [operationId, status key] or throws an Error naming what does not match.
  check(method, pathname, status, contentType, body) {
    const [template, op] = this.find(method, pathname);
    if (!op) return null;  // the router's own 404/405, static files outside the document
    const responses = op.responses || {};
    let key = String(status);
    if (!(key in responses)) key = String(status)[0] + "XX";
    if (!(key in responses) && status >= 500) key = "default";  // the server-error problem
    const where = `${method} ${template} (${op.operationId}) -> ${status}`;
    if (!(key in responses)) throw new Error(`${where}: status not documented (${Object.keys(responses)})`);
    const [response, rpointer] = this.resolve(responses[key],
      ["", "paths", template, method.toLowerCase(), "responses", key].map(escape).join("/"));
    const content = response.content || {};
    if (status === 101 || status === 204 || status === 304 || (!body && !Object.keys(content).length)) {
      return [op.operationId, key];
    }
    const media = (contentType || "").split(";")[0].trim().toLowerCase();
    if (!(media in content)) throw new Error(`${where}: Content-Type ${contentType} not documented`);
    if (content[media].schema && media.endsWith("json")) {
      const ref = DOC_ID + "#" + [rpointer, "content", escape(media), "schema"].join("/");
      let validate = this.validators.get(ref);
      if (!validate) {
        validate = this.ajv.compile({ $ref: ref });
        this.validators.set(ref, validate);
      }
      const value = JSON.parse(body);
      if (!validate(value)) {
        throw new Error(`${where}: the body does not match the document: ` +
          this.ajv.errorsText(validate.errors, { separator: "; " }).slice(0, 2000));
      }
    }
    return [op.operationId, key];
  }
}

const tally = {};
let tallyFile = null;

function record(pair) {
  const out = process.env.OPSBOX_CONTRACT_DIR;
  const k = pair.join(" ");
  tally[k] = (tally[k] || 0) + 1;
  if (!out) return;
  if (!tallyFile) {
    fs.mkdirSync(out, { recursive: true });
    tallyFile = path.join(out, `checked-browser-${process.pid}-${Math.random().toString(16).slice(2, 10)}.json`);
  }
  fs.writeFileSync(tallyFile + ".tmp", JSON.stringify(tally));
  fs.renameSync(tallyFile + ".tmp", tallyFile);
}

// Checks every response `context` (a playwright BrowserContext) receives from `base`
// ("http://127.0.0.1:<port>"). Call check() on the returned watcher before closing the context.
export function watch(context, base) {
  const pending = [];
  const failures = [];
  let contract = null;
  const load = async () => {
    if (!contract) {
      const res = await fetch(base + "/api/v1/openapi.json");
      contract = new Contract(await res.json());
    }
    return contract;
  };
  context.on("response", (response) => {
    const url = new URL(response.url());
    if (url.origin !== base) return;
    pending.push((async () => {
      const c = await load();
      let body = "";
      try {
        body = await response.text();
      } catch {
        return;  // the page went away before the body was read (navigation)
      }
      try {
        const pair = c.check(response.request().method(), url.pathname, response.status(),
          response.headers()["content-type"], body);
        if (pair) record(pair);
      } catch (e) {
        failures.push(e.message);
      }
    })());
  });
  return {
    async check() {
      await Promise.all(pending);
      if (failures.length) throw new Error("responses that break the API document:\n" + failures.join("\n"));
    },
  };
}
