// The console's design system: small DOM helpers every page uses. Elements are built with h()
// (text only, never HTML from data); one style sheet (public/app.css) gives the tokens, the light
// and dark themes and the visible focus. Components: table (sorting, paging), form fields that
// show a server problem's field error beside the field, dialogs, toasts, SLA badges, empty and
// loading states.
import { ApiError } from "./api";
import { formatPercent, t } from "./i18n";

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | ((ev: any) => void)>;

export function h(tag: string, attrs: Attrs = {}, ...children: Child[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === "function") e.addEventListener(k.replace(/^on/, ""), v);
    else if (k === "class") e.className = String(v);
    else if (k === "text") e.textContent = String(v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    e.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
  }
  return e;
}

let idCounter = 0;
export function uid(prefix: string): string {
  return prefix + "-" + ++idCounter;
}

export function loading(): HTMLElement {
  return h("p", { class: "loading", role: "status" }, t("common.loading"));
}

export function empty(text = t("common.empty")): HTMLElement {
  return h("p", { class: "empty" }, text);
}

export function errorText(e: unknown): HTMLElement {
  return h("p", { class: "error", role: "alert" }, t("common.error", { message: (e as Error).message }));
}

// A section with a heading; `body` replaces its content as data arrives.
export function card(title: string, ...children: Child[]): HTMLElement {
  const id = uid("card");
  return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

// SLA state of a queue: breached below the target, at risk when the longest wait has used half
// the threshold or the level is within 5 points of the target.
export type SlaState = "ok" | "risk" | "breach";
export function slaState(serviceLevel: number | null | undefined, target: number,
                         longestWaitS: number, thresholdS: number): SlaState {
  if (serviceLevel !== null && serviceLevel !== undefined && serviceLevel < target) return "breach";
  if (longestWaitS >= thresholdS / 2) return "risk";
  if (serviceLevel !== null && serviceLevel !== undefined && serviceLevel < target + 0.05) return "risk";
  return "ok";
}

export function badge(state: SlaState): HTMLElement {
  return h("span", { class: "badge badge-" + state, "data-sla": state }, t("sla." + state));
}

export function percent(v: number | null | undefined): string {
  return formatPercent(v);
}

// ---- table ------------------------------------------------------------------------------------
export interface Column<T> {
  key: string;
  label: string;
  value: (row: T) => string | number;  // sorting key and default cell text
  cell?: (row: T) => Node | string;
  className?: string;
}

export interface TableOptions<T> {
  caption: string;
  pageSize?: number;
  rowKey?: (row: T) => string;
  rowAttr?: string;  // data-* attribute name for rowKey
  onOpen?: (row: T) => void;  // Enter or click on the row's first cell link
}

// A sortable, paged table. Sorting: the column header buttons (aria-sort); paging: Previous/Next.
export function table<T>(rows: T[], columns: Column<T>[], options: TableOptions<T>): HTMLElement {
  const pageSize = options.pageSize ?? 25;
  let sortKey = "";
  let ascending = true;
  let page = 0;
  const wrap = h("div", { class: "table-wrap" });
  const render = () => {
    const sorted = [...rows];
    const column = columns.find((c) => c.key === sortKey);
    if (column) {
      sorted.sort((a, b) => {
        const x = column.value(a), y = column.value(b);
        const r = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
        return ascending ? r : -r;
      });
    }
    const pages = Math.max(1, Math.ceil(sorted.length / pageSize));
    page = Math.min(page, pages - 1);
    const head = h("tr", {}, ...columns.map((c) => {
      const sort = c.key === sortKey ? (ascending ? "ascending" : "descending") : "none";
      return h("th", { scope: "col", "aria-sort": sort, class: c.className },
        h("button", { type: "button", class: "sort", "aria-label": t("common.sort", { column: c.label }),
          onclick: () => {
            ascending = sortKey === c.key ? !ascending : true;
            sortKey = c.key;
            render();
          } }, c.label, sort === "none" ? "" : sort === "ascending" ? " ▲" : " ▼"));
    }));
    const body = h("tbody");
    for (const row of sorted.slice(page * pageSize, (page + 1) * pageSize)) {
      const tr = h("tr");
      if (options.rowKey) tr.setAttribute("data-" + (options.rowAttr || "key"), options.rowKey(row));
      columns.forEach((c) => {
        const content = c.cell ? c.cell(row) : String(c.value(row));
        tr.appendChild(h("td", { class: c.className, "data-col": c.key }, content));
      });
      body.appendChild(tr);
    }
    const children: Node[] = [h("table", {}, h("caption", { class: "sr-only" }, options.caption),
      h("thead", {}, head), body)];
    if (rows.length === 0) children.push(empty());
    if (pages > 1) {
      children.push(h("nav", { class: "pager", "aria-label": options.caption },
        h("button", { type: "button", disabled: page === 0, onclick: () => { page--; render(); } },
          t("common.previous")),
        h("span", {}, t("common.page", { page: page + 1, pages })),
        h("button", { type: "button", disabled: page >= pages - 1,
          onclick: () => { page++; render(); } }, t("common.next"))));
    }
    wrap.replaceChildren(...children);
  };
  render();
  return wrap;
}

// ---- forms ------------------------------------------------------------------------------------
// A labelled field; its error element (id "<name>-error") shows the server's problem for it.
export function field(label: string, name: string, control?: HTMLElement, hint?: string): HTMLElement {
  const id = uid("f-" + name.replace(/[^a-z0-9_-]/gi, "_"));
  const input = control || h("input", { name });
  input.id = id;
  input.setAttribute("name", name);
  const errorId = id + "-error";
  input.setAttribute("aria-describedby", errorId);
  return h("div", { class: "field", "data-field": name },
    h("label", { for: id }, label),
    input,
    hint ? h("small", { class: "hint" }, hint) : null,
    h("p", { class: "field-error", id: errorId, "aria-live": "polite" }));
}

export function select(name: string, options: [string, string][], value = ""): HTMLSelectElement {
  const s = h("select", { name }) as HTMLSelectElement;
  for (const [v, label] of options) s.appendChild(h("option", { value: v }, label));
  s.value = value || (options[0]?.[0] ?? "");
  return s;
}

export function formValues(form: HTMLFormElement): Record<string, string> {
  const out: Record<string, string> = {};
  new FormData(form).forEach((v, k) => { out[k] = String(v); });
  return out;
}

export function clearErrors(form: HTMLElement): void {
  form.querySelectorAll(".field-error").forEach((e) => { e.textContent = ""; });
  form.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
  const general = form.querySelector(".form-error");
  if (general) general.textContent = "";
}

// Shows an ApiError beside the field it names (the problem's "field"; "roles[1]" matches
// "roles"), or in the form's general error line.
export function showError(form: HTMLElement, e: unknown): void {
  const err = e as ApiError;
  const name = (err.field || "").replace(/\[.*$/, "").replace(/\..*$/, "");
  const box = name ? form.querySelector<HTMLElement>(`.field[data-field="${CSS.escape(name)}"]`) : null;
  if (box) {
    box.querySelector(".field-error")!.textContent = err.message;
    box.querySelector("input,select,textarea")?.setAttribute("aria-invalid", "true");
    return;
  }
  let general = form.querySelector(".form-error");
  if (!general) {
    general = h("p", { class: "form-error", role: "alert" });
    form.appendChild(general);
  }
  general.textContent = err.message;
}

// A form that submits through `onSubmit`; its errors appear beside the fields.
export function form(label: string, fields: HTMLElement[], submitLabel: string,
                     onSubmit: (values: Record<string, string>, form: HTMLFormElement) => Promise<void>): HTMLFormElement {
  const f = h("form", { class: "form", "aria-label": label }) as HTMLFormElement;
  f.append(...fields, h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, submitLabel)),
    h("p", { class: "form-error", role: "alert" }));
  f.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(f);
    const button = f.querySelector<HTMLButtonElement>("button[type=submit]")!;
    button.disabled = true;
    try {
      await onSubmit(formValues(f), f);
    } catch (e) {
      showError(f, e);
    } finally {
      button.disabled = false;
    }
  });
  return f;
}

// ---- dialogs and toasts -----------------------------------------------------------------------
export function dialog(title: string, ...children: Child[]): HTMLDialogElement {
  const id = uid("dialog");
  const d = h("dialog", { "aria-labelledby": id, class: "dialog" }) as HTMLDialogElement;
  const close = h("button", { type: "button", class: "primary", onclick: () => d.close() }, t("common.close"));
  d.append(h("h2", { id }, title), ...children.filter(Boolean).map((c) =>
    typeof c === "object" ? c as Node : document.createTextNode(String(c))), h("div", { class: "actions" }, close));
  d.addEventListener("close", () => d.remove());
  document.body.appendChild(d);
  d.showModal();
  close.focus();
  return d;
}

export function toast(text: string, kind: "ok" | "error" = "ok"): void {
  let region = document.getElementById("toasts");
  if (!region) {
    region = h("div", { id: "toasts", class: "toasts", role: "status", "aria-live": "polite" });
    document.body.appendChild(region);
  }
  const item = h("p", { class: "toast toast-" + kind }, text);
  region.appendChild(item);
  window.setTimeout(() => item.remove(), 6000);
}

export function link(href: string, text: string): HTMLElement {
  return h("a", { href, "data-nav": "" }, text);
}
