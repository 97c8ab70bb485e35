// Row changes staged in the grid: shown as SQL-like previews, then sent one by one through
// the REST API. A change that fails stays staged with its error; the ones before it landed.
import { api, type Json, type TableSchema } from "./api";
import { literal } from "./format";

export type Key = Record<string, Json>;
export type Change =
  | { kind: "update"; key: Key; values: Record<string, Json> }
  | { kind: "insert"; values: Record<string, Json> }
  | { kind: "delete"; key: Key };

export const keyId = (key: Key) => JSON.stringify(key);

export function keyOf(schema: TableSchema, columns: string[], row: Json[]): Key | null {
  if (schema.primary_key.length === 0) return null;
  const key: Key = {};
  for (const name of schema.primary_key) {
    const i = columns.indexOf(name);
    if (i < 0) return null;
    key[name] = row[i];
  }
  return key;
}

function where(key: Key): string {
  return Object.entries(key).map(([c, v]) => `${c} = ${literal(v)}`).join(" AND ");
}

export function preview(table: string, change: Change): string {
  switch (change.kind) {
    case "update":
      return `UPDATE ${table} SET ${Object.entries(change.values).map(([c, v]) => `${c} = ${literal(v)}`).join(", ")} WHERE ${where(change.key)}`;
    case "insert": {
      const names = Object.keys(change.values);
      return names.length === 0
        ? `INSERT INTO ${table} DEFAULT VALUES`
        : `INSERT INTO ${table} (${names.join(", ")}) VALUES (${names.map((n) => literal(change.values[n])).join(", ")})`;
    }
    case "delete":
      return `DELETE FROM ${table} WHERE ${where(change.key)}`;
  }
}

// Sends every change in one transaction (`POST .../changes`): if one fails, none lands,
// and the server's message names the change that failed.
export async function commit(db: string, table: string, changes: Change[]): Promise<void> {
  await api.changes(db, changes.map((c) => ({
    table,
    op: c.kind,
    ...("key" in c ? { key: c.key } : {}),
    ...("values" in c ? { values: c.values } : {}),
  })));
}
