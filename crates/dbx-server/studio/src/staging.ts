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

export interface CommitOutcome { done: number; failed: { change: Change; message: string } | null }

// Sends the changes in order and stops at the first failure, so nothing after a failed
// change is applied behind the user's back.
export async function commit(db: string, table: string, changes: Change[]): Promise<CommitOutcome> {
  let done = 0;
  for (const change of changes) {
    try {
      const result =
        change.kind === "update" ? await api.update(db, table, change.key, change.values)
        : change.kind === "insert" ? await api.insert(db, table, change.values)
        : await api.remove(db, table, change.key);
      if (change.kind !== "insert" && result.rows_affected === 0) {
        return { done, failed: { change, message: "no row has this key any more: it was changed or deleted elsewhere" } };
      }
      done += 1;
    } catch (e) {
      return { done, failed: { change, message: (e as Error).message } };
    }
  }
  return { done, failed: null };
}
