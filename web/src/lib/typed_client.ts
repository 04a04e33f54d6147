// The API client typed from the OpenAPI document: web/src/generated/openapi.d.ts is generated
// at build time (tools/openapi/generate-types.mjs, run by the CMake build before Vite), so a
// call with a wrong path, method, parameter or body, or a use of a field the API does not
// answer, fails `tsc --noEmit` (also run by the build) instead of failing in the browser.
// Credentials as in lib/api.ts: the session cookie, plus X-CSRF-Token on unsafe methods.
import type { paths } from "../generated/openapi";
import { ApiError, session } from "./api";

export type { components, operations, paths } from "../generated/openapi";

type Method = "get" | "post" | "put" | "delete";
type Path = keyof paths;
// The operation at `P` and `M`; `never` when the document has none there.
type Op<P extends Path, M extends Method> = paths[P][M] extends infer O
  ? [O] extends [never] ? never : O extends undefined ? never : O
  : never;
type Json<C> = C extends { content: { "application/json": infer J } } ? J : never;

export type PathParams<O> = O extends { parameters: { path: infer X } }
  ? [X] extends [never] | [undefined] ? Record<string, never> : X : Record<string, never>;
export type QueryParams<O> = O extends { parameters: { query?: infer Q } }
  ? [Q] extends [never] | [undefined] ? Record<string, never> : NonNullable<Q> : Record<string, never>;
export type RequestBody<O> = O extends { requestBody?: infer B } ? Json<NonNullable<B>> : never;
// The JSON of the first documented success (200, then 201).
export type Success<O> = O extends { responses: infer R }
  ? R extends { 200: infer S } ? Json<S> : R extends { 201: infer S } ? Json<S> : unknown
  : never;

export interface CallOptions<O> {
  params?: PathParams<O>;
  query?: QueryParams<O>;
  body?: RequestBody<O>;
}

// Calls `method` `path` with its path parameters substituted (percent-encoded), the query
// (undefined values left out) and the JSON body; resolves to the typed success body, rejects
// with ApiError carrying the problem's detail and status.
export async function call<P extends Path, M extends Method>(
  method: M, path: P, options: CallOptions<Op<P, M>> = {},
): Promise<Success<Op<P, M>>> {
  const params = (options.params ?? {}) as Record<string, string | number>;
  let url = (path as string).replace(/\{([a-z_]+)\}/g, (_, name: string) => {
    const value = name === "tenant" && params[name] === undefined ? session.tenant : params[name];
    if (value === undefined) throw new Error("missing path parameter " + name);
    return encodeURIComponent(String(value));
  });
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries((options.query ?? {}) as Record<string, unknown>)) {
    if (v !== undefined && v !== null) query.set(k, String(v));
  }
  if ([...query.keys()].length > 0) url += "?" + query.toString();
  const headers: Record<string, string> = { Accept: "application/json" };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "get" && session.csrf) headers["X-CSRF-Token"] = session.csrf;
  const res = await fetch(url, {
    method: method.toUpperCase(), headers, credentials: "same-origin",
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(data.detail || data.title || "HTTP " + res.status, res.status);
  return data as Success<Op<P, M>>;
}
