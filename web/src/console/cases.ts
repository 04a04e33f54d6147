// Cases (issue #19): the list with filters and a live SLA countdown per case (at risk and
// breached rows stand out), a form to open a case, and a case's detail with its SLA clocks,
// transitions, notes and timeline. Personal fields arrive masked by the server per role.
// Countdowns tick every second in the browser; the list and the detail are read again every few
// seconds, so the server's at-risk and breach records (the SLA timer) appear without a reload.
import { allows, api, enc, tenantPath } from "../lib/api";
import { formatDate, t } from "../lib/i18n";
import { SlaState, badge, card, empty, errorText, field, form, h, link, loading, select, table, toast } from "../lib/ui";
import { Cleanup, PageContext } from "./pages";

const kRefreshMs = 3000;
const kTypes = ["complaint", "grievance", "dispute", "fraud_report", "service_request", "information_request"];
const kPriorities = ["normal", "low", "high", "urgent"];
const kStatuses = ["new", "open", "pending_customer", "pending_internal", "resolved", "closed"];
const kCategories = ["cards", "cards.disputed_transaction", "cards.card_not_received", "cards.card_blocked",
  "cards.fees_and_charges", "loans", "loans.emi_and_repayment", "loans.statement", "deposits",
  "deposits.failed_transaction", "digital_banking", "digital_banking.upi", "collections", "other"];

function state(server: string): SlaState {
  return server === "breached" ? "breach" : server === "at_risk" ? "risk" : "ok";
}

// The earliest unmet due instant of a case's SLA, or null.
function nextDue(sla: any): string | null {
  const dues = [sla?.first_response_due_at, sla?.resolution_due_at].filter(Boolean) as string[];
  dues.sort((a, b) => Date.parse(a) - Date.parse(b));
  return dues[0] ?? null;
}

function duration(ms: number): string {
  const s = Math.max(0, Math.floor(Math.abs(ms) / 1000));
  const d = Math.floor(s / 86400), hh = Math.floor((s % 86400) / 3600), mm = Math.floor((s % 3600) / 60);
  const parts = d ? [d + "d", hh + "h"] : hh ? [hh + "h", mm + "m"] : [mm + "m", (s % 60) + "s"];
  return parts.join(" ");
}

// A live countdown element: data-due holds the instant; tick() updates every one on the page.
function countdown(sla: any): HTMLElement {
  const due = nextDue(sla);
  const el = h("span", { class: "countdown", "data-due": due ?? "" });
  if (!due) el.textContent = sla?.paused ? t("cases.paused") : "–";
  return el;
}

function tick(root: HTMLElement): void {
  const now = Date.now();
  root.querySelectorAll<HTMLElement>(".countdown[data-due]").forEach((el) => {
    const due = el.dataset.due;
    if (!due) return;
    const left = Date.parse(due) - now;
    el.textContent = left >= 0 ? t("cases.due_in", { time: duration(left) })
      : t("cases.overdue", { time: duration(left) });
    // A due instant passed in the browser: the row shows breached before the next read.
    if (left < 0) {
      const b = el.closest("tr, section")?.querySelector<HTMLElement>("[data-sla]");
      if (b && b.dataset.sla !== "breach") b.replaceWith(badge("breach"));
      el.closest("tr")?.classList.add("sla-breach");
    }
  });
}

function slaCell(c: any): HTMLElement {
  return h("span", { class: "sla-cell" }, badge(state(c.sla?.state)), " ", countdown(c.sla));
}

function text(v: unknown): string {
  return v === undefined || v === null ? "" : String(v);
}

// ---- the list -----------------------------------------------------------------------------------
function listTable(items: any[]): HTMLElement {
  const wrap = table(items, [
    { key: "id", label: t("col.id"), value: (c: any) => c.case_id,
      cell: (c: any) => link("/cases/" + enc(c.case_id), c.case_id) },
    { key: "subject", label: t("cases.subject"), value: (c: any) => c.subject },
    { key: "type", label: t("col.type"), value: (c: any) => c.type },
    { key: "category", label: t("cases.category"), value: (c: any) => c.category },
    { key: "priority", label: t("cases.priority"), value: (c: any) => c.priority },
    { key: "status", label: t("col.status"), value: (c: any) => c.status },
    { key: "sla", label: t("cases.sla"), value: (c: any) => nextDue(c.sla) ?? "", cell: slaCell },
  ], { caption: t("cases.title"), rowKey: (c: any) => c.case_id, rowAttr: "case", pageSize: 50 });
  wrap.querySelectorAll<HTMLElement>("tr[data-case]").forEach((tr) => {
    const c = items.find((x) => x.case_id === tr.dataset.case);
    if (c?.sla?.state === "breached") tr.classList.add("sla-breach");
    if (c?.sla?.state === "at_risk") tr.classList.add("sla-risk");
  });
  return wrap;
}

function openForm(navigate: (path: string) => void): HTMLFormElement {
  const description = h("textarea", { rows: 3, maxlength: 16384 });
  const f = form(t("cases.open"), [
    field(t("col.type"), "type", select("type", kTypes.map((x) => [x, x]))),
    field(t("cases.category"), "category", select("category", kCategories.map((x) => [x, x]))),
    field(t("cases.priority"), "priority", select("priority", kPriorities.map((x) => [x, x]))),
    field(t("cases.subject"), "subject", h("input", { required: true, maxlength: 200 })),
    field(t("cases.description"), "description", description),
    field(t("cases.customer_id"), "customer_id", h("input", { placeholder: "cus_…" })),
  ], t("cases.open"), async (v) => {
    const body: Record<string, string> = { type: v.type, category: v.category, priority: v.priority,
      subject: v.subject };
    if (v.description) body.description = v.description;
    if (v.customer_id) body.customer_id = v.customer_id;
    const r = await api("POST", tenantPath("/cases"), body);
    toast(t("cases.opened", { id: r.case_id }));
    navigate("/cases/" + enc(r.case_id));
  });
  f.id = "open-case";
  return f;
}

async function mountList(root: HTMLElement, navigate: (path: string) => void): Promise<Cleanup> {
  const results = h("div", { id: "cases", "aria-live": "polite" }, loading());
  const filters = { status: "", type: "", sla_state: "" };
  const load = async () => {
    const q = Object.entries(filters).filter(([, v]) => v).map(([k, v]) => k + "=" + enc(v)).join("&");
    try {
      const r = await api("GET", tenantPath("/cases?limit=200" + (q ? "&" + q : "")));
      const items = r.items || [];
      results.replaceChildren(items.length ? listTable(items) : empty(t("cases.none")));
      tick(results);
    } catch (e) {
      results.replaceChildren(errorText(e));
    }
  };
  const filter = (name: keyof typeof filters, values: string[]) => {
    const s = select(name, [["", t("cases.any")], ...values.map((x): [string, string] => [x, x])]);
    s.addEventListener("change", () => {
      filters[name] = s.value;
      load();
    });
    return s;
  };
  const bar = h("div", { class: "filters", id: "case-filters" },
    field(t("col.status"), "status", filter("status", kStatuses)),
    field(t("col.type"), "type", filter("type", kTypes)),
    field(t("cases.sla"), "sla_state", filter("sla_state", ["on_track", "at_risk", "breached"])));
  root.append(card(t("cases.list"), bar, results));
  if (allows("cases.write")) root.append(card(t("cases.open"), openForm(navigate)));
  await load();
  const ticker = window.setInterval(() => tick(results), 1000);
  const poll = window.setInterval(load, kRefreshMs);
  return () => {
    window.clearInterval(ticker);
    window.clearInterval(poll);
  };
}

// ---- the detail ---------------------------------------------------------------------------------
function targetRow(name: string, target: any): HTMLElement {
  return h("tr", { "data-target": name },
    h("th", { scope: "row" }, t("cases.target." + name)),
    h("td", {}, badge(target.state === "met" ? "ok" : state(target.state)),
      target.state === "met" ? " " + t("cases.met") : ""),
    h("td", {}, formatDate(target.due_at)),
    h("td", {}, target.due_at ? countdown({ first_response_due_at: target.due_at }) : "–"));
}

function slaCard(c: any): HTMLElement {
  const rows = h("tbody", {}, targetRow("first_response", c.sla.first_response),
    targetRow("resolution", c.sla.resolution));
  return card(t("cases.sla"),
    h("p", { id: "case-sla" }, badge(state(c.sla.state)), " ", countdown(c.sla)),
    h("table", {}, h("caption", { class: "sr-only" }, t("cases.sla")),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("cases.target")),
        h("th", { scope: "col" }, t("col.state")), h("th", { scope: "col" }, t("col.due")),
        h("th", { scope: "col" }, t("cases.left")))), rows));
}

function transitions(c: any, reload: () => Promise<void>): HTMLElement {
  const reason = h("input", { maxlength: 500 }) as HTMLInputElement;
  const buttons = (c.allowed_transitions || []).map((to: string) =>
    h("button", { type: "button", "data-to": to, onclick: async (ev: Event) => {
      const b = ev.currentTarget as HTMLButtonElement;
      b.disabled = true;
      try {
        const body: Record<string, string> = { to };
        if (reason.value) body.reason = reason.value;
        await api("POST", tenantPath("/cases/" + enc(c.case_id) + "/transitions"), body);
        toast(t("cases.moved", { status: to }));
        await reload();
      } catch (e) {
        toast((e as Error).message, "error");
        b.disabled = false;
      }
    } }, t("cases.move_to", { status: to })));
  return card(t("cases.transitions"), field(t("cases.reason"), "reason", reason),
    buttons.length ? h("div", { class: "actions", id: "transitions" }, ...buttons) : empty());
}

function noteForm(c: any, reload: () => Promise<void>): HTMLFormElement {
  const f = form(t("cases.add_note"), [
    field(t("col.text"), "text", h("textarea", { rows: 3, required: true, maxlength: 16384 })),
    field(t("cases.visibility"), "visibility", select("visibility",
      [["internal", t("cases.internal")], ["customer_visible", t("cases.customer_visible")]])),
  ], t("cases.add_note"), async (v) => {
    await api("POST", tenantPath("/cases/" + enc(c.case_id) + "/notes"), v);
    await reload();
  });
  f.id = "case-note";
  return f;
}

function timeline(c: any): HTMLElement {
  const what = (e: any) => e.kind === "transitioned" ? e.from + " → " + e.to + (e.reason ? " (" + e.reason + ")" : "")
    : e.kind === "note" ? "[" + e.visibility + "] " + text(e.text)
    : e.kind.startsWith("sla_") ? e.target + " · " + formatDate(e.due_at) : text(e.status);
  return card(t("cases.timeline"), table(c.timeline || [], [
    { key: "time", label: t("col.time"), value: (e: any) => e.at, cell: (e: any) => formatDate(e.at) },
    { key: "kind", label: t("col.kind"), value: (e: any) => e.kind },
    { key: "actor", label: t("col.actor"), value: (e: any) => e.actor },
    { key: "what", label: t("cases.what"), value: what },
  ], { caption: t("cases.timeline"), rowKey: (e: any) => String(e.seq), rowAttr: "seq", pageSize: 100 }));
}

async function mountDetail(root: HTMLElement, id: string): Promise<Cleanup> {
  const body = h("div", { id: "case" }, loading());
  root.append(body);
  let last = "";
  const load = async (force = false): Promise<void> => {
    try {
      const c = await api("GET", tenantPath("/cases/" + enc(id)));
      const key = JSON.stringify([c.status, c.sla?.state, c.sla?.paused, (c.timeline || []).length]);
      if (!force && key === last) return;  // nothing new: keep the focus where it is
      last = key;
      const facts = h("dl", { class: "facts", id: "case-facts" });
      for (const k of ["case_id", "status", "type", "category", "priority", "channel", "customer_id",
        "repeat_count", "received_at"]) {
        facts.append(h("dt", {}, k), h("dd", { "data-fact": k },
          k === "received_at" ? formatDate(c[k]) : text(c[k])));
      }
      const reload = () => load(true);
      const parts: HTMLElement[] = [h("h2", { id: "case-subject" }, c.subject),
        card(t("cases.facts"), facts, h("p", { id: "case-description" }, text(c.description))),
        slaCard(c)];
      if (allows("cases.work")) parts.push(transitions(c, reload));
      if (allows("cases.write")) parts.push(card(t("cases.add_note"), noteForm(c, reload)));
      parts.push(timeline(c));
      body.replaceChildren(...parts);
      tick(body);
    } catch (e) {
      body.replaceChildren(errorText(e));
    }
  };
  await load(true);
  const ticker = window.setInterval(() => tick(body), 1000);
  const poll = window.setInterval(() => load(), kRefreshMs);
  return () => {
    window.clearInterval(ticker);
    window.clearInterval(poll);
  };
}

export async function mount({ root, params, navigate }: PageContext): Promise<Cleanup> {
  root.replaceChildren(h("h1", {}, t("cases.title")));
  if (params[0]) root.append(h("p", {}, link("/cases", t("cases.back"))));
  if (params[0]) return mountDetail(root, params[0]);
  return mountList(root, navigate);
}
