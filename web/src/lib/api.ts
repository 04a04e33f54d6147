// Every HTTP call the console makes goes through this module: JSON over fetch with the session
// cookie (HttpOnly, set by the server) and the CSRF token on unsafe methods; RFC 9457 problems
// become ApiError with the field at fault, so forms can show the error beside the field.
// The session survives a reload: the tenant, the CSRF token and the user's name are kept in
// localStorage (docs/decisions/0008-console-one-page-and-session.md); a logout or an expired session clears
// them in every tab, and a 401 anywhere sends the console back to its sign-in page.
// Calls whose types come from the OpenAPI document go through typed_client.ts, which uses
// api() below for the transport; move the rest there page by page.
import { call } from "./typed_client";

export interface Session {
  tenant: string;
  csrf: string;
  username: string;
  roles: string[];
  permissions: string[];
  timeZone?: string;  // the tenant's IANA zone when its record names one
}

export const session: Session = { tenant: "", csrf: "", username: "", roles: [], permissions: [] };

const kStorageKey = "opsbox.session";

export class ApiError extends Error {
  constructor(message: string, readonly status: number, readonly field = "",
              readonly rule = "") {
    super(message);
  }
}

// Called on any 401 (expired or revoked session); the shell sets it.
let onUnauthenticated: () => void = () => {};
export function setUnauthenticatedHandler(fn: () => void): void {
  onUnauthenticated = fn;
}

export function tenantPath(suffix: string): string {
  return "/api/v1/tenants/" + encodeURIComponent(session.tenant) + suffix;
}

export function enc(part: string): string {
  return encodeURIComponent(part);
}

export async function api<T = any>(method: string, path: string, body?: unknown,
                                   extraHeaders: Record<string, string> = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", ...extraHeaders };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && session.csrf) headers["X-CSRF-Token"] = session.csrf;
  const res = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const error = new ApiError(data.detail || data.title || "HTTP " + res.status, res.status,
      data.field || "", data.rule || "");
    if (res.status === 401 && session.tenant && !path.endsWith("/sessions")) onUnauthenticated();
    throw error;
  }
  return data as T;
}

export function allows(permission: string): boolean {
  return session.permissions.includes(permission);
}

function save(): void {
  localStorage.setItem(kStorageKey, JSON.stringify(
    { tenant: session.tenant, csrf: session.csrf, username: session.username }));
}

export function clearSession(): void {
  localStorage.removeItem(kStorageKey);
  Object.assign(session,
    { tenant: "", csrf: "", username: "", roles: [], permissions: [], timeZone: undefined });
}

// Reads GET /me for the roles and permissions of the stored session; false without one.
export async function restore(): Promise<boolean> {
  const raw = localStorage.getItem(kStorageKey);
  if (!raw) {
    clearSession();
    return false;
  }
  try {
    Object.assign(session, JSON.parse(raw));
    await loadPrincipal();
    return true;
  } catch {
    clearSession();
    return false;
  }
}

// GET /me (roles, permissions) and GET the tenant (its time zone, when it names one).
async function loadPrincipal(): Promise<void> {
  const [me, tenant] = await Promise.all([api("GET", tenantPath("/me")),
    api("GET", tenantPath("")).catch(() => ({}))]);
  session.roles = me.roles || [];
  session.permissions = me.permissions || [];
  session.username = me.name || session.username;
  session.timeZone = tenant.time_zone || undefined;
}

export async function login(tenant: string, username: string, password: string): Promise<void> {
  session.tenant = tenant;
  try {
    const s = await call("post", "/api/v1/tenants/{tenant}/sessions",
      { body: { username, password } });
    session.csrf = s.csrf_token;
    session.username = username;
    save();
    await loadPrincipal();
  } catch (e) {
    clearSession();
    throw e;
  }
}

export async function logout(): Promise<void> {
  try {
    await call("delete", "/api/v1/tenants/{tenant}/sessions/current");
  } catch {
    // the session is already gone
  } finally {
    clearSession();
  }
}

// Another tab logged out (or in as someone else): follow it.
export function watchOtherTabs(onChange: () => void): void {
  window.addEventListener("storage", (ev) => {
    if (ev.key === kStorageKey || ev.key === null) onChange();
  });
}

export function $(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (!e) throw new Error("missing element #" + id);
  return e;
}

export function input(id: string): HTMLInputElement {
  return $(id) as HTMLInputElement;
}

// A table cell or any element with text, never HTML.
export function el(tag: string, text?: string | number, className?: string): HTMLElement {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = String(text);
  if (className) e.className = className;
  return e;
}
