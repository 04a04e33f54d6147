// The HTTP API as the pages use it: JSON over fetch with the session cookie and the CSRF token
// on unsafe methods; errors carry the problem's detail. New code calls typed_client.ts, whose
// types come from the OpenAPI document.
import { call } from "./typed_client";

export interface Session {
  tenant: string;
  csrf: string;
  username: string;
}

export const session: Session = { tenant: "", csrf: "", username: "" };

export class ApiError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

export function tenantPath(suffix: string): string {
  return "/api/v1/tenants/" + encodeURIComponent(session.tenant) + suffix;
}

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && session.csrf) headers["X-CSRF-Token"] = session.csrf;
  const res = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(data.detail || data.title || "HTTP " + res.status, res.status);
  return data as T;
}

export async function login(tenant: string, username: string, password: string): Promise<void> {
  session.tenant = tenant;
  const s = await call("post", "/api/v1/tenants/{tenant}/sessions",
    { body: { username, password } });
  session.csrf = s.csrf_token;
  session.username = username;
}

export async function logout(): Promise<void> {
  try {
    await call("delete", "/api/v1/tenants/{tenant}/sessions/current");
  } catch {
    // the session is already gone
  }
}

export function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error("missing element #" + id);
  return el;
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

// Wires the shared login form (#login-form, #tenant, #username, #password, #login-error) and
// the #logout button; `onIn` runs after a successful login.
export function wireLogin(onIn: () => Promise<void>): void {
  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("login-error").textContent = "";
    try {
      await login(input("tenant").value.trim(), input("username").value.trim(),
        input("password").value);
      $("who").textContent = session.username + " @ " + session.tenant;
      $("login-view").hidden = true;
      $("logout").hidden = false;
      await onIn();
    } catch (e) {
      $("login-error").textContent = (e as Error).message;
    }
  });
  $("logout").addEventListener("click", async () => {
    await logout();
    location.reload();
  });
}
