// KPIs (issue #13): dashboards computed from the ledger's 15-minute aggregates. A view picks the
// grouping and the KPIs (operations by queue, intents, agents); the range is today or the last
// 7 or 30 days in the browser's time zone. Every chart is also a table (the table is the
// chart's text equivalent), the figures refresh every few seconds while the page is open, and
// the same query downloads as CSV. Plain form controls, so it works with the keyboard alone.
import uPlot from "uplot";
import { allows, api, enc, tenantPath } from "../lib/api";
import { formatPercent, t } from "../lib/i18n";
import { card, empty, errorText, h, loading, select, table } from "../lib/ui";
import { Cleanup, PageContext } from "./pages";

const kRefreshMs = 5000;
const kQuarterMs = 15 * 60 * 1000;

interface View { group: string; kpis: string[] }
const kViews: Record<string, View> = {
  operations: { group: "queue", kpis: ["offered", "answered", "abandoned", "service_level",
    "service_level_excl_short_abandons", "abandonment_rate", "asa", "aht"] },
  intents: { group: "intent", kpis: ["offered", "answered", "abandonment_rate", "asa", "aht",
    "transfer_rate"] },
  agents: { group: "agent", kpis: ["handled", "aht", "att", "acw", "transfer_rate"] },
};

interface Def { id: string; name: string; unit: string; definition: string }

function zone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

// [from, to) on quarter-hour boundaries: local midnight `days - 1` days ago up to the next
// quarter hour from now.
function range(days: number): [string, string] {
  const start = new Date();
  start.setHours(0, 0, 0, 0);
  start.setDate(start.getDate() - (days - 1));
  const from = Math.floor(start.getTime() / kQuarterMs) * kQuarterMs;
  const to = Math.ceil((Date.now() + 1) / kQuarterMs) * kQuarterMs;
  return [new Date(from).toISOString().replace(/\.\d{3}Z$/, "Z"),
    new Date(to).toISOString().replace(/\.\d{3}Z$/, "Z")];
}

function money(minor: number, currency: string): string {
  const f = new Intl.NumberFormat(undefined, { style: "currency", currency });
  const digits = f.resolvedOptions().maximumFractionDigits ?? 2;
  return f.format(minor / 10 ** digits);
}

// The client invoice of a month (issue #13, contracts and billing): lines, the KPI targets with
// their evidence, penalty, bonus and total; CSV and HTML beside it.
function invoiceCard(): HTMLElement {
  const now = new Date();
  const month = h("input", { id: "invoice-month", type: "month",
    value: now.toISOString().slice(0, 7) }) as HTMLInputElement;
  const box = h("div", { id: "invoice", "aria-live": "polite" });
  const links = h("p", { class: "actions" });
  const show = async () => {
    box.replaceChildren(loading());
    links.replaceChildren();
    try {
      const inv = await api("GET", tenantPath("/billing/invoices/" + enc(month.value)));
      const cur = inv.currency as string;
      const base = tenantPath("/billing/invoices/" + enc(month.value));
      links.append(h("a", { href: base + "?format=csv", download: "invoice-" + month.value + ".csv" }, t("billing.csv")),
        " ", h("a", { href: base + "?format=html", target: "_blank", rel: "noopener" }, t("billing.html")));
      box.replaceChildren(
        table(inv.lines, [
          { key: "item", label: t("billing.item"), value: (l: any) => t("billing.item." + l.item) },
          { key: "quantity", label: t("billing.quantity"), value: (l: any) => l.quantity },
          { key: "unit", label: t("billing.unit"), value: (l: any) => l.unit_minor, cell: (l: any) => money(l.unit_minor, cur) },
          { key: "amount", label: t("billing.amount"), value: (l: any) => l.amount_minor, cell: (l: any) => money(l.amount_minor, cur) },
        ], { caption: t("billing.lines"), rowKey: (l: any) => l.item, rowAttr: "item" }),
        table([...inv.targets, ...inv.bonuses], [
          { key: "kpi", label: t("billing.kpi"), value: (c: any) => c.kpi },
          { key: "target", label: t("billing.target"), value: (c: any) => c.op + " " + c.target },
          { key: "actual", label: t("billing.actual"), value: (c: any) => (c.actual === null ? "–" : String(c.actual)) },
          { key: "result", label: t("billing.result"), value: (c: any) => (c.met ? 1 : 0),
            cell: (c: any) => h("a", { href: c.evidence }, c.met ? t("billing.met") : t("billing.missed")) },
        ], { caption: t("billing.targets"), rowKey: (c: any) => c.kpi, rowAttr: "kpi" }),
        h("dl", { class: "kpi-totals", id: "invoice-totals" },
          h("div", {}, h("dt", {}, t("billing.subtotal")), h("dd", { "data-total": "subtotal" }, money(inv.subtotal_minor, cur))),
          h("div", {}, h("dt", {}, t("billing.penalty", { bp: inv.penalty_bp })), h("dd", { "data-total": "penalty" }, "−" + money(inv.penalty_minor, cur))),
          h("div", {}, h("dt", {}, t("billing.bonus", { bp: inv.bonus_bp })), h("dd", { "data-total": "bonus" }, money(inv.bonus_minor, cur))),
          h("div", {}, h("dt", {}, t("billing.total")), h("dd", { "data-total": "total" }, money(inv.total_minor, cur)))));
    } catch (e) {
      box.replaceChildren(errorText(e));
    }
  };
  month.addEventListener("change", show);
  show();
  return card(t("billing.title"),
    h("div", { class: "field" }, h("label", { for: "invoice-month" }, t("billing.month")), month), links, box);
}

function figure(v: unknown, unit: string): string {
  if (v === null || v === undefined) return "–";
  if (unit === "ratio") return formatPercent(v as number);
  if (unit === "seconds") return (v as number).toFixed(1) + " s";
  return String(v);
}

export async function mount({ root }: PageContext): Promise<Cleanup> {
  root.replaceChildren(h("h1", {}, t("kpis.title")), loading());
  let defs: Record<string, Def> = {};
  try {
    const c = await api("GET", tenantPath("/kpis/catalogue"));
    for (const d of c.items as Def[]) defs[d.id] = d;
  } catch (e) {
    root.replaceChildren(h("h1", {}, t("kpis.title")), errorText(e));
    return;
  }
  const view = select("view", [["operations", t("kpis.view.operations")], ["intents", t("kpis.view.intents")],
    ["agents", t("kpis.view.agents")]], "operations");
  view.id = "kpi-view";
  const period = select("period", [["1", t("kpis.today")], ["7", t("kpis.last7")], ["30", t("kpis.last30")]], "1");
  period.id = "kpi-period";
  const csv = h("a", { id: "kpi-csv", download: "kpis.csv" }, t("kpis.csv")) as HTMLAnchorElement;
  const status = h("p", { id: "kpi-status", class: "hint", "aria-live": "polite" });
  const totals = h("dl", { class: "kpi-totals", id: "kpi-totals" });
  const chartHost = h("div", { id: "kpi-chart", role: "img", "aria-label": t("kpis.chart") });
  const tableBox = h("div", { id: "kpi-table" });
  const trendBox = h("div", { id: "kpi-trend" });
  // The chart's own legend is a wide table; this one wraps on a phone.
  const legend = h("ul", { class: "counts chart-legend", "aria-hidden": "true" },
    ...["offered", "answered", "abandoned"].map((k) =>
      h("li", { class: "series-" + k }, defs[k]?.name || k)));
  root.replaceChildren(h("h1", {}, t("kpis.title")),
    card(t("kpis.filters"),
      h("div", { class: "field" }, h("label", { for: "kpi-view" }, t("kpis.view")), view),
      h("div", { class: "field" }, h("label", { for: "kpi-period" }, t("kpis.period")), period),
      csv, status),
    card(t("kpis.totals"), totals),
    card(t("kpis.by_group"), tableBox),
    card(t("kpis.trend"), legend, chartHost, trendBox));
  if (allows("billing.read")) root.append(invoiceCard());

  let chart: uPlot | null = null;
  let seq = 0;
  const load = async () => {
    const mine = ++seq;
    const v = kViews[view.value];
    const [from, to] = range(Number(period.value));
    const days = Number(period.value);
    const time = days === 1 ? "hour" : "day";
    const base = "/kpis?from=" + enc(from) + "&to=" + enc(to) + "&zone=" + enc(zone());
    csv.href = tenantPath(base + "&group_by=" + v.group + "," + time + "&kpi=" + v.kpis.join(",") + "&format=csv");
    try {
      const [byGroup, trend] = await Promise.all([
        api("GET", tenantPath(base + "&group_by=" + v.group + "&kpi=" + v.kpis.join(","))),
        api("GET", tenantPath(base + "&group_by=" + time + "&kpi=offered,answered,abandoned,service_level")),
      ]);
      if (mine !== seq) return;
      totals.replaceChildren(...v.kpis.map((k) => h("div", {},
        h("dt", { title: defs[k]?.definition || "" }, defs[k]?.name || k),
        h("dd", { "data-kpi": k }, figure(byGroup.totals[k], defs[k]?.unit || "count")))));
      const groupLabel = t("kpis.group." + v.group);
      tableBox.replaceChildren(byGroup.rows.length ? table(byGroup.rows, [
        { key: v.group, label: groupLabel, value: (r: any) => r[v.group] || t("kpis.unattributed") },
        ...v.kpis.map((k) => ({ key: k, label: defs[k]?.name || k,
          value: (r: any) => (r[k] === null ? -1 : r[k]) as number,
          cell: (r: any) => figure(r[k], defs[k]?.unit || "count") })),
      ], { caption: t("kpis.by_group"), rowKey: (r: any) => r[v.group] || "", rowAttr: "group" })
        : empty(t("kpis.none")));
      const rows = trend.rows as any[];
      trendBox.replaceChildren(table(rows, [
        { key: time, label: t("kpis.group." + time), value: (r: any) => r[time] },
        { key: "offered", label: defs.offered?.name || "offered", value: (r: any) => r.offered },
        { key: "answered", label: defs.answered?.name || "answered", value: (r: any) => r.answered },
        { key: "abandoned", label: defs.abandoned?.name || "abandoned", value: (r: any) => r.abandoned },
        { key: "service_level", label: defs.service_level?.name || "service_level",
          value: (r: any) => (r.service_level === null ? -1 : r.service_level),
          cell: (r: any) => figure(r.service_level, "ratio") },
      ], { caption: t("kpis.trend"), rowKey: (r: any) => r[time], rowAttr: "time" }));
      const xs = rows.map((_r, i) => i);
      const data: uPlot.AlignedData = [xs, rows.map((r) => r.offered), rows.map((r) => r.answered),
        rows.map((r) => r.abandoned)];
      if (chart) chart.destroy();
      chart = rows.length ? new uPlot({
        width: Math.max(300, chartHost.clientWidth || 600), height: 220,
        series: [{}, { label: defs.offered?.name || "offered", stroke: "#0b3d5c", width: 2 },
          { label: defs.answered?.name || "answered", stroke: "#2e7d32", width: 2 },
          { label: defs.abandoned?.name || "abandoned", stroke: "#b3261e", width: 2 }],
        axes: [{ values: (_u, ticks) => ticks.map((i) => rows[i]?.[time]?.slice(days === 1 ? 11 : 5, days === 1 ? 16 : 10) ?? "") },
          { label: t("kpis.contacts") }],
        cursor: { show: false },
        legend: { show: false },
      }, data, chartHost) : null;
      status.textContent = t("kpis.updated", { time: new Date().toLocaleTimeString() });
    } catch (e) {
      if (mine === seq) tableBox.replaceChildren(errorText(e));
    }
  };
  view.addEventListener("change", load);
  period.addEventListener("change", load);
  await load();
  const timer = window.setInterval(load, kRefreshMs);
  return () => {
    window.clearInterval(timer);
    if (chart) chart.destroy();
  };
}
