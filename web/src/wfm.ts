// @ts-nocheck -- migrated from wfm.js as it was; types follow in #4.
// The workforce planning page (/workforce in the console; /wfm still opens it): forecast a queue from history, set targets, see
// required versus scheduled agents, build a schedule (roster), simulate the day and follow
// intraday actuals. It talks only to the public API (/api/v1/tenants/{tenant}/wfm/...); changes
// to the targets recompute staffing and simulation live (debounced).
import { api as consoleApi, tenantPath } from "./lib/api";
import { translate } from "./lib/i18n";
import markup from "./markup/wfm.html?raw";

const $ = (id) => document.getElementById(id);
const S = {
  forecast: null,   // the saved forecast (GET forecasts/{id})
  staffing: null,   // POST staffing answer for the day
  simulation: null, // POST simulations answer for the day
  schedule: null,   // the saved schedule
  intraday: null,   // GET intraday answer
  seq: 0,           // recompute generation: older answers are dropped
};
const DEBOUNCE_MS = 300;
const SIM_REPLICATIONS = 10;

// ---- HTTP -----------------------------------------------------------------------------------------
// Through the console's one HTTP module (lib/api.ts); errors name the field and the rule.
async function api(method, path, body, extraHeaders) {
  pending(+1);
  try {
    return await consoleApi(method, path, body, extraHeaders || {});
  } catch (e) {
    const where = e.field ? " (" + e.field + (e.rule ? ", " + e.rule : "") + ")" : "";
    const err = new Error(e.message + where);
    err.status = e.status;
    throw err;
  } finally {
    pending(-1);
  }
}
function pending(delta) {
  const n = Number(document.documentElement.dataset.pending || 0) + delta;
  document.documentElement.dataset.pending = String(n);
}
const wfm = (path) => tenantPath("/wfm" + path);
const idempotencyKey = () => "ui-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);

function status(text, isError) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}
function guard(fn) {
  return (...args) => Promise.resolve(fn(...args)).catch((e) => status(e.message, true));
}

// ---- dates and the day's slice of the forecast ----------------------------------------------------
const dayNumber = (date) => Math.floor(Date.parse(date + "T00:00:00Z") / 86400000);
const dateOf = (n) => new Date(n * 86400000).toISOString().slice(0, 10);
const todayUtc = () => new Date().toISOString().slice(0, 10);
const hhmm = (minute) => String(Math.floor(minute / 60)).padStart(2, "0") + ":" + String(minute % 60).padStart(2, "0");

function forecastDays(f) {
  const perDay = 1440 / f.interval_min;
  const first = dayNumber(f.first_start_local.slice(0, 10));
  return { first, count: f.volume.length / perDay, perDay };
}

// The selected day's intervals: [{minute, volume, aht_s}] or [] when the forecast does not cover it.
function dayIntervals() {
  const f = S.forecast;
  if (!f) return [];
  const { first, count, perDay } = forecastDays(f);
  const d = dayNumber($("day").value) - first;
  if (!(d >= 0 && d < count)) return [];
  const fallbackAht = Number($("t-aht").value) || 180;
  const out = [];
  for (let i = 0; i < perDay; i++) {
    const k = d * perDay + i;
    const aht = f.aht_s && f.aht_s[k] != null ? f.aht_s[k] : fallbackAht;
    out.push({ minute: i * f.interval_min, volume: f.volume[k], aht_s: aht });
  }
  return out;
}

// Scheduled agents per interval of the day from the saved schedule (fewest in overlapping slots).
function scheduledForDay(perDay, intervalMin) {
  const s = S.schedule;
  if (!s) return null;
  const d = dayNumber($("day").value) - dayNumber(s.start_date);
  if (!(d >= 0 && d < s.days)) return null;
  const si = s.interval_min, base = d * (1440 / si), out = [];
  for (let i = 0; i < perDay; i++) {
    const m = i * intervalMin;
    let fewest = null;
    for (let k = Math.floor(m / si); k * si < m + intervalMin; k++) {
      const v = s.coverage.scheduled[base + k];
      if (v != null) fewest = fewest == null ? v : Math.min(fewest, v);
    }
    out.push(fewest == null ? 0 : Math.round(fewest));
  }
  return out;
}

function targets() {
  const t = {
    service_level: Number($("t-sl").value) / 100,
    target_answer_s: Number($("t-answer").value),
    shrinkage: Number($("t-shrinkage").value) / 100,
  };
  const patience = $("t-patience").value.trim();
  if (patience !== "") t.patience_s = Number(patience);
  return t;
}

// ---- recompute (staffing, then simulation) --------------------------------------------------------
let timer = null;
function scheduleRecompute() {
  clearTimeout(timer);
  timer = setTimeout(guard(recompute), DEBOUNCE_MS);
}

async function recompute() {
  const seq = ++S.seq;
  const day = dayIntervals();
  if (day.length === 0) {
    S.staffing = S.simulation = null;
    render();
    return;
  }
  const intervalS = S.forecast.interval_min * 60;
  const t = targets();
  const staffing = await api("POST", wfm("/staffing"), {
    interval_s: intervalS, targets: t,
    intervals: day.map((x) => ({ volume: x.volume, aht_s: x.aht_s })) });
  if (seq !== S.seq) return;
  S.staffing = staffing;
  render();
  const scheduled = scheduledForDay(day.length, S.forecast.interval_min);
  const onPhones = scheduled
    ? scheduled.map((n) => Math.floor(n * (1 - t.shrinkage) + 1e-9))
    : staffing.intervals.map((r) => r.agents);
  const sim = { interval_s: intervalS, volumes: day.map((x) => x.volume), agents: onPhones,
    aht_s: day.reduce((a, x) => a + x.aht_s * x.volume, 0) / Math.max(1e-9, day.reduce((a, x) => a + x.volume, 0)) || 180,
    target_answer_s: t.target_answer_s, replications: SIM_REPLICATIONS, seed: 1 };
  if (t.patience_s) sim.patience_s = t.patience_s;
  const simulation = await api("POST", wfm("/simulations"), sim);
  if (seq !== S.seq) return;
  S.simulation = simulation;
  render();
  status("Recomputed for " + $("day").value + " (" + staffing.model.replace("_", " ") + ")");
}

// ---- forecast -------------------------------------------------------------------------------------
function setForecast(f) {
  S.forecast = f;
  $("zone").value = f.zone;
  const { first, count } = forecastDays(f);
  const today = dayNumber(todayUtc());
  const chosen = dayNumber($("day").value || "1970-01-01");
  if (!(chosen >= first && chosen < first + count)) {
    $("day").value = dateOf(today >= first && today < first + count ? today : first);
  }
  const h = f.holdout || {};
  const pct = (x) => (x == null ? "n/a" : (100 * x).toFixed(1) + "%");
  $("forecast-info").textContent = "Forecast " + f.forecast_id + ": " + f.method + " (" + f.season +
    "), " + count + " days from " + dateOf(first) + ", holdout WAPE " + pct(h.wape) +
    ", MASE " + (h.mase == null ? "n/a" : h.mase.toFixed(2));
}

async function saveForecast() {
  status("Forecasting…");
  const f = await api("POST", wfm("/forecasts"), {
    queue: $("queue").value.trim(), interval_min: Number($("interval").value),
    zone: $("zone").value.trim() || "UTC", history_csv: $("history").value,
    method: $("method").value, horizon_days: Number($("horizon").value) },
    { "Idempotency-Key": idempotencyKey() });
  setForecast(f);
  status("Saved forecast " + f.forecast_id);
  await afterDayChange();
}

async function loadLatestForecast() {
  const q = encodeURIComponent($("queue").value.trim());
  const page = await api("GET", wfm("/forecasts?limit=1&queue=" + q));
  if (page.items.length === 0) return status("No saved forecast for this queue", true);
  setForecast(await api("GET", wfm("/forecasts/" + encodeURIComponent(page.items[0].forecast_id))));
  const sched = await api("GET", wfm("/schedules?limit=1&queue=" + q));
  S.schedule = sched.items.length
    ? await api("GET", wfm("/schedules/" + encodeURIComponent(sched.items[0].schedule_id))) : null;
  await loadTargets().catch(() => {});
  status("Loaded forecast " + S.forecast.forecast_id);
  await afterDayChange();
}

// Three weeks of hourly history ending yesterday (UTC): a daytime peak, quieter weekends.
function sampleHistory() {
  const end = dayNumber(todayUtc());
  const lines = ["start,count,aht_s"];
  for (let d = end - 21; d < end; d++) {
    const weekday = (d + 3) % 7;  // 0 = Monday (1970-01-01 was a Thursday)
    const scale = weekday >= 5 ? 0.5 : 1 + 0.05 * weekday;
    for (let h = 0; h < 24; h++) {
      const shape = h < 7 || h >= 21 ? 8 : 30 + 30 * Math.sin(Math.PI * (h - 7) / 14);
      const wiggle = ((d * 31 + h * 17) % 7) - 3;
      lines.push(dateOf(d) + "T" + String(h).padStart(2, "0") + ":00:00," +
        Math.max(0, Math.round(shape * scale + wiggle)) + "," + (200 + ((d + h) % 5) * 10));
    }
  }
  $("history").value = lines.join("\n") + "\n";
  $("interval").value = "60";
}

// ---- targets --------------------------------------------------------------------------------------
async function saveTargets() {
  const q = encodeURIComponent($("queue").value.trim());
  await api("PUT", wfm("/targets/" + q), targets());
  status("Saved targets for " + $("queue").value.trim());
}

async function loadTargets() {
  const q = encodeURIComponent($("queue").value.trim());
  const t = (await api("GET", wfm("/targets/" + q))).targets;
  if (t.service_level != null) $("t-sl").value = +(t.service_level * 100).toFixed(3);
  $("t-answer").value = t.target_answer_s;
  $("t-shrinkage").value = +(t.shrinkage * 100).toFixed(3);
  $("t-patience").value = t.patience_s == null ? "" : t.patience_s;
  scheduleRecompute();
}

// ---- schedule -------------------------------------------------------------------------------------
async function buildSchedule() {
  if (!S.staffing) return status("Forecast or load a forecast first", true);
  const interval = S.forecast.interval_min;
  const length = Math.round(Number($("shift-hours").value) * 60 / interval) * interval;
  const problem = {
    days: 1, interval_min: interval,
    requirements: [{ skill: "default", agents_per_interval: S.staffing.intervals.map((r) => r.scheduled_agents) }],
    templates: [{ id: "shift-" + length / 60 + "h", earliest_start_min: 0,
      latest_start_min: Math.min(1440 - interval, 1440 - length), start_step_min: interval,
      length_min: length, cost_per_shift: 0, cost_per_paid_hour: 1 }],
  };
  const n = Number($("agents").value);
  if (n > 0) problem.agents = Array.from({ length: n }, (_, i) => ({ id: "agent-" + String(i + 1).padStart(3, "0") }));
  status("Solving the schedule…");
  S.schedule = await api("POST", wfm("/schedules"), {
    queue: $("queue").value.trim(), start_date: $("day").value, problem, time_limit_s: 10 },
    { "Idempotency-Key": idempotencyKey() });
  const sv = S.schedule.schedule.solver;
  status("Saved schedule " + S.schedule.schedule_id + " (" + sv.status + ")");
  await afterDayChange();
}

// ---- intraday -------------------------------------------------------------------------------------
async function refreshIntraday() {
  const q = encodeURIComponent($("queue").value.trim());
  const zone = encodeURIComponent($("zone").value.trim() || "UTC");
  S.intraday = await api("GET", wfm("/intraday?queue=" + q + "&date=" + $("day").value + "&zone=" + zone));
  const t = S.intraday.totals, r = S.intraday.reforecast;
  $("intraday-info").textContent = " — today so far: " + t.offered + " offered, " + t.answered +
    " answered, service level " + (t.service_level == null ? "n/a" : (100 * t.service_level).toFixed(1) + "%") +
    "; re-forecast ×" + r.ratio.toFixed(2);
  render();
}

async function afterDayChange() {
  render();
  await Promise.all([refreshIntraday().catch(() => {}), recompute()]);
}

// ---- drawing --------------------------------------------------------------------------------------
const SVG = "http://www.w3.org/2000/svg";
function el(name, attrs, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (parent) parent.appendChild(e);
  return e;
}

// series: [{values, color, kind: "line" | "bars" | "step", dash}]; null values leave gaps.
function chart(container, n, labels, series) {
  const W = 960, H = 220, L = 40, B = 22, T = 8;
  const svg = el("svg", { viewBox: "0 0 " + W + " " + H, role: "img" });
  const max = Math.max(1, ...series.flatMap((s) => s.values.filter((v) => v != null)));
  const x = (i) => L + (W - L - 6) * i / n;
  const y = (v) => H - B - (H - B - T) * v / max;
  for (const f of [0, 0.5, 1]) {
    el("line", { x1: L, x2: W - 6, y1: y(max * f), y2: y(max * f), stroke: "#ddd" }, svg);
    el("text", { x: 4, y: y(max * f) + 4, "font-size": 11, fill: "#555" }, svg).textContent = (max * f).toFixed(max < 10 ? 1 : 0);
  }
  const every = Math.max(1, Math.round(n / 12));
  for (let i = 0; i < n; i += every) {
    el("text", { x: x(i) + 2, y: H - 6, "font-size": 11, fill: "#555" }, svg).textContent = labels[i];
  }
  for (const s of series) {
    if (s.kind === "bars") {
      s.values.forEach((v, i) => {
        if (v == null) return;
        el("rect", { x: x(i) + 1, y: y(v), width: Math.max(1, x(1) - x(0) - 2), height: y(0) - y(v), fill: s.color, opacity: 0.6 }, svg);
      });
      continue;
    }
    let d = "";
    s.values.forEach((v, i) => {
      if (v == null) return;
      const pen = d === "" || s.values[i - 1] == null ? "M" : "L";
      d += s.kind === "step" ? pen + x(i) + " " + y(v) + " L" + x(i + 1) + " " + y(v) + " "
                             : pen + (x(i) + x(i + 1)) / 2 + " " + y(v) + " ";
    });
    if (d) el("path", { d, fill: "none", stroke: s.color, "stroke-width": 2, "stroke-dasharray": s.dash || "none" }, svg);
  }
  container.replaceChildren(svg);
}

function render() {
  const day = dayIntervals();
  const n = day.length;
  const labels = day.map((x) => hhmm(x.minute));
  const intra = S.intraday && S.intraday.date === $("day").value && S.intraday.interval_min === (S.forecast || {}).interval_min
    ? S.intraday.intervals : null;
  const actual = day.map((_, i) => (intra && intra[i].phase !== "future" ? intra[i].offered : null));
  const reforecast = day.map((_, i) => (intra && intra[i].phase !== "complete" ? intra[i].reforecast_volume : null));
  chart($("chart-volume"), n, labels, [
    { values: actual, color: "#ff7f0e", kind: "bars" },
    { values: day.map((x) => x.volume), color: "#1f77b4", kind: "line" },
    { values: reforecast, color: "#9467bd", kind: "line", dash: "6 4" }]);
  const staff = S.staffing ? S.staffing.intervals : [];
  const scheduled = n ? scheduledForDay(n, S.forecast.interval_min) : null;
  chart($("chart-agents"), n, labels, [
    { values: staff.map((r) => r.scheduled_agents), color: "#d62728", kind: "step" },
    { values: scheduled || [], color: "#2ca02c", kind: "step" }]);
  renderTable(day, staff, scheduled, actual);
  renderRoster();
}

function cell(tr, text, col, cls) {
  const td = document.createElement("td");
  td.textContent = text == null ? "" : String(text);
  td.dataset.col = col;
  td.className = "num" + (cls ? " " + cls : "");
  tr.appendChild(td);
}

function renderTable(day, staff, scheduled, actual) {
  const body = $("intervals").querySelector("tbody");
  body.replaceChildren();
  const sims = S.simulation ? S.simulation.intervals : [];
  const pct = (v) => (v == null ? "" : (100 * v).toFixed(1) + "%");
  day.forEach((x, i) => {
    const tr = document.createElement("tr");
    tr.dataset.index = String(i);
    const r = staff[i] || {};
    const sch = scheduled ? scheduled[i] : null;
    const gap = sch != null && r.scheduled_agents != null ? sch - r.scheduled_agents : null;
    const sim = sims[i];
    cell(tr, hhmm(x.minute), "start");
    cell(tr, x.volume.toFixed(1), "forecast");
    cell(tr, actual[i], "actual");
    cell(tr, Math.round(x.aht_s), "aht");
    cell(tr, r.agents, "required");
    cell(tr, r.scheduled_agents, "required-scheduled");
    cell(tr, sch, "scheduled");
    cell(tr, gap, "gap", gap != null && gap < 0 ? "short" : "");
    cell(tr, r.binding_constraint, "binding");
    cell(tr, pct(r.service_level), "erlang-sl");
    cell(tr, sim ? pct(sim.service_level.mean) + (sim.service_level.half_width_95 == null ? "" : " ±" + (100 * sim.service_level.half_width_95).toFixed(1)) : "", "simulated-sl");
    body.appendChild(tr);
  });
}

function renderRoster() {
  const body = $("roster").querySelector("tbody");
  body.replaceChildren();
  if (!S.schedule) return;
  const s = S.schedule;
  $("schedule-info").textContent = "Schedule " + s.schedule_id + " for " + s.start_date + ": " +
    s.schedule.solver.status + ", cost " + Number(s.schedule.shift_cost).toFixed(1) +
    ", under " + Number(s.schedule.under_agent_intervals).toFixed(1) + " agent-intervals";
  for (const sh of s.schedule.shifts) {
    const tr = document.createElement("tr");
    for (const v of [sh.agent || "—", "day " + sh.day + " " + hhmm(sh.start_min % 1440), hhmm(sh.end_min % 1440), sh.count,
      sh.breaks.map((b) => b.name + " " + hhmm(b.start_min % 1440)).join(", ")]) {
      const td = document.createElement("td");
      td.textContent = String(v);
      tr.appendChild(td);
    }
    body.appendChild(tr);
  }
}

// ---- the page in the console ------------------------------------------------------------------
// Draws the page into the console's main element (the console has signed the user in).
export function mount({ root }) {
  Object.assign(S, { forecast: null, staffing: null, simulation: null, schedule: null,
    intraday: null, seq: 0 });
  root.innerHTML = markup;
  translate(root);
  if (!$("day").value) $("day").value = todayUtc();
  $("sample-history").addEventListener("click", sampleHistory);
  $("save-forecast").addEventListener("click", guard(saveForecast));
  $("load-forecast").addEventListener("click", guard(loadLatestForecast));
  $("save-targets").addEventListener("click", guard(saveTargets));
  $("load-targets").addEventListener("click", guard(loadTargets));
  $("build-schedule").addEventListener("click", guard(buildSchedule));
  $("refresh-intraday").addEventListener("click", guard(refreshIntraday));
  $("day").addEventListener("change", guard(afterDayChange));
  for (const id of ["t-sl", "t-answer", "t-shrinkage", "t-patience", "t-aht"]) {
    $(id).addEventListener("input", scheduleRecompute);
  }
}
