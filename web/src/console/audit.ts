// Audit: the ledger browser (newest first; filters by type on the server, by actor and time in
// the page) and an event's detail with its inclusion proof checked in this browser (lib/proof.ts).
import { api, enc, tenantPath } from "../lib/api";
import { formatDate, t } from "../lib/i18n";
import { checkProof } from "../lib/proof";
import { card, errorText, field, form, h, link, loading, table } from "../lib/ui";
import { PageContext } from "./pages";

// The browser reads at most this many pages of kEventsPageSize events to find the newest.
const kEventsPageSize = 1000;
const kEventsPagesMax = 50;
const kEventsShownMax = 500;

async function showEvent(root: HTMLElement, seq: string): Promise<void> {
  const body = h("div", {}, loading());
  root.append(h("p", {}, link("/audit", "← " + t("audit.title"))), body);
  try {
    const e = await api("GET", tenantPath("/events/" + enc(seq)));
    const facts = h("dl", { class: "facts", id: "event" });
    for (const k of ["seq", "recorded_at", "type", "actor", "command_id", "prev_hash", "hash"]) {
      facts.append(h("dt", {}, k), h("dd", { class: k.endsWith("hash") ? "mono" : undefined },
        k === "recorded_at" ? formatDate(e[k]) : String(e[k] ?? "")));
    }
    const outcome = h("p", { id: "proof-result", role: "status" });
    const check = h("button", { type: "button", id: "check-proof", class: "primary", onclick: async () => {
      outcome.textContent = t("common.loading");
      try {
        const proof = await api("GET", tenantPath("/events/" + enc(seq) + "/proof"));
        const r = checkProof(e, proof);
        outcome.textContent = r.ok ? t("audit.proof_ok", { leaf: r.leaf, size: r.size, key: r.key })
          : t("audit.proof_bad", { reason: r.reason });
        outcome.className = r.ok ? "ok" : "error";
        outcome.dataset.verified = String(r.ok);
      } catch (err) {
        outcome.textContent = (err as Error).message;
        outcome.className = "error";
      }
    } }, t("audit.check_proof"));
    body.replaceChildren(card(t("audit.detail", { seq }), facts, check, outcome),
      card(t("audit.payload"), h("pre", { class: "payload", tabindex: "0" }, JSON.stringify(e.payload, null, 2))));
  } catch (err) {
    body.replaceChildren(errorText(err));
  }
}

export async function mount({ root, params }: PageContext): Promise<void> {
  root.replaceChildren(h("h1", {}, t("audit.title")));
  if (params[0]) return showEvent(root, params[0]);
  const q = new URLSearchParams(location.search);
  const results = h("div", { id: "events" });
  const filters = form(t("audit.title"), [
    field(t("audit.filter_type"), "type", h("input", { value: q.get("type") || "" })),
    field(t("audit.filter_actor"), "actor", h("input", { value: q.get("actor") || "" })),
    field(t("audit.filter_from"), "from", h("input", { type: "datetime-local", value: q.get("from") || "" })),
    field(t("audit.filter_to"), "to", h("input", { type: "datetime-local", value: q.get("to") || "" })),
  ], t("audit.apply"), async (v) => {
    const query = new URLSearchParams(Object.entries(v).filter(([, x]) => x));
    history.replaceState(null, "", "/audit" + (query.size ? "?" + query : ""));
    await load(v);
  });
  filters.classList.add("inline");
  root.append(filters, results);
  const load = async (v: Record<string, string>) => {
    results.replaceChildren(loading());
    const from = v.from ? Date.parse(v.from) : -Infinity;
    const to = v.to ? Date.parse(v.to) : Infinity;
    let kept: any[] = [];
    let after = "0";
    for (let page = 0; page < kEventsPagesMax; page++) {
      const data = await api("GET", tenantPath("/events?limit=" + kEventsPageSize + "&after=" + after +
        (v.type ? "&type=" + enc(v.type) : "")));
      const matching = (data.items || []).filter((e: any) => {
        const at = Date.parse(e.recorded_at);
        return (!v.actor || String(e.actor).includes(v.actor)) && at >= from && at <= to;
      });
      kept = kept.concat(matching).slice(-kEventsShownMax);
      if (!data.next_cursor) break;
      after = data.next_cursor;
    }
    kept.reverse();
    results.replaceChildren(table(kept, [
      { key: "seq", label: t("col.seq"), value: (e) => e.seq, cell: (e) => link("/audit/" + e.seq, String(e.seq)), className: "num" },
      { key: "time", label: t("col.time"), value: (e) => e.recorded_at, cell: (e) => formatDate(e.recorded_at) },
      { key: "type", label: t("col.type"), value: (e) => e.type },
      { key: "actor", label: t("col.actor"), value: (e) => e.actor },
      { key: "hash", label: t("col.hash"), value: (e) => String(e.hash).slice(0, 12) + "…", className: "mono" },
    ], { caption: t("audit.title"), rowKey: (e) => String(e.seq), rowAttr: "seq" }));
  };
  await load(Object.fromEntries(["type", "actor", "from", "to"].map((k) => [k, q.get(k) || ""])))
    .catch((e) => results.replaceChildren(errorText(e)));
}
