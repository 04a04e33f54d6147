// Generates the TypeScript types of the API for the console (web/src/generated/openapi.d.ts)
// from src/api/openapi.json and its fragments src/api/openapi/*.json, merged exactly as the
// server merges them (src/api/openapi.cpp: a path or component defined twice is an error).
// Usage: node generate-types.mjs <output .d.ts>. Run by the CMake build before the web build.
import fs from "node:fs";
import path from "node:path";
import openapiTS, { astToString } from "openapi-typescript";

const api = path.resolve(import.meta.dirname, "..", "..", "src", "api");
const out = process.argv[2];
if (!out) throw new Error("usage: node generate-types.mjs <output .d.ts>");

const doc = JSON.parse(fs.readFileSync(path.join(api, "openapi.json"), "utf8"));
for (const name of fs.readdirSync(path.join(api, "openapi")).filter((f) => f.endsWith(".json")).sort()) {
  const part = JSON.parse(fs.readFileSync(path.join(api, "openapi", name), "utf8"));
  for (const [p, item] of Object.entries(part.paths ?? {})) {
    if (p in doc.paths) throw new Error(`${name}: path ${p} is defined twice`);
    doc.paths[p] = item;
  }
  for (const [section, entries] of Object.entries(part.components ?? {})) {
    doc.components[section] ??= {};
    for (const [k, v] of Object.entries(entries)) {
      if (k in doc.components[section]) throw new Error(`${name}: component ${section}.${k} is defined twice`);
      doc.components[section][k] = v;
    }
  }
}
const ast = await openapiTS(doc, { alphabetize: false });
const text = "// Generated from the OpenAPI document by tools/openapi/generate-types.mjs; do not edit.\n" +
  astToString(ast);
fs.mkdirSync(path.dirname(out), { recursive: true });
if (!fs.existsSync(out) || fs.readFileSync(out, "utf8") !== text) fs.writeFileSync(out, text);
