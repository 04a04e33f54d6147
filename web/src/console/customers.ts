// Customers: find one by phone, e-mail, WhatsApp id or external id (personal fields masked by
// role: the server masks), then the customer's conversations and cross-channel timeline.
import { api, enc, tenantPath } from "../lib/api";
import { formatDate, t } from "../lib/i18n";
import { card, empty, errorText, field, form, h, link, loading, select, table } from "../lib/ui";
import { PageContext } from "./pages";

function text(v: unknown): string {
  return v === undefined || v === null ? "" : typeof v === "string" ? v : JSON.stringify(v);
}

async function showCustomer(root: HTMLElement, id: string): Promise<void> {
  root.appendChild(loading());
  try {
    const [c, timeline] = await Promise.all([
      api("GET", tenantPath("/customers/" + enc(id))),
      api("GET", tenantPath("/customers/" + enc(id) + "/timeline?limit=200")),
    ]);
    root.querySelector(".loading")?.remove();
    const facts = h("dl", { class: "facts", id: "customer" });
    for (const [k, v] of Object.entries(c)) {
      if (k === "conversations" || typeof v === "object") continue;
      facts.append(h("dt", {}, k), h("dd", {}, text(v)));
    }
    root.append(card(c.name ? text(c.name) : id, facts),
      card(t("customers.conversations"), table(c.conversations || [], [
        { key: "id", label: t("col.id"), value: (x: any) => x.conversation_id,
          cell: (x: any) => link("/conversations/" + enc(x.conversation_id), x.conversation_id) },
        { key: "channel", label: t("col.channel"), value: (x: any) => x.channel || "" },
        { key: "status", label: t("col.status"), value: (x: any) => x.status || "" },
      ], { caption: t("customers.conversations") })),
      card(t("customers.timeline"), table(timeline.items || [], [
        { key: "time", label: t("col.time"), value: (m: any) => m.sent_at || "", cell: (m: any) => formatDate(m.sent_at) },
        { key: "channel", label: t("col.channel"), value: (m: any) => m.channel || "" },
        { key: "direction", label: t("col.direction"), value: (m: any) => m.direction || "" },
        { key: "text", label: t("col.text"), value: (m: any) => text(m.text) },
      ], { caption: t("customers.timeline"), rowKey: (m: any) => String(m.message_id || ""), rowAttr: "message" })));
  } catch (e) {
    root.replaceChildren(errorText(e));
  }
}

export async function mount({ root, params, navigate }: PageContext): Promise<void> {
  root.replaceChildren(h("h1", {}, t("customers.title")));
  if (params[0]) return showCustomer(root, params[0]);
  const results = h("div", { id: "customer-results" });
  const search = form(t("customers.title"), [
    field(t("customers.by"), "kind", select("kind", [["phone", "phone"], ["email", "email"],
      ["whatsapp", "whatsapp"], ["external_id", "external_id"]])),
    field(t("customers.value"), "value", h("input", { required: true })),
  ], t("common.search"), async (v, f) => {
    results.replaceChildren(loading());
    try {
      const r = await api("GET", tenantPath("/customers?" + enc(v.kind) + "=" + enc(v.value)));
      const items = r.items || [];
      if (items.length === 1) return navigate("/customers/" + enc(items[0].customer_id));
      results.replaceChildren(items.length ? table(items, [
        { key: "id", label: t("col.id"), value: (c: any) => c.customer_id,
          cell: (c: any) => link("/customers/" + enc(c.customer_id), c.customer_id) },
        { key: "name", label: t("col.name"), value: (c: any) => text(c.name) },
      ], { caption: t("customers.title") }) : empty(t("customers.none")));
    } catch (e) {
      results.replaceChildren();
      throw e;
    }
    void f;
  });
  search.classList.add("inline");
  root.append(search, results);
}
