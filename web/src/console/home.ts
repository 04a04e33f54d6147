// Home per role: what needs attention first. Agent (routing.work): my activity, my current and
// recent tasks, my queues. Supervisor (routing.read): queues at risk (service level, longest
// wait), agents by activity, today's volume against forecast (wfm.read). Administrator and
// compliance: pending approvals and reviews (data-subject requests, break-glass grants), webhook
// dead letters, ledger verification and the latest signed checkpoint; administrators also the
// state of the scheduled backups, with an alert unless it is fine. A user with several roles
// sees each part; live parts refresh every kRefreshMs. Supervisors and leads also see replies
// whose delivery failed, and retry them (issue #14).
import { allows, api, enc, session, tenantPath } from "../lib/api";
import { formatDate, formatNumber, t } from "../lib/i18n";
import { badge, card, empty, errorText, h, loading, percent, slaState, table } from "../lib/ui";
import { PageContext } from "./pages";

const kRefreshMs = 5000;

async function fill(section: HTMLElement, load: () => Promise<Node[]>): Promise<void> {
  const body = section.querySelector(".card-body") || section.appendChild(h("div", { class: "card-body" }));
  if (!body.hasChildNodes()) body.appendChild(loading());
  try {
    body.replaceChildren(...await load());
  } catch (e) {
    body.replaceChildren(errorText(e));
  }
}

async function agentPart(): Promise<Node[]> {
  let me: any;
  try {
    me = await api("GET", tenantPath("/routing/me"));
  } catch (e: any) {
    if (e.status === 404) return [empty(t("home.not_worker"))];
    throw e;
  }
  const tasks: any[] = me.tasks || [];
  const queues = new Set<string>(tasks.map((x) => x.queue_id).filter(Boolean));
  for (const r of me.reservations || []) if (r.task?.queue_id) queues.add(r.task.queue_id);
  return [
    h("p", {}, t("home.my_activity") + ": ", h("strong", { id: "home-activity" }, String(me.activity || me.worker?.activity || "–"))),
    h("h3", {}, t("home.my_tasks")),
    table(tasks, [
      { key: "task", label: t("col.task"), value: (x: any) => x.task_id },
      { key: "status", label: t("col.status"), value: (x: any) => x.status || "" },
      { key: "channel", label: t("col.channel"), value: (x: any) => x.channel || "" },
      { key: "queue", label: t("col.queue"), value: (x: any) => x.queue_id || "" },
    ], { caption: t("home.my_tasks") }),
    h("h3", {}, t("home.my_queues")),
    queues.size ? h("ul", {}, ...[...queues].map((q) => h("li", {}, q))) : empty(),
  ];
}

async function supervisorParts(risk: HTMLElement, agents: HTMLElement, volume: HTMLElement | null): Promise<void> {
  const [stats, queues] = await Promise.all([
    api("GET", tenantPath("/routing/stats")), api("GET", tenantPath("/routing/queues"))]);
  const config = new Map<string, any>((queues.items || []).map((q: any) => [q.queue_id, q]));
  const rows = (stats.queues || []).map((q: any) => {
    const c = config.get(q.queue_id) || {};
    const state = slaState(q.offered ? q.service_level : null, c.service_level_target ?? 0.8,
      q.longest_wait_s || 0, c.service_level_threshold_s ?? 30);
    return { ...q, state };
  });
  const atRisk = rows.filter((q: any) => q.state !== "ok");
  await fill(risk, async () => [atRisk.length === 0 ? empty(t("home.no_risk")) : table(atRisk, [
    { key: "queue", label: t("col.queue"), value: (q: any) => q.name || q.queue_id },
    { key: "state", label: t("col.state"), value: (q: any) => q.state, cell: (q: any) => badge(q.state) },
    { key: "waiting", label: t("col.waiting"), value: (q: any) => q.waiting, className: "num" },
    { key: "wait", label: t("col.longest_wait"), value: (q: any) => Math.round(q.longest_wait_s || 0), className: "num" },
    { key: "sl", label: t("col.service_level"), value: (q: any) => q.service_level ?? -1,
      cell: (q: any) => percent(q.offered ? q.service_level : null), className: "num" },
  ], { caption: t("home.at_risk"), rowKey: (q: any) => q.queue_id, rowAttr: "queue" })]);
  const counts: Record<string, number> = {};
  for (const q of stats.queues || []) {
    for (const [a, n] of Object.entries(q.agents || {})) counts[a] = Math.max(counts[a] || 0, n as number);
  }
  await fill(agents, async () => [table(Object.entries(counts), [
    { key: "activity", label: t("col.activity"), value: ([a]) => a.replace("_", "-") },
    { key: "count", label: t("col.count"), value: ([, n]) => n, className: "num" },
  ], { caption: t("home.agents") })]);
  if (!volume) return;
  const today = new Date().toISOString().slice(0, 10);
  await fill(volume, async () => {
    const out = await Promise.all(rows.map(async (q: any) => {
      const day = await api("GET", tenantPath("/wfm/intraday?queue=" + enc(q.queue_id) + "&date=" + today))
        .catch(() => null);
      // GET /wfm/intraday: the day's intervals with forecast_volume (null without a forecast).
      const rows: any[] = day?.intervals || [];
      const known = rows.filter((r) => r.forecast_volume !== null && r.forecast_volume !== undefined);
      return { queue: q.name || q.queue_id, offered: q.offered || 0,
        forecast: known.length ? known.reduce((a, r) => a + Number(r.forecast_volume), 0) : null };
    }));
    return [table(out, [
      { key: "queue", label: t("col.queue"), value: (r) => r.queue },
      { key: "offered", label: t("col.offered"), value: (r) => r.offered, cell: (r) => formatNumber(r.offered), className: "num" },
      { key: "forecast", label: t("col.forecast"), value: (r) => r.forecast ?? -1, cell: (r) => formatNumber(r.forecast, 1), className: "num" },
    ], { caption: t("home.volume") })];
  });
}

async function governanceParts(approvals: HTMLElement | null, dead: HTMLElement | null,
                               ledger: HTMLElement | null): Promise<void> {
  if (approvals) {
    await fill(approvals, async () => {
      const out: Node[] = [];
      if (allows("privacy.read")) {
        const reqs = await api("GET", tenantPath("/privacy/subject-requests"));
        const open = (reqs.items || []).filter((r: any) => !["completed", "executed", "erased", "rejected"].includes(r.status));
        out.push(h("h3", {}, t("home.erasures")), table(open, [
          { key: "id", label: t("col.id"), value: (r: any) => r.request_id },
          { key: "kind", label: t("col.kind"), value: (r: any) => r.kind || r.type || "" },
          { key: "status", label: t("col.status"), value: (r: any) => r.status || "" },
          { key: "due", label: t("col.due"), value: (r: any) => r.due_at || "", cell: (r: any) => formatDate(r.due_at) },
        ], { caption: t("home.erasures") }));
      }
      if (allows("privacy.review")) {
        const grants = await api("GET", tenantPath("/privacy/break-glass"));
        out.push(h("h3", {}, t("home.break_glass")), table(grants.items || [], [
          { key: "id", label: t("col.id"), value: (g: any) => g.grant_id },
          { key: "actor", label: t("col.actor"), value: (g: any) => g.username || g.grantee || g.user_id || "" },
          { key: "time", label: t("col.time"), value: (g: any) => g.started_at || "", cell: (g: any) => formatDate(g.started_at) },
        ], { caption: t("home.break_glass") }));
      }
      return out;
    });
  }
  if (dead) {
    await fill(dead, async () => {
      const d = await api("GET", tenantPath("/webhooks/deliveries?status=dead&limit=100"));
      const items = d.items || [];
      return [h("p", {}, h("a", { href: "/settings/webhooks", "data-nav": "", id: "dead-letter-count" },
        formatNumber(items.length) + " " + t("home.dead_letters")))];
    });
  }
  if (ledger) {
    await fill(ledger, async () => {
      const out: Node[] = [];
      const cp = await api("GET", tenantPath("/ledger/checkpoint")).catch((e) => (e.status === 404 ? null : Promise.reject(e)));
      out.push(h("h3", {}, t("home.checkpoint")), cp ? h("dl", { class: "facts" },
        h("dt", {}, "tree_size"), h("dd", {}, formatNumber(cp.tree_size)),
        h("dt", {}, "root_hash"), h("dd", { class: "mono" }, cp.root_hash),
        h("dt", {}, "key_id"), h("dd", { class: "mono" }, cp.key_id),
        h("dt", {}, t("col.time")), h("dd", {}, formatDate(cp.signed_at))) : empty(t("home.no_checkpoint")));
      if (allows("ledger.verify")) {
        const result = h("p", { id: "verify-result", role: "status" });
        out.push(h("button", { type: "button", onclick: async () => {
          result.textContent = t("common.loading");
          try {
            const r = await api("POST", tenantPath("/ledger/verify"));
            result.textContent = r.ok ? t("home.verified", { events: formatNumber(r.events_checked), checkpoints: formatNumber(r.checkpoints_checked) })
              : t("home.verify_failed", { seq: r.first_bad_seq, reason: r.reason });
            result.className = r.ok ? "ok" : "error";
          } catch (e) {
            result.textContent = (e as Error).message;
          }
        } }, t("home.verify")), result);
      }
      return out;
    });
  }
}

// Issue #14: failed deliveries of replies (GET /conversations/failed-messages), each with its
// reason, a link to its conversation and a Retry button; an alert while there are any.
async function failedPart(): Promise<Node[]> {
  const page = await api("GET", tenantPath("/conversations/failed-messages?limit=50"));
  const items: any[] = page.items || [];
  if (items.length === 0) return [empty(t("home.no_failed"))];
  const text = (v: unknown) => (v === undefined || v === null ? "" : typeof v === "string" ? v : JSON.stringify(v));
  return [
    h("p", { class: "error", role: "alert", id: "failed-deliveries-alert" },
      t("delivery.failed_alert", { count: items.length, reason: text(items[0].status_reason) || "–" })),
    table(items, [
      { key: "time", label: t("col.time"), value: (m: any) => m.status_at || "", cell: (m: any) => formatDate(m.status_at) },
      { key: "conversation", label: t("col.conversation"), value: (m: any) => m.conversation_id,
        cell: (m: any) => h("a", { href: "/conversations/" + enc(m.conversation_id), "data-nav": "" }, m.conversation_id) },
      { key: "channel", label: t("col.channel"), value: (m: any) => m.channel || "" },
      { key: "reason", label: t("col.reason"), value: (m: any) => text(m.status_reason) },
      { key: "retry", label: t("delivery.retry"), value: (m: any) => (m.retryable ? 1 : 0),
        cell: (m: any) => m.retryable ? h("button", { type: "button", class: "retry", "data-message": m.message_id,
          onclick: async (ev: Event) => {
            const button = ev.currentTarget as HTMLButtonElement;
            button.disabled = true;
            try {
              await api("POST", tenantPath("/conversations/" + enc(m.conversation_id) + "/messages/" +
                enc(m.message_id) + "/retry"));
              button.closest("tr")?.remove();
            } catch (e) {
              button.disabled = false;
              button.after(errorText(e));
            }
          } }, t("delivery.retry")) : "" },
    ], { caption: t("home.failed_deliveries"), rowKey: (m: any) => m.message_id, rowAttr: "message" }),
  ];
}

// The server's scheduled backups (GET /system/backups): an alert unless they are fine here —
// "ok", or "standby" when another node of a cluster takes them.
async function backupPart(): Promise<Node[]> {
  const b = await api("GET", tenantPath("/system/backups"));
  const state = String(b.state);
  const out: Node[] = [];
  if (state !== "ok" && state !== "standby") {
    out.push(h("p", { class: "error", role: "alert", id: "backup-alert" },
      t("home.backup_alert", { state: t("backup." + state) }) + (b.last_error ? " " + b.last_error : "")));
  }
  out.push(h("dl", { class: "facts" },
    h("dt", {}, t("col.state")), h("dd", { "data-backup-state": state }, t("backup." + state)),
    h("dt", {}, t("home.backup_last")), h("dd", {}, b.last_success_at ? formatDate(b.last_success_at) : "–"),
    h("dt", {}, t("home.backup_next")), h("dd", {}, b.next_at ? formatDate(b.next_at) : "–"),
    h("dt", {}, t("home.backup_folder")), h("dd", { class: "mono" }, String(b.folder || "–"))));
  return out;
}

export function mount({ root }: PageContext): () => void {
  root.replaceChildren(h("h1", {}, t("home.welcome", { name: session.username })));
  const grid = h("div", { class: "grid" });
  root.appendChild(grid);
  const add = (title: string, id: string) => {
    const c = card(title, h("div", { class: "card-body" }));
    c.id = id;
    grid.appendChild(c);
    return c;
  };
  const agent = allows("routing.work") ? add(t("home.my_activity"), "home-agent") : null;
  const risk = allows("routing.read") ? add(t("home.at_risk"), "home-risk") : null;
  const agents = allows("routing.read") ? add(t("home.agents"), "home-agents") : null;
  const volume = allows("routing.read") && allows("wfm.read") ? add(t("home.volume"), "home-volume") : null;
  const approvals = allows("privacy.read") || allows("privacy.review") ? add(t("home.approvals"), "home-approvals") : null;
  const dead = allows("webhooks.read") ? add(t("home.dead_letters"), "home-dead-letters") : null;
  const failed = allows("conversations.retry_any") ? add(t("home.failed_deliveries"), "home-failed-deliveries") : null;
  const ledger = allows("ledger.read") ? add(t("home.ledger"), "home-ledger") : null;
  const backups = allows("tenant.admin") ? add(t("home.backups"), "home-backups") : null;
  if (backups) fill(backups, backupPart);
  const live = async () => {
    if (agent) await fill(agent, agentPart);
    if (risk && agents) await supervisorParts(risk, agents, volume).catch((e) => risk.replaceChildren(errorText(e)));
    if (failed && !failed.contains(document.activeElement)) await fill(failed, failedPart);
  };
  live();
  governanceParts(approvals, dead, ledger);
  const timer = window.setInterval(live, kRefreshMs);
  return () => window.clearInterval(timer);
}
