// The agent desktop: set my activity, take an offer (countdown, accept or reject), work the
// conversation with the customer's timeline, reply, complete and wrap up. Offers arrive live
// over the stream (my_reservations); the page also reads GET /routing/me at start.
import { $, api, el, input, tenantPath, wireLogin } from "./lib/api";
import { LiveStream, StreamMessage } from "./lib/stream";

interface Task {
  task_id: string;
  channel?: string;
  queue_id?: string;
  conversation_id?: string;
  customer_id?: string;
}
interface Reservation {
  reservation_id: string;
  task_id: string;
  status: string;
  expires_at?: string;
  task?: Task;
}

const state: { offer: Reservation | null; task: Task | null; timer: number } =
  { offer: null, task: null, timer: 0 };

function showError(e: unknown): void {
  $("desktop-error").textContent = (e as Error).message;
}

function showOffer(r: Reservation): void {
  state.offer = r;
  $("offer-channel").textContent = r.task?.channel || "task";
  $("offer-queue").textContent = r.task?.queue_id || "";
  $("offer").hidden = false;
  clearInterval(state.timer);
  const tick = () => {
    const left = r.expires_at ? Math.max(0, Math.round((Date.parse(r.expires_at) - Date.now()) / 1000)) : 0;
    $("offer-countdown").textContent = String(left);
    if (r.expires_at && left <= 0) hideOffer();
  };
  tick();
  state.timer = window.setInterval(tick, 1000);
  $("accept").focus();
}

function hideOffer(): void {
  clearInterval(state.timer);
  state.offer = null;
  $("offer").hidden = true;
}

async function loadConversation(task: Task): Promise<void> {
  const messages = $("messages");
  const timeline = $("timeline");
  messages.replaceChildren();
  timeline.replaceChildren();
  if (task.conversation_id) {
    const page = await api("GET", tenantPath("/conversations/" +
      encodeURIComponent(task.conversation_id) + "/messages")).catch(() => ({ items: [] }));
    for (const m of page.items || []) {
      messages.appendChild(el("li", (m.direction || m.sender_kind || "") + ": " + (m.text ?? "")));
    }
  }
  if (task.customer_id) {
    const page = await api("GET", tenantPath("/customers/" +
      encodeURIComponent(task.customer_id) + "/timeline")).catch(() => ({ items: [] }));
    for (const item of page.items || []) {
      timeline.appendChild(el("li", [item.at || item.occurred_at || "", item.type || "",
        item.channel || "", item.summary || item.text || ""].filter(Boolean).join(" · ")));
    }
  }
}

function showWork(task: Task, status: string): void {
  state.task = task;
  $("work-task").textContent = task.task_id;
  $("work-status").textContent = status;
  $("work").hidden = false;
  (($("complete")) as HTMLButtonElement).disabled = status !== "assigned";
  (($("wrap-up")) as HTMLButtonElement).disabled = status !== "wrapping";
  loadConversation(task).catch(showError);
}

function onMessage(m: StreamMessage): void {
  if (m.type !== "reservation") return;
  const r = m as unknown as Reservation;
  if (r.status === "pending") return showOffer(r);
  if (state.offer && state.offer.reservation_id === r.reservation_id) hideOffer();
  if (r.status === "accepted" && r.task && (!state.task || state.task.task_id !== r.task_id)) {
    showWork(r.task, "assigned");
  }
}

async function respond(action: "accept" | "reject"): Promise<void> {
  const offer = state.offer;
  if (!offer) return;
  await api("POST", tenantPath("/routing/reservations/" + encodeURIComponent(offer.reservation_id) +
    "/" + action));
  hideOffer();
  if (action === "accept") showWork(offer.task || { task_id: offer.task_id }, "assigned");
}

async function loadMe(): Promise<void> {
  const me = await api("GET", tenantPath("/routing/me")).catch(() => null);
  if (!me) return;
  const activity = me.activity || me.worker?.activity;
  if (activity) $("current-activity").textContent = activity;
  for (const r of (me.reservations || []) as Reservation[]) {
    if (r.status === "pending") showOffer(r);
  }
  const task = (me.tasks || [])[0];
  if (task) showWork(task, task.status === "wrapping" ? "wrapping" : "assigned");
}

wireLogin(async () => {
  $("desktop-view").hidden = false;
  new LiveStream(["my_reservations"], onMessage,
    (s) => { $("stream-status").textContent = "stream: " + s; }).open();
  await loadMe();
});

$("activity-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("desktop-error").textContent = "";
  try {
    const activity = (input("activity") as unknown as HTMLSelectElement).value;
    await api("POST", tenantPath("/routing/workers/me/activity"), { activity });
    $("current-activity").textContent = activity;
  } catch (e) {
    showError(e);
  }
});
$("accept").addEventListener("click", () => respond("accept").catch(showError));
$("reject").addEventListener("click", () => respond("reject").catch(showError));
$("reply-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const task = state.task;
  const text = (input("reply-text") as unknown as HTMLTextAreaElement).value.trim();
  if (!task?.conversation_id || !text) return;
  try {
    await api("POST", tenantPath("/conversations/" + encodeURIComponent(task.conversation_id) +
      "/messages"), { text });
    (input("reply-text") as unknown as HTMLTextAreaElement).value = "";
    await loadConversation(task);
  } catch (e) {
    showError(e);
  }
});
$("complete").addEventListener("click", async () => {
  if (!state.task) return;
  try {
    await api("POST", tenantPath("/routing/tasks/" + encodeURIComponent(state.task.task_id) +
      "/complete"));
    showWork(state.task, "wrapping");
    $("wrap-up").focus();
  } catch (e) {
    showError(e);
  }
});
$("wrap-up").addEventListener("click", async () => {
  if (!state.task) return;
  try {
    await api("POST", tenantPath("/routing/tasks/" + encodeURIComponent(state.task.task_id) +
      "/wrap-up"));
    state.task = null;
    $("work").hidden = true;
    $("current-activity").focus();
  } catch (e) {
    showError(e);
  }
});
