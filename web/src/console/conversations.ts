// Conversations: open one by id (links from customers and tasks lead here) and read its messages
// (texts masked by role by the server).
import { api, enc, tenantPath } from "../lib/api";
import { formatDate, t } from "../lib/i18n";
import { card, errorText, field, form, h, link, loading, table } from "../lib/ui";
import { PageContext } from "./pages";

export async function mount({ root, params, navigate }: PageContext): Promise<void> {
  root.replaceChildren(h("h1", {}, t("conversations.title")));
  const open = form(t("conversations.title"), [
    field(t("conversations.id"), "conversation_id", h("input", { required: true, value: params[0] || "" })),
  ], t("common.open"), async (v) => navigate("/conversations/" + enc(v.conversation_id.trim())));
  open.classList.add("inline");
  root.appendChild(open);
  if (!params[0]) return;
  const body = h("div", {}, loading());
  root.appendChild(body);
  try {
    const [c, messages] = await Promise.all([
      api("GET", tenantPath("/conversations/" + enc(params[0]))),
      api("GET", tenantPath("/conversations/" + enc(params[0]) + "/messages?limit=200")),
    ]);
    const facts = h("dl", { class: "facts", id: "conversation" });
    for (const [k, v] of Object.entries(c)) {
      if (typeof v === "object") continue;
      facts.append(h("dt", {}, k), h("dd", {}, k === "customer_id" ? link("/customers/" + enc(String(v)), String(v)) : String(v)));
    }
    body.replaceChildren(card(params[0], facts), card(t("conversations.messages"), table(messages.items || [], [
      { key: "time", label: t("col.time"), value: (m: any) => m.sent_at || "", cell: (m: any) => formatDate(m.sent_at) },
      { key: "direction", label: t("col.direction"), value: (m: any) => m.direction || "" },
      { key: "text", label: t("col.text"), value: (m: any) => typeof m.text === "string" ? m.text : JSON.stringify(m.text ?? "") },
    ], { caption: t("conversations.messages") })));
  } catch (e) {
    body.replaceChildren(errorText(e));
  }
}
