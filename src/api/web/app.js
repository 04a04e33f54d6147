// The minimal opsbox page: log in to a tenant, list its most recent ledger events.
"use strict";
const state = { tenant: "", csrf: "" };
const $ = (id) => document.getElementById(id);

async function api(method, path, body) {
  const headers = { "Accept": "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
  const res = await fetch(path, { method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.detail || data.title || ("HTTP " + res.status));
  return data;
}

async function loadEvents() {
  const base = "/api/v1/tenants/" + encodeURIComponent(state.tenant) + "/events";
  // Page through to the end, keeping the last 100 events.
  let after = 0, kept = [];
  for (let page = 0; page < 1000; page++) {
    const data = await api("GET", base + "?limit=1000&after=" + after);
    kept = kept.concat(data.items).slice(-100);
    if (!data.next_cursor) break;
    after = data.next_cursor;
  }
  const body = $("events").querySelector("tbody");
  body.replaceChildren();
  for (const e of kept.reverse()) {
    const tr = document.createElement("tr");
    for (const v of [e.seq, e.recorded_at, e.type, e.actor, e.hash.slice(0, 12) + "…"]) {
      const td = document.createElement("td");
      td.textContent = String(v);
      tr.appendChild(td);
    }
    body.appendChild(tr);
  }
  $("count").textContent = kept.length + " most recent events";
}

$("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("login-error").textContent = "";
  state.tenant = $("tenant").value.trim();
  try {
    const s = await api("POST", "/api/v1/tenants/" + encodeURIComponent(state.tenant) + "/sessions",
      { username: $("username").value.trim(), password: $("password").value });
    state.csrf = s.csrf_token;
    $("who").textContent = $("username").value.trim() + " @ " + state.tenant;
    $("login-view").hidden = true;
    $("events-view").hidden = false;
    $("logout").hidden = false;
    await loadEvents();
  } catch (e) {
    $("login-error").textContent = e.message;
  }
});

$("refresh").addEventListener("click", () => loadEvents().catch((e) => alert(e.message)));
$("logout").addEventListener("click", async () => {
  try { await api("DELETE", "/api/v1/tenants/" + encodeURIComponent(state.tenant) + "/sessions/current"); } catch (e) { /* already gone */ }
  location.reload();
});
