// The console shell: one sign-in, the navigation by permission (collapsible), the router over
// history.pushState (deep links; the server answers every console path with this page), the
// "no access" and "not found" views, the theme and the language. Pages live in pages.ts.
import {
  clearSession, login, logout, restore, session, setUnauthenticatedHandler, watchOtherTabs,
} from "../lib/api";
import { currentLanguage, kLanguages, setLanguage, setTimeZone, t } from "../lib/i18n";
import { h } from "../lib/ui";
import { Cleanup, kAliases, kPages, pageAllowed } from "./pages";

const app = document.getElementById("app")!;
let cleanup: Cleanup = undefined;
let renderSeq = 0;

// ---- theme ------------------------------------------------------------------------------------
const kThemeKey = "opsbox.theme";
function applyTheme(): void {
  const stored = localStorage.getItem(kThemeKey);
  const dark = stored ? stored === "dark" : matchMedia("(prefers-color-scheme: dark)").matches;
  document.documentElement.dataset.theme = dark ? "dark" : "light";
}

// ---- routing ----------------------------------------------------------------------------------
function segments(): string[] {
  return location.pathname.split("/").filter(Boolean).map(decodeURIComponent);
}

export function navigate(path: string, replace = false): void {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  render().catch(console.error);
}

function signInPath(): string {
  const here = location.pathname + location.search;
  const next = here === "/" || here.startsWith("/sign-in") ? "" : "?next=" + encodeURIComponent(here);
  return "/sign-in" + next;
}

function nextPath(): string {
  const next = new URLSearchParams(location.search).get("next") || "/home";
  // Only paths of this console: never another origin.
  return next.startsWith("/") && !next.startsWith("//") ? next : "/home";
}

// ---- sign-in ----------------------------------------------------------------------------------
function renderSignIn(expired: boolean): void {
  document.title = t("signin.title") + " · opsbox";
  const lastTenant = localStorage.getItem("opsbox.last_tenant") || "demo";
  const formEl = h("form", { id: "login-form", class: "form signin" },
    h("h1", {}, t("app.name")),
    h("h2", {}, t("signin.title")),
    expired ? h("p", { class: "notice", role: "status" }, t("signin.expired")) : null,
    h("div", { class: "field" }, h("label", { for: "tenant" }, t("signin.tenant")),
      h("input", { id: "tenant", name: "tenant", autocomplete: "organization", required: true, value: lastTenant })),
    h("div", { class: "field" }, h("label", { for: "username" }, t("signin.username")),
      h("input", { id: "username", name: "username", autocomplete: "username", required: true })),
    h("div", { class: "field" }, h("label", { for: "password" }, t("signin.password")),
      h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true })),
    h("div", { class: "actions" }, h("button", { type: "submit", id: "login-button", class: "primary" }, t("signin.submit"))),
    h("p", { id: "login-error", class: "form-error", role: "alert" }),
    languagePicker());
  formEl.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const value = (id: string) => (document.getElementById(id) as HTMLInputElement).value;
    document.getElementById("login-error")!.textContent = "";
    try {
      await login(value("tenant").trim(), value("username").trim(), value("password"));
      localStorage.setItem("opsbox.last_tenant", session.tenant);
      navigate(nextPath(), true);
    } catch (e) {
      document.getElementById("login-error")!.textContent = (e as Error).message;
    }
  });
  app.replaceChildren(h("main", { id: "main", class: "signin-page" }, formEl));
  (document.getElementById(lastTenant ? "username" : "tenant") as HTMLInputElement).focus();
}

function languagePicker(): HTMLElement {
  const s = h("select", { id: "language", onchange: (ev: Event) => {
    setLanguage((ev.target as HTMLSelectElement).value);
    render().catch(console.error);
  } }) as HTMLSelectElement;
  for (const [code, l] of Object.entries(kLanguages)) {
    s.appendChild(h("option", { value: code, lang: code }, l.name));
  }
  s.value = currentLanguage();
  return h("div", { class: "inline-field" }, h("label", { for: "language" }, t("shell.language")), s);
}

// ---- the shell --------------------------------------------------------------------------------
function renderShell(active: string): HTMLElement {
  const collapsed = localStorage.getItem("opsbox.nav") === "collapsed";
  const list = h("ul");
  for (const page of kPages) {
    if (!pageAllowed(page)) continue;
    const label = t(page.label);
    if (!page.mount) {
      list.appendChild(h("li", { class: "coming" }, h("span", { class: "icon", "aria-hidden": "true" }, page.icon),
        h("span", { class: "label" }, label + " (" + t("shell.coming") + ")")));
      continue;
    }
    list.appendChild(h("li", {}, h("a", { href: "/" + page.id, "data-nav": "", title: label,
      "aria-current": page.id === active ? "page" : undefined },
      h("span", { class: "icon", "aria-hidden": "true" }, page.icon), h("span", { class: "label" }, label))));
  }
  const nav = h("nav", { id: "nav", class: "nav", "aria-label": t("shell.nav") }, list);
  const toggle = h("button", { type: "button", id: "nav-toggle", class: "icon-button",
    "aria-controls": "nav", "aria-expanded": String(!collapsed), "aria-label": t("shell.collapse"),
    onclick: () => {
      const now = document.body.classList.toggle("nav-collapsed");
      localStorage.setItem("opsbox.nav", now ? "collapsed" : "open");
      toggle.setAttribute("aria-expanded", String(!now));
    } }, "☰");
  document.body.classList.toggle("nav-collapsed", collapsed);
  const dark = document.documentElement.dataset.theme === "dark";
  const theme = h("button", { type: "button", id: "theme", "aria-pressed": String(dark),
    onclick: () => {
      localStorage.setItem(kThemeKey, document.documentElement.dataset.theme === "dark" ? "light" : "dark");
      applyTheme();
      theme.setAttribute("aria-pressed", String(document.documentElement.dataset.theme === "dark"));
    } }, t("shell.theme"));
  const header = h("header", { class: "topbar" }, toggle,
    h("a", { href: "/home", "data-nav": "", class: "brand" }, t("app.name")),
    h("span", { id: "who", class: "who" }, t("shell.signed_in_as", { name: session.username, tenant: session.tenant })),
    h("div", { class: "topbar-tools" }, languagePicker(), theme,
      h("button", { type: "button", id: "logout", onclick: async () => {
        await logout();
        navigate("/sign-in", true);
      } }, t("shell.logout"))));
  const main = h("main", { id: "main", tabindex: "-1" });
  app.replaceChildren(h("a", { href: "#main", class: "skip" }, t("app.skip")), header,
    h("div", { class: "layout" }, nav, main));
  return main;
}

function message(root: HTMLElement, title: string, body: string, id: string): void {
  root.replaceChildren(h("section", { class: "message", id }, h("h1", {}, title), h("p", {}, body)));
  document.title = title + " · opsbox";
}

async function render(): Promise<void> {
  const seq = ++renderSeq;
  if (typeof cleanup === "function") cleanup();
  cleanup = undefined;
  document.documentElement.lang = currentLanguage();
  setTimeZone(session.timeZone);
  const parts = segments();
  if (parts[0] === "sign-in") {
    if (session.tenant) return navigate(nextPath(), true);
    return renderSignIn(new URLSearchParams(location.search).has("expired"));
  }
  if (!session.tenant) {
    history.replaceState(null, "", signInPath());
    return renderSignIn(false);
  }
  const id = kAliases[parts[0] ?? ""] ?? parts[0];
  const page = kPages.find((p) => p.id === id && p.mount);
  const root = renderShell(page ? page.id : "");
  if (!page) return message(root, t("notfound.title"), t("notfound.body"), "not-found");
  if (!pageAllowed(page)) return message(root, t("noaccess.title"), t("noaccess.body"), "no-access");
  document.title = t(page.label) + " · opsbox";
  root.setAttribute("data-page", page.id);
  const result = await page.mount!({ root, params: parts.slice(1), navigate });
  if (seq !== renderSeq) {
    if (typeof result === "function") result();
    return;
  }
  cleanup = result;
}

// Links inside the console navigate without reloading.
document.addEventListener("click", (ev) => {
  const a = (ev.target as HTMLElement).closest?.("a[data-nav]") as HTMLAnchorElement | null;
  if (!a || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey) return;
  ev.preventDefault();
  navigate(a.getAttribute("href")!);
});
window.addEventListener("popstate", () => render().catch(console.error));

// An expired or revoked session (a 401 anywhere): back to sign-in, then back here.
setUnauthenticatedHandler(() => {
  if (!session.tenant) return;
  const back = signInPath();
  clearSession();
  navigate(back + (back.includes("?") ? "&" : "?") + "expired=1", true);
});
// A logout in another tab logs this one out too.
watchOtherTabs(() => {
  restore().then(() => render()).catch(console.error);
});

applyTheme();
restore().then(() => render()).catch(console.error);
