// Settings: what needed curl before. Users and role grants, API keys (the key shown once),
// webhook subscriptions with their dead letters and replay, channel configuration, routing
// queues, workers and workflows (expressions validated as they are typed by the server's own
// compiler: POST /routing/expressions/validate). Each section needs its own permission.
import { allows, api, enc, tenantPath } from "../lib/api";
import { t } from "../lib/i18n";
import {
  card, dialog, errorText, field, form, h, link, loading, select, table, toast,
} from "../lib/ui";
import { PageContext } from "./pages";

interface Section { id: string; label: string; permission: string; render: (root: HTMLElement) => Promise<void> }

const kRoles = ["agent", "team_lead", "supervisor", "qa_analyst", "collections_manager",
  "compliance_officer", "wfm_planner", "admin", "auditor", "integration"];
const kValidateDelayMs = 250;

function list(v: string): string[] {
  return v.split(",").map((x) => x.trim()).filter(Boolean);
}

function idem(): Record<string, string> {
  return { "Idempotency-Key": "ui-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2) };
}

// An expression input that asks the server whether it compiles while the user types.
function expressionInput(name: string, value = ""): HTMLElement {
  const input = h("input", { value, class: "mono", autocomplete: "off", spellcheck: "false" }) as HTMLInputElement;
  let timer = 0;
  let seq = 0;
  input.addEventListener("input", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(async () => {
      const mine = ++seq;
      const box = input.closest(".field");
      const out = box?.querySelector(".field-error");
      if (!out) return;
      try {
        await api("POST", tenantPath("/routing/expressions/validate"), { expression: input.value });
        if (mine !== seq) return;
        out.textContent = "";
        input.removeAttribute("aria-invalid");
        box!.querySelector(".hint")!.textContent = t("settings.expression_ok");
      } catch (e) {
        if (mine !== seq) return;
        out.textContent = (e as Error).message;
        input.setAttribute("aria-invalid", "true");
        box!.querySelector(".hint")!.textContent = "";
      }
    }, kValidateDelayMs);
  });
  void name;
  return input;
}

async function users(root: HTMLElement): Promise<void> {
  const page = await api("GET", tenantPath("/users?limit=500"));
  const canManage = allows("users.manage");
  root.append(card(t("settings.users"), table(page.items || [], [
    { key: "username", label: t("col.username"), value: (u: any) => u.username },
    { key: "name", label: t("col.name"), value: (u: any) => u.display_name || "" },
    { key: "roles", label: t("col.roles"), value: (u: any) => (u.roles || []).join(", "),
      cell: (u: any) => h("span", {}, ...(u.roles || []).map((r: string) => h("span", { class: "chip" }, r,
        canManage ? h("button", { type: "button", class: "chip-x", "aria-label": t("settings.revoke") + " " + r + " " + u.username,
          onclick: async () => {
            await api("DELETE", tenantPath("/users/" + enc(u.username) + "/roles/" + enc(r)), undefined, idem())
              .then(() => { toast(t("common.saved")); rerender(root, users); }, (e) => toast(e.message, "error"));
          } }, "×") : null))) },
  ], { caption: t("settings.users"), rowKey: (u: any) => u.username, rowAttr: "user" })));
  if (!canManage) return;
  const roleOptions = kRoles.map((r) => [r, r] as [string, string]);
  root.append(card(t("settings.new_user"), form(t("settings.new_user"), [
    field(t("col.username"), "username", h("input", { required: true, autocomplete: "off" })),
    field(t("settings.display_name"), "display_name"),
    field(t("signin.password"), "password", h("input", { type: "password", required: true, autocomplete: "new-password" })),
    field(t("settings.role"), "roles", select("roles", roleOptions, "agent")),
  ], t("common.create"), async (v) => {
    await api("POST", tenantPath("/users"), { ...v, roles: [v.roles] }, idem());
    toast(t("common.saved"));
    rerender(root, users);
  })), card(t("settings.grant"), form(t("settings.grant"), [
    field(t("col.username"), "username", h("input", { required: true })),
    field(t("settings.role"), "role", select("role", roleOptions)),
  ], t("settings.grant"), async (v) => {
    await api("POST", tenantPath("/users/" + enc(v.username) + "/roles"), { role: v.role }, idem());
    toast(t("common.saved"));
    rerender(root, users);
  })));
}

async function apiKeys(root: HTMLElement): Promise<void> {
  const page = await api("GET", tenantPath("/api-keys?limit=500"));
  root.append(card(t("settings.api_keys"), table(page.items || [], [
    { key: "id", label: t("col.key_id"), value: (k: any) => k.key_id, className: "mono" },
    { key: "name", label: t("col.name"), value: (k: any) => k.name || "" },
    { key: "roles", label: t("col.roles"), value: (k: any) => (k.roles || []).join(", ") },
    { key: "status", label: t("col.status"), value: (k: any) => k.status || (k.revoked_at ? "revoked" : "active") },
    { key: "actions", label: t("col.actions"), value: () => "", cell: (k: any) => k.revoked_at || k.status === "revoked" ? "" :
      h("button", { type: "button", onclick: async () => {
        await api("DELETE", tenantPath("/api-keys/" + enc(k.key_id)), undefined, idem())
          .then(() => rerender(root, apiKeys), (e) => toast(e.message, "error"));
      } }, t("settings.revoke")) },
  ], { caption: t("settings.api_keys"), rowKey: (k: any) => k.key_id, rowAttr: "key" })),
  card(t("settings.new_key"), form(t("settings.new_key"), [
    field(t("settings.key_name"), "name", h("input", { required: true })),
    field(t("settings.role"), "roles", select("roles", kRoles.map((r) => [r, r]), "integration")),
  ], t("common.create"), async (v) => {
    const r = await api("POST", tenantPath("/api-keys"), { name: v.name, roles: [v.roles] }, idem());
    dialog(t("settings.new_key"), h("p", {}, t("settings.key_shown_once")),
      h("p", {}, h("code", { id: "new-api-key", class: "secret" }, r.key)));
    rerender(root, apiKeys);
  })));
}

async function webhooks(root: HTMLElement): Promise<void> {
  const [subs, dead] = await Promise.all([api("GET", tenantPath("/webhooks")),
    api("GET", tenantPath("/webhooks/deliveries?status=dead&limit=500"))]);
  const manage = allows("webhooks.manage");
  root.append(card(t("settings.webhooks"), table(subs.items || [], [
    { key: "id", label: t("col.id"), value: (s: any) => s.subscription_id, className: "mono" },
    { key: "url", label: t("col.url"), value: (s: any) => s.url },
    { key: "events", label: t("col.events"), value: (s: any) => (s.event_types || []).join(", ") },
  ], { caption: t("settings.webhooks") })),
  card(t("settings.deliveries"), table(dead.items || [], [
    { key: "subscription", label: t("col.subscription"), value: (d: any) => d.subscription_id, className: "mono" },
    { key: "event", label: t("col.event"), value: (d: any) => d.event_seq, cell: (d: any) => link("/audit/" + d.event_seq, String(d.event_seq)) },
    { key: "attempts", label: t("col.attempts"), value: (d: any) => d.attempts ?? 0, className: "num" },
    { key: "error", label: t("col.status"), value: (d: any) => d.last_error || d.last_status || d.status || "" },
    { key: "actions", label: t("col.actions"), value: () => "", cell: (d: any) => manage ? h("button", {
      type: "button", class: "replay", onclick: async () => {
        try {
          await api("POST", tenantPath("/webhooks/" + enc(d.subscription_id) + "/deliveries/" + d.event_seq + "/replay"),
            undefined, idem());
          toast(t("settings.replayed"));
          rerender(root, webhooks);
        } catch (e) {
          toast((e as Error).message, "error");
        }
      } }, t("settings.replay")) : "" },
  ], { caption: t("settings.deliveries"), rowKey: (d: any) => d.subscription_id + ":" + d.event_seq, rowAttr: "delivery" })));
  if (!manage) return;
  root.append(card(t("settings.new_webhook"), form(t("settings.new_webhook"), [
    field(t("col.url"), "url", h("input", { required: true, inputmode: "url" })),
    field(t("settings.event_types"), "event_types", h("input", { required: true, value: "*" })),
  ], t("common.create"), async (v) => {
    const r = await api("POST", tenantPath("/webhooks"), { url: v.url, event_types: list(v.event_types) }, idem());
    dialog(t("settings.new_webhook"), h("p", {}, t("settings.secret_shown_once")),
      h("p", {}, h("code", { class: "secret" }, r.secret || r.signing_secret || "")));
    rerender(root, webhooks);
  })));
}

async function channels(root: HTMLElement): Promise<void> {
  root.append(card(t("settings.channels"), form(t("settings.channels"), [
    field(t("settings.channel"), "channel", select("channel", [["whatsapp", "WhatsApp"], ["email", "E-mail"],
      ["voice", "Voice"], ["chat", "Chat"]])),
    field(t("settings.channel_config"), "config", h("textarea", { rows: "6", class: "mono" },
      '{\n  "settings": {"default_region": "IN"},\n  "secrets": {}\n}')),
  ], t("common.save"), async (v) => {
    let body: unknown;
    try {
      body = JSON.parse(v.config);
    } catch (e) {
      throw Object.assign(new Error((e as Error).message), { field: "config" });
    }
    await api("PUT", tenantPath("/channels/" + enc(v.channel) + "/config"), body, idem());
    toast(t("common.saved"));
  })));
}

async function queues(root: HTMLElement): Promise<void> {
  const q = await api("GET", tenantPath("/routing/queues"));
  root.append(card(t("settings.queues"), table(q.items || [], [
    { key: "id", label: t("col.id"), value: (x: any) => x.queue_id },
    { key: "name", label: t("col.name"), value: (x: any) => x.name || "" },
    { key: "expression", label: t("col.expression"), value: (x: any) => x.target_expression || "", className: "mono" },
    { key: "sl", label: t("col.service_level"), value: (x: any) => (x.service_level_target ?? "") + " / " + (x.service_level_threshold_s ?? "") + " s" },
  ], { caption: t("settings.queues"), rowKey: (x: any) => x.queue_id, rowAttr: "queue" })),
  card(t("settings.queues"), form(t("settings.queues"), [
    field(t("settings.queue_id"), "queue_id", h("input", { required: true })),
    field(t("col.name"), "name", h("input", { required: true })),
    field(t("col.expression"), "target_expression", expressionInput("target_expression", "true"), " "),
    field(t("settings.sl_threshold"), "service_level_threshold_s", h("input", { type: "number", min: "1", value: "30" })),
    field(t("settings.sl_target"), "service_level_target", h("input", { type: "number", min: "0", max: "1", step: "0.01", value: "0.8" })),
  ], t("common.save"), async (v) => {
    await api("PUT", tenantPath("/routing/queues/" + enc(v.queue_id)), { name: v.name,
      target_expression: v.target_expression, service_level_threshold_s: Number(v.service_level_threshold_s),
      service_level_target: Number(v.service_level_target) }, idem());
    toast(t("common.saved"));
    rerender(root, queues);
  })));
}

async function workers(root: HTMLElement): Promise<void> {
  const w = await api("GET", tenantPath("/routing/workers?limit=500"));
  root.append(card(t("settings.workers"), table(w.items || [], [
    { key: "id", label: t("col.id"), value: (x: any) => x.worker_id, className: "mono" },
    { key: "name", label: t("col.name"), value: (x: any) => x.name || "" },
    { key: "activity", label: t("col.activity"), value: (x: any) => x.activity || "" },
    { key: "capacity", label: t("col.capacity"), value: (x: any) => JSON.stringify(x.capacity || {}) },
  ], { caption: t("settings.workers") })),
  card(t("settings.workers"), form(t("settings.workers"), [
    field(t("settings.worker_id"), "worker_id", h("input", { required: true })),
    field(t("col.name"), "name", h("input", { required: true })),
    field(t("settings.capacity_chat"), "capacity", h("input", { type: "number", min: "0", value: "1" })),
  ], t("common.save"), async (v) => {
    await api("PUT", tenantPath("/routing/workers/" + enc(v.worker_id)), { name: v.name,
      attributes: {}, capacity: { chat: Number(v.capacity) } }, idem());
    toast(t("common.saved"));
    rerender(root, workers);
  })));
}

async function workflows(root: HTMLElement): Promise<void> {
  root.append(card(t("settings.workflows"), form(t("settings.workflows"), [
    field(t("settings.workflow_id"), "workflow_id", h("input", { required: true, value: "default" })),
    field(t("settings.filter_expression"), "filters", expressionInput("filters", ""), " "),
    field(t("settings.target_queue"), "queue_id", h("input", { required: true })),
  ], t("common.save"), async (v) => {
    const targets = [{ queue_id: v.queue_id }];
    await api("PUT", tenantPath("/routing/workflows/" + enc(v.workflow_id)), {
      filters: v.filters.trim() ? [{ expression: v.filters, targets }] : [],
      default_filter: { targets } }, idem());
    toast(t("common.saved"));
  })));
}

// The automation boundary (issue #12): the policy in force per intent and channel, versions
// scheduled later, a form that declares the next version with one more rule (or a changed one),
// and the handoff acceptance rate per intent.
async function automation(root: HTMLElement): Promise<void> {
  const [view, kpi] = await Promise.all([api("GET", tenantPath("/automation/policy")),
    api("GET", tenantPath("/automation/handoff-acceptance"))]);
  const policy = view.policy;
  root.append(card(t("automation.policy_version", { version: policy.version }),
    h("p", {}, t("automation.default_boundary") + ": ", h("strong", { id: "policy-default" }, policy.default_boundary)),
    table(policy.rules || [], [
      { key: "intent", label: t("automation.intent"), value: (r: any) => r.intent },
      { key: "channel", label: t("automation.channel"), value: (r: any) => r.channel },
      { key: "boundary", label: t("automation.boundary"), value: (r: any) => r.boundary },
      { key: "required_slots", label: t("automation.required_slots"), value: (r: any) => (r.required_slots || []).join(", ") },
    ], { caption: t("automation.rules"), rowKey: (r: any) => r.intent + "/" + r.channel, rowAttr: "rule" }),
    h("p", {}, t("automation.exclusions") + ": ", h("span", { id: "policy-exclusions" }, (policy.exclusion_intents || []).join(", "))),
    (view.scheduled || []).length ? h("p", {}, t("automation.scheduled") + ": " +
      view.scheduled.map((v: any) => "v" + v.version + " @ " + v.effective_at).join("; ")) : null));
  const boundaries: [string, string][] = [["self_serve", "self_serve"], ["human_review", "human_review"],
    ["off_limits", "off_limits"]];
  root.append(card(t("automation.new_rule"), form(t("automation.new_rule"), [
    field(t("automation.intent"), "intent", h("input", { required: true, autocomplete: "off" })),
    field(t("automation.channel"), "channel", h("input", { required: true, value: "*", autocomplete: "off" })),
    field(t("automation.boundary"), "boundary", select("boundary", boundaries, "human_review")),
    field(t("automation.required_slots"), "required_slots", h("input", { autocomplete: "off" })),
    field(t("automation.reason"), "reason", h("input", { required: true, autocomplete: "off" })),
  ], t("common.save"), async (v) => {
    const rule = { intent: v.intent.trim(), channel: v.channel.trim() || "*", boundary: v.boundary,
      required_slots: list(v.required_slots) };
    const rules = (policy.rules || []).filter((r: any) => !(r.intent === rule.intent && r.channel === rule.channel));
    await api("PUT", tenantPath("/automation/policy"), { default_boundary: policy.default_boundary,
      rules: [...rules, rule], exclusion_intents: policy.exclusion_intents, reason: v.reason }, idem());
    toast(t("common.saved"));
    rerender(root, automation);
  })));
  root.append(card(t("automation.acceptance"), table(kpi.intents || [], [
    { key: "intent", label: t("automation.intent"), value: (r: any) => r.intent },
    { key: "handoffs", label: t("automation.handoffs"), value: (r: any) => String(r.handoffs) },
    { key: "reviewed", label: t("automation.reviewed"), value: (r: any) => String(r.reviewed) },
    { key: "rate", label: t("automation.acceptance_rate"),
      value: (r: any) => r.acceptance_rate === null ? "–" : Math.round(r.acceptance_rate * 100) + "%" },
  ], { caption: t("automation.acceptance"), rowKey: (r: any) => r.intent, rowAttr: "intent" })));
}

const kSections: Section[] = [
  { id: "users", label: "settings.users", permission: "users.read", render: users },
  { id: "api-keys", label: "settings.api_keys", permission: "api_keys.manage", render: apiKeys },
  { id: "webhooks", label: "settings.webhooks", permission: "webhooks.read", render: webhooks },
  { id: "channels", label: "settings.channels", permission: "channels.manage", render: channels },
  { id: "queues", label: "settings.queues", permission: "routing.manage", render: queues },
  { id: "workers", label: "settings.workers", permission: "routing.manage", render: workers },
  { id: "workflows", label: "settings.workflows", permission: "routing.manage", render: workflows },
  { id: "automation", label: "settings.automation", permission: "automation.manage", render: automation },
];

function rerender(root: HTMLElement, render: (root: HTMLElement) => Promise<void>): void {
  root.replaceChildren(loading());
  render(root).then(() => root.querySelector(":scope > .loading")?.remove(),
    (e) => root.replaceChildren(errorText(e)));
}

export async function mount({ root, params }: PageContext): Promise<void> {
  const allowed = kSections.filter((s) => allows(s.permission));
  const section = allowed.find((s) => s.id === params[0]) || (params[0] ? undefined : allowed[0]);
  root.replaceChildren(h("h1", {}, t("settings.title")));
  root.appendChild(h("nav", { class: "tabs", "aria-label": t("settings.title") }, ...allowed.map((s) =>
    h("a", { href: "/settings/" + s.id, "data-nav": "", "aria-current": s === section ? "page" : undefined }, t(s.label)))));
  const body = h("div", { id: "settings-body" });
  root.appendChild(body);
  if (!section) {
    body.appendChild(h("section", { class: "message", id: "no-access" }, h("h2", {}, t("noaccess.title")),
      h("p", {}, t("noaccess.body"))));
    return;
  }
  rerender(body, section.render);
}
