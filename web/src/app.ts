// The main page: log in to a tenant, list its most recent ledger events.
import { $, api, el, tenantPath, wireLogin } from "./lib/api";

interface LedgerEvent {
  seq: number;
  recorded_at: string;
  type: string;
  actor: string;
  hash: string;
}

async function loadEvents(): Promise<void> {
  // Page through to the end, keeping the last 100 events.
  let after: string | number = 0;
  let kept: LedgerEvent[] = [];
  for (let page = 0; page < 1000; page++) {
    const data: { items: LedgerEvent[]; next_cursor: string | null } = await api(
      "GET", tenantPath("/events") + "?limit=1000&after=" + after);
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
