// The agent desktop (/desktop in the console): set my activity, take an offer (countdown, accept or reject), work the
// conversation with the customer's timeline, reply, complete and wrap up. Offers arrive live
// over the stream (my_reservations); once subscribed (also after a reconnect) the page reads
// GET /routing/me for my activity, offers still pending and tasks in hand. Task statuses are
// routing.json's RoutingTask.status ("assigned", "wrap_up"); activities are RoutingWorker's.
import { $, api, ApiError, el, input, tenantPath } from "./lib/api";
import { t, translate } from "./lib/i18n";
import { LiveStream, StreamMessage } from "./lib/stream";
import markup from "./markup/desktop.html?raw";

// A handoff from automation (issue #12): the task's attributes name the session; its packet
// (GET /automation/sessions/{id}) is shown first, above the offer and the work, and the agent
// marks it useful or names what was missing.
interface HandoffPacket {
  session_id: string;
  intent: string | null;
  boundary: string | null;
  outcome: string | null;
  reason: string | null;
  authentication: { status: string | null; method: string | null };
  slots: Record<string, string>;
  steps: { name: string; result: string }[];
  transcript: { speaker: string; text: string }[];
  review: { useful: boolean } | null;
}

interface Task {
  task_id: string;
  status?: string;
  channel?: string;
  queue_id?: string;
  conversation_id?: string;
  customer_id?: string;
  attributes?: Record<string, unknown>;
}
interface Reservation {
  reservation_id: string;
  task_id: string;
  status: string;
  expires_at?: string;
  task?: Task;
}

// seq counts reservation messages, so a slower GET /routing/me does not undo a newer one.
// rendered: what the conversation last drew (renderMessages); poll: its refresh timer.
const state: { offer: Reservation | null; task: Task | null; timer: number; seq: number;
  handoff: string; rendered: string; poll: number } = { offer: null, task: null, timer: 0, seq: 0,
  handoff: "", rendered: "", poll: 0 };

// Delivery statuses change after the reply (the provider's receipts, the outbox's dead letters):
// the conversation in hand is read again this often.
const kMessagesRefreshMs = 3000;

function showError(e: unknown): void {
  $("desktop-error").textContent = (e as Error).message;
}

// A message's text as the API presents it: a string (masked for this role, "[erased]"), or
// another JSON value shown as JSON.
function textOf(value: unknown): string {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function handoffSession(task: Task | undefined | null): string {
  const a = task?.attributes;
  return a && a.type === "automation_handoff" && typeof a.session_id === "string" ? a.session_id : "";
}

function renderHandoff(p: HandoffPacket): void {
  $("handoff-intent").textContent = p.intent || "unknown";
  $("handoff-boundary").textContent = p.boundary || "";
  $("handoff-auth").textContent = [p.authentication.status, p.authentication.method]
    .filter(Boolean).join(" · ") || "none";
  $("handoff-outcome").textContent = [p.outcome, p.reason].filter(Boolean).join(": ");
  $("handoff-steps").replaceChildren(...p.steps.map((s) => el("li", s.name + ": " + s.result)));
  $("handoff-slots").replaceChildren(...Object.entries(p.slots).map(([k, v]) => el("li", k + ": " + v)));
  $("handoff-transcript").replaceChildren(...p.transcript.map((u) => el("li", u.speaker + ": " + u.text)));
  $("handoff-review-status").textContent = p.review ? (p.review.useful ? "Reviewed: useful" :
    "Reviewed: not useful") : "";
  for (const id of ["handoff-useful", "handoff-not-useful"]) {
    ($(id) as HTMLButtonElement).disabled = p.review !== null;
  }
  $("handoff").hidden = false;
}

// Shows the packet of the task's handoff first, or hides the panel for other tasks.
async function showHandoff(task: Task | undefined | null): Promise<void> {
  const session = handoffSession(task);
  if (!session) {
    state.handoff = "";
    $("handoff").hidden = true;
    return;
  }
  if (state.handoff === session && !$("handoff").hidden) return;
  state.handoff = session;
  const packet = await api("GET", tenantPath("/automation/sessions/" + encodeURIComponent(session)));
  if (state.handoff === session) renderHandoff(packet as HandoffPacket);
}

async function reviewHandoff(useful: boolean): Promise<void> {
  const session = state.handoff;
  if (!session) return;
  const missing = (input("handoff-missing") as HTMLInputElement).value.split(",")
    .map((x) => x.trim()).filter(Boolean);
  await api("POST", tenantPath("/automation/sessions/" + encodeURIComponent(session) + "/review"),
    useful ? { useful } : { useful, missing });
  state.handoff = "";
  await showHandoff(state.task || state.offer?.task);
}

function setActivity(activity: string): void {
  $("current-activity").textContent = activity.replace("_", "-");
}

function showOffer(r: Reservation): void {
  state.offer = r;
  $("offer-channel").textContent = r.task?.channel || "task";
  $("offer-queue").textContent = r.task?.queue_id || "";
  $("offer").hidden = false;
  showHandoff(r.task).catch(showError);
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

// keepHandoff: the offer was accepted, so its handoff packet stays up while the work panel
// takes over (the stream's "accepted" and the POST's answer arrive in either order).
function hideOffer(keepHandoff = false): void {
  clearInterval(state.timer);
  state.offer = null;
  $("offer").hidden = true;
  if (!state.task && !keepHandoff) showHandoff(null).catch(showError);
}

// A message of GET /conversations/{id}/messages (intake.json IntakeMessagePage).
interface Message {
  message_id: string;
  direction?: string;
  text?: unknown;
  status?: string;
  status_reason?: unknown;
  dead_letter?: boolean;
  retryable?: boolean;
}

// Statuses a provider reports (issue #14); "recorded" (nobody delivers it) and "received" show
// nothing.
const kDeliveryStatuses = ["queued", "sent", "delivered", "read", "failed"];

function messageItem(m: Message): HTMLElement {
  const who = m.direction === "outbound" ? "agent" : m.direction === "inbound" ? "customer" :
    m.direction || "";
  const li = document.createElement("li");
  li.appendChild(el("span", who + ": " + textOf(m.text), "msg"));
  if (m.direction) li.dataset.direction = m.direction;
  li.dataset.message = m.message_id;
  const status = m.status || "";
  if (m.direction === "outbound" && kDeliveryStatuses.includes(status)) {
    li.dataset.status = status;
    const reason = textOf(m.status_reason);
    li.appendChild(el("span", " · " + t("delivery." + status) + (reason ? ": " + reason : ""),
      "delivery " + status));
    if (m.retryable) {
      const button = el("button", t("delivery.retry"), "retry") as HTMLButtonElement;
      button.type = "button";
      button.dataset.message = m.message_id;
      button.setAttribute("aria-label", t("delivery.retry") + ": " + textOf(m.text));
      li.appendChild(button);
    }
  }
  return li;
}

// Draws the conversation's messages and the failed-delivery alert; skipped when nothing changed,
// so a refresh never takes the focus from a Retry button.
function renderMessages(items: Message[]): void {
  const signature = JSON.stringify(items.map((m) => [m.message_id, m.status, m.status_reason,
    m.retryable, m.text]));
  if (signature === state.rendered) return;
  state.rendered = signature;
  $("messages").replaceChildren(...items.map(messageItem));
  const failed = items.filter((m) => m.direction === "outbound" && m.status === "failed");
  const alert = $("delivery-alert");
  alert.hidden = failed.length === 0;
  alert.textContent = failed.length === 0 ? "" : t("delivery.failed_alert", {
    count: failed.length, reason: textOf(failed[failed.length - 1].status_reason) || "–" });
}

async function refreshMessages(task: Task): Promise<void> {
  if (!task.conversation_id) return;
  const page = await api("GET", tenantPath("/conversations/" +
    encodeURIComponent(task.conversation_id) + "/messages")).catch(() => ({ items: [] }));
  if (state.task?.task_id === task.task_id) renderMessages((page.items || []) as Message[]);
}

async function retryMessage(messageId: string): Promise<void> {
  const task = state.task;
  if (!task?.conversation_id) return;
  $("desktop-error").textContent = "";
  await api("POST", tenantPath("/conversations/" + encodeURIComponent(task.conversation_id) +
    "/messages/" + encodeURIComponent(messageId) + "/retry"));
  await refreshMessages(task);
  $("reply-text").focus();
}

async function loadConversation(task: Task): Promise<void> {
  const messages = $("messages");
  const timeline = $("timeline");
  messages.replaceChildren();
  timeline.replaceChildren();
  state.rendered = "";
  await refreshMessages(task);
  if (task.customer_id) {
    const page = await api("GET", tenantPath("/customers/" +
      encodeURIComponent(task.customer_id) + "/timeline")).catch(() => ({ items: [] }));
    for (const item of page.items || []) {
      timeline.appendChild(el("li", [item.sent_at || "", item.channel || "", item.direction || "",
        textOf(item.text)].filter(Boolean).join(" · ")));
    }
  }
}

function showWork(task: Task, status: string): void {
  state.task = task;
  $("work-task").textContent = task.task_id;
  $("work-status").textContent = status.replace("_", "-");
  $("work").hidden = false;
  (($("complete")) as HTMLButtonElement).disabled = status !== "assigned";
  (($("wrap-up")) as HTMLButtonElement).disabled = status !== "wrap_up";
  showHandoff(task).catch(showError);
  loadConversation(task).catch(showError);
}

function hideWork(): void {
  state.task = null;
  $("work").hidden = true;
  if (!state.offer) showHandoff(null).catch(showError);
}

function onMessage(m: StreamMessage): void {
  if (m.type !== "reservation") return;
  const r = m as unknown as Reservation;
  state.seq++;
  if (r.status === "pending") return showOffer(r);
  const accepted = r.status === "accepted";
  if (accepted && r.task && (!state.task || state.task.task_id !== r.task_id)) {
    showWork(r.task, "assigned");
  }
  if (state.offer && state.offer.reservation_id === r.reservation_id) hideOffer(accepted);
}

async function respond(action: "accept" | "reject"): Promise<void> {
  const offer = state.offer;
  if (!offer) return;
  await api("POST", tenantPath("/routing/reservations/" + encodeURIComponent(offer.reservation_id) +
    "/" + action));
  const accepted = action === "accept";
  if (accepted && state.task?.task_id !== offer.task_id) {
    showWork(offer.task || { task_id: offer.task_id }, "assigned");
  }
  hideOffer(accepted);
}

// GET /routing/me: {worker, activity, reservations (pending, each with its task), tasks
// (assigned or in wrap-up)}. 404 when the user is not a routing worker yet.
async function loadMe(): Promise<void> {
  const seq = state.seq;
  let me;
  try {
    me = await api("GET", tenantPath("/routing/me"));
  } catch (e) {
    if ((e as ApiError).status === 404) setActivity("not a routing worker");
    else showError(e);
    return;
  }
  const activity = me.activity || me.worker?.activity;
  if (activity) setActivity(activity);
  if (seq !== state.seq) return;
  const pending = ((me.reservations || []) as Reservation[]).find((r) => r.status === "pending");
  if (pending && state.offer?.reservation_id !== pending.reservation_id) showOffer(pending);
  if (!pending && state.offer) hideOffer();
  const task = (me.tasks || [])[0] as Task | undefined;
  if (!task) return hideWork();
  const status = task.status === "wrap_up" ? "wrap_up" : "assigned";
  if (state.task?.task_id !== task.task_id || $("work-status").textContent !== status.replace("_", "-")) {
    showWork(task, status);
  }
}

// Draws the page into the console's main element; the returned function closes its stream.
export function mount({ root }: { root: HTMLElement }): () => void {
  clearInterval(state.timer);
  clearInterval(state.poll);
  Object.assign(state, { offer: null, task: null, timer: 0, seq: 0, handoff: "", rendered: "",
    poll: 0 });
  root.innerHTML = markup;
  translate(root);
  wire();
  const stream = new LiveStream(["my_reservations"], (m) => {
    if (m.type === "subscribed") loadMe().catch(showError);
    else onMessage(m);
  }, (s) => {
    const status = document.getElementById("stream-status");
    if (status) status.textContent = "stream: " + s;
  });
  stream.open();
  state.poll = window.setInterval(() => {
    if (state.task) refreshMessages(state.task).catch(showError);
  }, kMessagesRefreshMs);
  return () => {
    stream.close();
    clearInterval(state.timer);
    clearInterval(state.poll);
  };
}

function wire(): void {
  $("activity-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("desktop-error").textContent = "";
    try {
      const activity = (input("activity") as unknown as HTMLSelectElement).value;
      const r = await api("POST", tenantPath("/routing/workers/me/activity"), { activity });
      setActivity(r.activity || activity);
    } catch (e) {
      showError(e);
    }
  });
  // A failed answer (the offer timed out or went elsewhere meanwhile): say why and resync.
  function answer(action: "accept" | "reject"): void {
    respond(action).catch((e) => {
      showError(e);
      return loadMe();
    }).catch(showError);
  }
  $("handoff-useful").addEventListener("click", () => { reviewHandoff(true).catch(showError); });
  $("handoff-review").addEventListener("submit", (ev) => {
    ev.preventDefault();
    reviewHandoff(false).catch(showError);
  });
  $("messages").addEventListener("click", (ev) => {
    const button = (ev.target as HTMLElement).closest("button.retry") as HTMLButtonElement | null;
    if (!button?.dataset.message) return;
    button.disabled = true;
    retryMessage(button.dataset.message).catch((e) => {
      button.disabled = false;
      showError(e);
    });
  });
  $("accept").addEventListener("click", () => answer("accept"));
  $("reject").addEventListener("click", () => answer("reject"));
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
      showWork(state.task, "wrap_up");
      setActivity("wrap_up");
      $("wrap-up").focus();
    } catch (e) {
      showError(e);
      await loadMe();
    }
  });
  $("wrap-up").addEventListener("click", async () => {
    if (!state.task) return;
    try {
      await api("POST", tenantPath("/routing/tasks/" + encodeURIComponent(state.task.task_id) +
        "/wrap-up"));
      hideWork();
      $("desktop-error").textContent = "";
      $("activity").focus();
      await loadMe();
    } catch (e) {
      // The wrap-up may have ended on its own (the queue's wrap_up_s): show what the server says.
      showError(e);
      await loadMe();
    }
  });
}
