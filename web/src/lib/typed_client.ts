// The API client typed from the OpenAPI document: web/src/generated/openapi.d.ts is generated
// at build time (tools/openapi/generate-types.mjs, run by the CMake build before Vite), so a
// call with a wrong path, method, parameter or body, or a use of a field the API does not
// answer, fails `tsc --noEmit` (also run by the build) instead of failing in the browser.
// The transport is lib/api.ts's api(): the session cookie, X-CSRF-Token on unsafe methods,
// problems as ApiError (field, rule), the shell's sign-in on a 401.
import type { paths } from "../generated/openapi";
import { api, session } from "./api";

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
// with ApiError carrying the problem's detail, status, field and rule.
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
  // The console's transport: CSRF header, problem details as ApiError with field and rule, and
  // the shell's sign-in on a 401.
  const data = await api(method.toUpperCase(), url, options.body);
  return data as Success<Op<P, M>>;
}
