// The REST API client: every request carries the token, every error becomes an ApiError
// with the server's `{error: {kind, message}}`.

export type Json = null | boolean | number | string | { base64: string };

export interface Session {
  auth: boolean;
  role: "admin" | "rw" | "ro";
  read_everything: boolean;
  write_everything: boolean;
  databases: { name: string; write: boolean }[];
}
export interface AdapterInfo { kind: string; default: boolean; tenancy: string }
export interface TableInfo { name: string; kind: string }
export interface ColumnSchema {
  name: string;
  decltype: string | null;
  nullable: boolean;
  default: string | null;
  primary_key: number | null;
}
export interface TableSchema {
  name: string;
  kind: string;
  columns: ColumnSchema[];
  primary_key: string[];
  indexes: { name: string; columns: string[]; unique: boolean }[];
  foreign_keys: {
    name: string | null;
    columns: string[];
    referenced_table: string;
    referenced_columns: string[];
    on_update: string;
    on_delete: string;
  }[];
}
export interface QueryResult {
  columns: string[];
  rows: Json[][];
  rows_affected: number;
  last_insert_id: number | null;
}
export interface StatementResult extends QueryResult { sql: string }
export interface ScriptResult {
  results: StatementResult[];
  failed: { statement: number; sql: string; error: { kind: string; message: string } } | null;
  rolled_back: boolean;
}
export interface RowsPage { columns: string[]; rows: Json[][]; total: number; limit: number; offset: number }
export interface MigrationEntry {
  module: string;
  version: number;
  name: string;
  state: string;
  out_of_order: boolean;
  applied_at: string | null;
  duration_ms: number | null;
  error: string | null;
  origin: string | null;
}
export interface MigrationStatus { entries: MigrationEntry[] }
export interface MigrationReport {
  steps: { module: string; version: number; name: string; direction: "up" | "down"; duration_ms: number }[];
  modules_initialized: string[];
  waited_for_lock: boolean;
}
export interface Health {
  status: string;
  adapters: {
    kind: string;
    ok: boolean;
    error: string | null;
    latency_ms: number;
    pool_in_use: number;
    pool_idle: number;
    pool_max: number;
  }[];
}
export interface RowQuery { limit: number; offset: number; order: string; filters: string[] }

export class ApiError extends Error {
  constructor(readonly status: number, readonly kind: string, message: string) {
    super(message);
  }
}

const TOKEN_KEY = "dbx-studio-token";

// Kept for the browser tab only: closing it forgets the token.
export function savedToken(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? "";
}
export function saveToken(token: string) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** Where the server mounts its routes: the path before `/studio/`, empty at the root and
 * `/database/api` under `server.base-path = "/database/api"`. */
export const BASE = location.pathname.replace(/\/studio(\/.*)?$/, "");

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  const token = savedToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(BASE + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, "unavailable", `the server did not answer (${String(e)}); is dbx serve running?`);
  }
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: reported below with the raw text.
  }
  if (!response.ok && !(path === "/health" && response.status === 503)) {
    const error = (parsed as { error?: { kind: string; message: string } } | null)?.error;
    throw new ApiError(
      response.status,
      error?.kind ?? "http",
      error?.message ?? `${method} ${path} answered ${response.status}: ${text.slice(0, 200)}`,
    );
  }
  return parsed as T;
}

const db = (name: string) => `/api/databases/${encodeURIComponent(name)}`;
const table = (name: string, t: string) => `${db(name)}/tables/${encodeURIComponent(t)}`;

export const api = {
  session: () => call<Session>("GET", "/api/session"),
  adapters: () => call<{ adapters: AdapterInfo[] }>("GET", "/api/adapters"),
  tenants: (kind: string) => call<{ tenants: string[] }>("GET", `/api/adapters/${kind}/tenants`),
  createTenant: (kind: string, id: string) => call<{ id: string }>("POST", `/api/adapters/${kind}/tenants`, { id }),
  deleteTenant: (kind: string, id: string) =>
    call<null>("DELETE", `/api/adapters/${kind}/tenants/${encodeURIComponent(id)}`),
  tables: (name: string) => call<{ tables: TableInfo[] }>("GET", `${db(name)}/tables`),
  table: (name: string, t: string) => call<TableSchema>("GET", table(name, t)),
  rows(name: string, t: string, q: RowQuery) {
    const params = new URLSearchParams({ limit: String(q.limit), offset: String(q.offset) });
    if (q.order) params.set("order", q.order);
    for (const f of q.filters) params.append("filter", f);
    return call<RowsPage>("GET", `${table(name, t)}/rows?${params}`);
  },
  insert: (name: string, t: string, values: Record<string, Json>) =>
    call<{ rows_affected: number }>("POST", `${table(name, t)}/rows`, { values }),
  update: (name: string, t: string, key: Record<string, Json>, values: Record<string, Json>) =>
    call<{ rows_affected: number }>("PATCH", `${table(name, t)}/rows`, { key, values }),
  remove: (name: string, t: string, key: Record<string, Json>) =>
    call<{ rows_affected: number }>("DELETE", `${table(name, t)}/rows`, { key }),
  // Row writes across tables in one transaction: all of them land, or none.
  changes: (name: string, changes: { table: string; op: string; key?: Record<string, Json>; values?: Record<string, Json> }[]) =>
    call<{ results: { rows_affected: number }[] }>("POST", `${db(name)}/changes`, { changes }),
  // Statements run in order on one session until one fails.
  script: (name: string, sql: string) => call<ScriptResult>("POST", `${db(name)}/script`, { sql }),
  migrations: (name: string) => call<MigrationStatus>("GET", `${db(name)}/migrations`),
  migrateUp: (name: string) => call<MigrationReport>("POST", `${db(name)}/migrations/up`),
  migrateDown: (name: string) => call<MigrationReport>("POST", `${db(name)}/migrations/down?steps=1`),
  health: () => call<Health>("GET", "/health"),
};
