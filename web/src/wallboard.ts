// The supervisor wallboard (/wallboard in the console): queues (waiting, longest wait, service level, ASA, abandonment),
// agents by activity and a chart of tasks waiting, all live over the stream (queue_stats and
// agent_activities). The hub sends a queue_stats snapshot on subscription; once subscribed
// (also after a reconnect) the page reads GET /routing/workers for the agents and their
// activities (routing.json RoutingWorker: available, busy, wrap_up, break, offline).
import uPlot from "uplot";
import { $, api, el, tenantPath } from "./lib/api";
import { translate } from "./lib/i18n";
import { LiveStream, StreamMessage } from "./lib/stream";
import markup from "./markup/wallboard.html?raw";

interface QueueStats {
  queue_id: string;
  name?: string;
  waiting: number;
  longest_wait_s: number;
  service_level: number | null;
  asa_s: number | null;
  abandoned: number;
  offered: number;
  answered: number;
  agents?: Record<string, number>;
}
interface Agent {
  worker_id: string;
  name?: string;
  activity: string;
  since?: string;
}

const kChartPointsMax = 600;
const kWorkerPagesMax = 20;
const kActivities = ["available", "busy", "wrap_up", "break", "offline"];
const agents = new Map<string, Agent>();
const series: [number[], number[]] = [[], []];
let chart: uPlot | null = null;

function fixed(v: number | null | undefined, digits = 1): string {
  return v === null || v === undefined || Number.isNaN(v) ? "–" : Number(v).toFixed(digits);
}

function renderQueues(stats: { at?: string; queues: QueueStats[] }): void {
  const body = $("queues").querySelector("tbody")!;
  body.replaceChildren();
  const counts: Record<string, number> = {};
  let waiting = 0;
  for (const q of stats.queues || []) {
    const tr = el("tr");
    tr.dataset.queue = q.queue_id;
    tr.appendChild(el("th", q.name || q.queue_id));
    (tr.lastChild as HTMLElement).setAttribute("scope", "row");
    tr.appendChild(el("td", q.waiting, "waiting"));
    tr.appendChild(el("td", fixed(q.longest_wait_s, 0), "longest-wait"));
    tr.appendChild(el("td", q.service_level === null || q.service_level === undefined ? "–" :
      Math.round(q.service_level * 100) + "%", "service-level"));
    tr.appendChild(el("td", fixed(q.asa_s), "asa"));
    tr.appendChild(el("td", q.abandoned, "abandoned"));
    tr.appendChild(el("td", q.offered, "offered"));
    tr.appendChild(el("td", q.answered, "answered"));
    body.appendChild(tr);
    waiting += q.waiting || 0;
    for (const [activity, n] of Object.entries(q.agents || {})) {
      counts[activity] = Math.max(counts[activity] || 0, n);
    }
  }
  const at = stats.at || new Date().toISOString();
  $("stats-at").textContent = at.replace("T", " ").replace(/\.\d+Z$/, "Z");
  $("stats-at").setAttribute("datetime", at);
  if (agents.size === 0) renderCounts(counts);
  addPoint(waiting);
}

function renderCounts(counts: Record<string, number>): void {
  const list = $("agent-counts");
  list.replaceChildren();
  for (const activity of kActivities) {
    const li = el("li", activity.replace("_", "-") + ": " + (counts[activity] || 0));
    li.dataset.activity = activity;
    list.appendChild(li);
  }
}

function renderAgents(): void {
  const body = $("agents").querySelector("tbody")!;
  body.replaceChildren();
  const counts: Record<string, number> = {};
  for (const a of [...agents.values()].sort((x, y) => (x.name || "").localeCompare(y.name || ""))) {
    const tr = el("tr");
    tr.dataset.worker = a.worker_id;
    tr.appendChild(el("td", a.name || a.worker_id));
    tr.appendChild(el("td", a.activity.replace("_", "-"), "activity"));
    const since = el("td");
    if (a.since) {
      const time = el("time", new Date(a.since).toLocaleTimeString());
      time.setAttribute("datetime", a.since);
      since.appendChild(time);
    }
    tr.appendChild(since);
    body.appendChild(tr);
    const key = a.activity === "wrap-up" ? "wrap_up" : a.activity;
    counts[key] = (counts[key] || 0) + 1;
  }
  renderCounts(counts);
}

function addPoint(waiting: number): void {
  series[0].push(Date.now() / 1000);
  series[1].push(waiting);
  if (series[0].length > kChartPointsMax) {
    series[0].shift();
    series[1].shift();
  }
  if (!chart) {
    const host = $("chart");
    chart = new uPlot({
      width: Math.max(300, host.clientWidth || 500), height: 220,
      series: [{}, { label: "waiting", stroke: "#0b3d5c", width: 2 }],
      axes: [{}, { label: "tasks" }],
      // The chart is an image with a text label (#chart): no legend or cursor read-out.
      legend: { show: false },
      cursor: { show: false },
    }, series, host);
  } else {
    chart.setData(series);
  }
}

// Activity changes seen on the stream, by worker: a slower GET /routing/workers keeps them.
const streamed = new Set<string>();

function onMessage(m: StreamMessage): void {
  if (m.type === "subscribed") loadWorkers().catch(showError);
  if (m.type === "queue_stats") renderQueues(m as any);
  if (m.type === "agent_activity") {
    streamed.add(m.worker_id);
    const known = agents.get(m.worker_id);
    agents.set(m.worker_id, { worker_id: m.worker_id, name: m.name || known?.name,
      activity: m.activity, since: m.since });
    renderAgents();
  }
  if (m.type === "error") showError(new Error(m.message || m.rule || "stream error"));
}

function showError(e: Error): void {
  $("wallboard-error").textContent = e.message;
}

// GET /routing/workers, page by page (next_after), up to kWorkerPagesMax pages.
async function loadWorkers(): Promise<void> {
  streamed.clear();
  let after = "";
  for (let page = 0; page < kWorkerPagesMax; page++) {
    const workers = await api("GET", tenantPath("/routing/workers?limit=200" +
      (after ? "&after=" + encodeURIComponent(after) : "")));
    for (const w of workers.items || []) {
      if (streamed.has(w.worker_id)) continue;
      agents.set(w.worker_id, { worker_id: w.worker_id, name: w.name, activity: w.activity,
        since: w.activity_since || undefined });
    }
    after = workers.next_after || "";
    if (!after) break;
  }
  if (agents.size > 0) renderAgents();
}

// Draws the page into the console's main element; the returned function closes its stream.
export function mount({ root }: { root: HTMLElement }): () => void {
  agents.clear();
  streamed.clear();
  series[0].length = 0;
  series[1].length = 0;
  chart?.destroy();
  chart = null;
  root.innerHTML = markup;
  translate(root);
  const stream = new LiveStream(["queue_stats", "agent_activities"], onMessage, (s) => {
    const status = document.getElementById("stream-status");
    if (status) status.textContent = "stream: " + s;
  });
  stream.open();
  return () => stream.close();
}
