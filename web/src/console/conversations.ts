// Conversations: open one by id (links from customers and tasks lead here) and read its messages
// (texts masked by role by the server) with each reply's delivery status; a failed delivery is
// an alert, and whoever may retry it (conversations.retry; the server checks an agent's own
// task) sends it again from its row.
import { allows, api, enc, tenantPath } from "../lib/api";
import { formatDate, t } from "../lib/i18n";
import { card, errorText, field, form, h, link, loading, table, toast } from "../lib/ui";
import { PageContext } from "./pages";

// Delivery statuses of outbound messages (issue #14) that have a label.
const kDelivery = ["queued", "sent", "delivered", "read", "failed"];

function textOf(v: unknown): string {
  return v === undefined || v === null ? "" : typeof v === "string" ? v : JSON.stringify(v);
}

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
    const items: any[] = messages.items || [];
    const failed = items.filter((m) => m.direction === "outbound" && m.status === "failed");
    const alert = failed.length ? h("p", { class: "error", role: "alert", id: "conversation-delivery-alert" },
      t("delivery.failed_alert", { count: failed.length, reason: textOf(failed[failed.length - 1].status_reason) || "–" })) : "";
    body.replaceChildren(card(params[0], facts), card(t("conversations.messages"), alert, table(items, [
      { key: "time", label: t("col.time"), value: (m: any) => m.sent_at || "", cell: (m: any) => formatDate(m.sent_at) },
      { key: "direction", label: t("col.direction"), value: (m: any) => m.direction || "" },
      { key: "text", label: t("col.text"), value: (m: any) => textOf(m.text) },
      { key: "status", label: t("col.status"), value: (m: any) => m.status || "",
        cell: (m: any) => kDelivery.includes(m.status) ? t("delivery." + m.status) : String(m.status || "") },
      { key: "reason", label: t("col.reason"), value: (m: any) => textOf(m.status_reason) },
      { key: "retry", label: t("delivery.retry"), value: (m: any) => (m.retryable ? 1 : 0),
        cell: (m: any) => m.retryable && allows("conversations.retry") ? h("button", { type: "button", class: "retry",
          "data-message": m.message_id, onclick: async (ev: Event) => {
            const button = ev.currentTarget as HTMLButtonElement;
            button.disabled = true;
            try {
              await api("POST", tenantPath("/conversations/" + enc(params[0]) + "/messages/" + enc(m.message_id) + "/retry"));
              toast(t("delivery.queued"));
              navigate("/conversations/" + enc(params[0]));
            } catch (e) {
              button.disabled = false;
              toast((e as Error).message, "error");
            }
          } }, t("delivery.retry")) : "" },
    ], { caption: t("conversations.messages"), rowKey: (m: any) => m.message_id, rowAttr: "message" })));
  } catch (e) {
    body.replaceChildren(errorText(e));
  }
}
