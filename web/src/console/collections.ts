// Collections (issue #11): the worklist in working order with "can contact now?" and every reason
// a contact is blocked, and one account's view (facts with personal fields masked by the server,
// the contact check per channel, the attempts timeline and a form to record an attempt; a
// refused attempt shows the rules that refused it). Everything is plain links, tables and forms,
// so it works with the keyboard alone.
import { ApiError, allows, api, enc, tenantPath } from "../lib/api";
import { formatDate, t } from "../lib/i18n";
import { card, empty, errorText, field, form, h, link, loading, select, table } from "../lib/ui";
import { PageContext } from "./pages";

const kChannels: [string, string][] = [["voice", "voice"], ["sms", "sms"], ["whatsapp", "whatsapp"],
  ["email", "email"]];
const kOutcomes = ["no_answer", "right_party_contact", "wrong_party", "busy", "voicemail",
  "promise_to_pay", "refused", "dispute_raised", "callback_requested"];

interface Money { amount_minor: number; currency: string }
interface Reason { rule: string; detail: string }

function money(m: Money | undefined): string {
  if (!m) return "";
  const f = new Intl.NumberFormat(undefined, { style: "currency", currency: m.currency });
  const digits = f.resolvedOptions().maximumFractionDigits ?? 2;
  return f.format(m.amount_minor / 10 ** digits);
}

// The reasons as a list: the rule id (stable, what tests and operators search for) and its detail.
function reasonList(reasons: Reason[]): HTMLElement {
  return h("ul", { class: "reasons" }, ...reasons.map((r) =>
    h("li", { "data-rule": r.rule }, h("code", {}, r.rule), " — ", r.detail)));
}

function verdict(allowed: boolean, reasons: Reason[], next: string | null): HTMLElement {
  return h("div", { class: "contact-verdict", "data-allowed": String(allowed) },
    h("p", {}, h("strong", {}, allowed ? t("collections.allowed") : t("collections.blocked"))),
    allowed ? null : reasonList(reasons),
    allowed || !next ? null : h("p", {}, t("collections.next_allowed", { at: formatDate(next) })));
}

async function showWorklist(root: HTMLElement, channel: string): Promise<void> {
  const box = h("div", { id: "worklist" }, loading());
  const picker = select("channel", kChannels, channel);
  picker.id = "worklist-channel";
  picker.addEventListener("change", () => { box.replaceChildren(loading()); render(picker.value); });
  root.append(card(t("collections.worklist"),
    h("label", { for: "worklist-channel" }, t("col.channel")), picker, box));
  const render = async (ch: string) => {
    try {
      const w = await api("GET", tenantPath("/collections/worklist?limit=200&channel=" + enc(ch)));
      box.replaceChildren(w.items.length ? table(w.items, [
        { key: "account", label: t("collections.account"), value: (a: any) => a.account_id,
          cell: (a: any) => link("/collections/" + enc(a.account_id), a.account_id) },
        { key: "bucket", label: t("collections.bucket"), value: (a: any) => a.bucket },
        { key: "dpd", label: t("collections.dpd"), value: (a: any) => a.days_past_due },
        { key: "overdue", label: t("collections.overdue"), value: (a: any) => a.overdue.amount_minor,
          cell: (a: any) => money(a.overdue) },
        { key: "can", label: t("collections.can_contact"), value: (a: any) => (a.can_contact_now ? 1 : 0),
          cell: (a: any) => a.can_contact_now ? t("collections.yes") : t("collections.no") },
        { key: "reasons", label: t("collections.reasons"), value: (a: any) => a.reasons.map((r: Reason) => r.rule).join(" "),
          cell: (a: any) => reasonList(a.reasons) },
      ], { caption: t("collections.worklist"), pageSize: 50, rowKey: (a: any) => a.account_id,
           rowAttr: "account" }) : empty(t("collections.none")));
    } catch (e) {
      box.replaceChildren(errorText(e));
    }
  };
  await render(channel);
}

async function checkPanel(id: string, channel: string): Promise<HTMLElement> {
  const c = await api("GET", tenantPath("/collections/accounts/" + enc(id) + "/can-contact?channel=" + enc(channel)));
  return verdict(c.allowed, c.reasons, c.next_allowed_at);
}

async function showAccount(root: HTMLElement, id: string, navigate: (p: string) => void): Promise<void> {
  root.appendChild(loading());
  try {
    const a = await api("GET", tenantPath("/collections/accounts/" + enc(id)));
    root.querySelector(".loading")?.remove();
    const facts = h("dl", { class: "facts", id: "account" });
    const row = (k: string, v: string) => facts.append(h("dt", {}, k), h("dd", {}, v));
    row(t("collections.account"), a.account_id);
    row(t("collections.customer"), a.customer_id);
    row(t("collections.product"), a.product);
    row(t("collections.bucket"), a.bucket);
    row(t("collections.dpd"), String(a.days_past_due));
    row(t("collections.overdue"), money(a.overdue));
    row(t("collections.outstanding"), money(a.outstanding));
    row(t("collections.zone"), a.zone || "—");
    row(t("collections.flags"), a.flags.join(", ") || "—");
    row(t("col.name"), a.contact.name || "—");
    row(t("collections.phones"), a.contact.phones.join(", ") || "—");

    const check = h("div", { id: "contact-check" });
    const channel = select("check-channel", kChannels, "voice");
    channel.id = "check-channel";
    const refresh = async () => {
      check.replaceChildren(loading());
      try { check.replaceChildren(await checkPanel(id, channel.value)); } catch (e) { check.replaceChildren(errorText(e)); }
    };
    channel.addEventListener("change", refresh);

    const attempts = table(a.attempts, [
      { key: "time", label: t("col.time"), value: (x: any) => x.at, cell: (x: any) => formatDate(x.at) },
      { key: "channel", label: t("col.channel"), value: (x: any) => x.channel },
      { key: "direction", label: t("col.direction"), value: (x: any) => x.direction },
      { key: "outcome", label: t("collections.outcome"), value: (x: any) => x.outcome },
    ], { caption: t("collections.attempts"), rowKey: (x: any) => x.attempt_id, rowAttr: "attempt" });

    const refused = h("div", { id: "attempt-refused", "aria-live": "polite" });
    const record = form(t("collections.record"), [
      field(t("col.channel"), "channel", select("channel", kChannels)),
      field(t("col.direction"), "direction", select("direction", [["outbound", "outbound"], ["inbound", "inbound"]])),
      field(t("collections.outcome"), "outcome", select("outcome", kOutcomes.map((o) => [o, o] as [string, string]))),
      field(t("collections.note"), "note", h("textarea", { maxlength: 2000, rows: 2 })),
    ], t("collections.record"), async (v) => {
      refused.replaceChildren();
      const body: Record<string, string> = { channel: v.channel, direction: v.direction, outcome: v.outcome };
      if (v.note) body.note = v.note;
      try {
        await api("POST", tenantPath("/collections/accounts/" + enc(id) + "/attempts"), body);
      } catch (e) {
        if (e instanceof ApiError && e.rule === "contact_policy") {
          refused.replaceChildren(await checkPanel(id, v.channel));
        }
        throw e;
      }
      navigate("/collections/" + enc(id));
    });

    root.append(card(a.account_id, facts),
      card(t("collections.can_contact"), h("label", { for: "check-channel" }, t("col.channel")), channel, check),
      card(t("collections.attempts"), attempts));
    if (allows("collections.contact")) root.append(card(t("collections.record"), record, refused));
    await refresh();
  } catch (e) {
    root.replaceChildren(errorText(e));
  }
}

export async function mount({ root, params, navigate }: PageContext): Promise<void> {
  root.replaceChildren(h("h1", {}, t("collections.title")));
  if (params[0]) return showAccount(root, params[0], navigate);
  return showWorklist(root, "voice");
}
