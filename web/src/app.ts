// The main page: log in to a tenant, list its most recent ledger events.
import { $, el, wireLogin } from "./lib/api";
import { call, type components } from "./lib/typed_client";

type LedgerEvent = components["schemas"]["Event"];

async function loadEvents(): Promise<void> {
  // Page through to the end, keeping the last 100 events.
  let after = "0";
  let kept: LedgerEvent[] = [];
  for (let page = 0; page < 1000; page++) {
    const data = await call("get", "/api/v1/tenants/{tenant}/events",
      { query: { limit: 1000, after } });
    kept = kept.concat(data.items).slice(-100);
    if (!data.next_cursor) break;
    after = data.next_cursor;
  }
  const body = $("events").querySelector("tbody")!;
  body.replaceChildren();
  for (const e of kept.reverse()) {
    const tr = el("tr");
    for (const v of [e.seq, e.recorded_at, e.type, e.actor, e.hash.slice(0, 12) + "…"]) {
      tr.appendChild(el("td", v));
    }
    body.appendChild(tr);
  }
  $("count").textContent = kept.length + " most recent events";
}

wireLogin(async () => {
  $("events-view").hidden = false;
  await loadEvents();
});
$("refresh").addEventListener("click", () => loadEvents().catch((e) => alert(e.message)));
