// A table's rows: pages, sort by a header click, filters, export, and staged edits.
import { useEffect, useState } from "preact/hooks";
import { api, type Json, type RowQuery, type RowsPage, type TableSchema } from "../api";
import { display, download, parseInput, toCsv, toJson } from "../format";
import { commit, keyId, keyOf, preview, type Change, type Key } from "../staging";
import { ErrorBox } from "./ErrorBox";
import { FilterBar } from "./FilterBar";
import { Pager } from "./Pager";

type Editing = { id: string; key: Key; column: string; text: string };

export function RowsGrid({ db, schema, writable }: { db: string; schema: TableSchema; writable: boolean }) {
  const [query, setQuery] = useState<RowQuery>({ limit: 50, offset: 0, order: "", filters: [] });
  const [page, setPage] = useState<RowsPage | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [notice, setNotice] = useState("");
  const [reload, setReload] = useState(0);
  const [edits, setEdits] = useState<Map<string, { key: Key; values: Record<string, Json> }>>(new Map());
  const [deletes, setDeletes] = useState<Map<string, Key>>(new Map());
  const [inserts, setInserts] = useState<Record<string, string>[]>([]);
  const [editing, setEditing] = useState<Editing | null>(null);
  const [busy, setBusy] = useState("");

  const [loading, setLoading] = useState(true);

  useEffect(() => {
    setLoading(true);
    api.rows(db, schema.name, query)
      .then((p) => { setPage(p); setError(null); })
      .catch(setError)
      .finally(() => setLoading(false));
  }, [db, schema.name, query, reload]);

  const columns = page?.columns ?? schema.columns.map((c) => c.name);
  const column = (name: string) => schema.columns.find((c) => c.name === name);
  const editable = writable && schema.primary_key.length > 0 && schema.kind === "table";
  const refusal = !writable
    ? "Read-only: this token may not write this database, so editing is off."
    : schema.primary_key.length === 0 ? "This table has no primary key, so its rows cannot be edited one by one; use the SQL editor." : "";

  const changes: Change[] = [
    ...[...edits.values()].map((e): Change => ({ kind: "update", ...e })),
    ...inserts.map((raw): Change => ({
      kind: "insert",
      values: Object.fromEntries(Object.entries(raw).filter(([, t]) => t !== "").map(([c, t]) => [c, parseInput(t, column(c))])),
    })),
    ...[...deletes.values()].map((key): Change => ({ kind: "delete", key })),
  ];

  const sortBy = (name: string) => {
    const order = query.order === name ? `-${name}` : query.order === `-${name}` ? "" : name;
    setQuery({ ...query, order, offset: 0 });
  };
  const stage = (value: Json) => {
    if (!editing) return;
    const next = new Map(edits);
    const entry = next.get(editing.id) ?? { key: editing.key, values: {} };
    next.set(editing.id, { key: entry.key, values: { ...entry.values, [editing.column]: value } });
    setEdits(next);
    setEditing(null);
  };
  const toggleDelete = (id: string, key: Key) => {
    const next = new Map(deletes);
    if (next.has(id)) next.delete(id); else next.set(id, key);
    setDeletes(next);
  };
  const discard = () => { setEdits(new Map()); setDeletes(new Map()); setInserts([]); setEditing(null); };
  const apply = async () => {
    setBusy("committing");
    try {
      await commit(db, schema.name, changes);
      setNotice(`${changes.length} change${changes.length === 1 ? "" : "s"} committed`);
      setError(null);
      discard();
      setReload((n) => n + 1);
    } catch (e) {
      // Nothing landed: every change stays staged, to fix or drop.
      setNotice("");
      setError(e as Error);
    } finally {
      setBusy("");
    }
  };
  const exportAll = async (format: "csv" | "json") => {
    try {
      const rows: Json[][] = [];
      let total = Infinity;
      let cols = columns;
      while (rows.length < total) {
        setBusy(`exporting ${rows.length} of ${total === Infinity ? "?" : total} rows`);
        const p = await api.rows(db, schema.name, { ...query, limit: 1000, offset: rows.length });
        total = p.total;
        cols = p.columns;
        rows.push(...p.rows);
        if (p.rows.length === 0) break;
      }
      if (format === "csv") download(`${schema.name}.csv`, toCsv(cols, rows), "text/csv");
      else download(`${schema.name}.json`, toJson(cols, rows), "application/json");
      setNotice(`exported ${rows.length} rows as ${format.toUpperCase()}`);
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy("");
    }
  };

  return (
    <div class="rows">
      <FilterBar columns={columns} filters={query.filters} onChange={(filters) => setQuery({ ...query, filters, offset: 0 })} />
      <div class="toolbar">
        {page && <Pager page={page} onPage={(offset, limit) => setQuery({ ...query, offset, limit })} />}
        <button class="secondary" onClick={() => setReload((n) => n + 1)} title="Read this page again">Refresh</button>
        <button onClick={() => exportAll("csv")} disabled={!!busy}>Export CSV</button>
        <button onClick={() => exportAll("json")} disabled={!!busy}>Export JSON</button>
        <button onClick={() => setInserts([...inserts, {}])} disabled={!editable}>Add row</button>
        {busy && <span class="muted">{busy}…</span>}
        {notice && !busy && <span class="notice" data-testid="notice">{notice}</span>}
      </div>
      {refusal && <p class="warning" data-testid="read-only">{refusal}</p>}
      <ErrorBox error={error} />
      <div class="scroll">
        <table class="grid" data-testid="rows" aria-busy={loading}>
          <thead>
            <tr>
              {editable && <th class="narrow"></th>}
              {columns.map((c) => (
                <th onClick={() => sortBy(c)} class="sortable" title="Sort by this column">
                  {c}{query.order === c ? " ▲" : query.order === `-${c}` ? " ▼" : ""}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {inserts.map((raw, i) => (
              <tr class="inserted">
                <td class="narrow"><button class="link" title="Drop this new row" onClick={() => setInserts(inserts.filter((_, j) => j !== i))}>×</button></td>
                {columns.map((c) => (
                  <td><input aria-label={`new ${c}`} placeholder={column(c)?.default ? "default" : column(c)?.nullable ? "NULL" : ""} value={raw[c] ?? ""}
                    onInput={(e) => { const next = [...inserts]; next[i] = { ...raw, [c]: e.currentTarget.value }; setInserts(next); }} /></td>
                ))}
              </tr>
            ))}
            {page?.rows.map((row) => {
              const key = keyOf(schema, columns, row);
              const id = key ? keyId(key) : "";
              const edited = edits.get(id)?.values ?? {};
              return (
                <tr class={deletes.has(id) ? "deleted" : ""}>
                  {editable && <td class="narrow">{key && <button class="link" title={deletes.has(id) ? "Keep this row" : "Delete this row"} aria-label="delete row" onClick={() => toggleDelete(id, key)}>{deletes.has(id) ? "↺" : "×"}</button>}</td>}
                  {columns.map((c, i) => {
                    const value = c in edited ? edited[c] : row[i];
                    if (editing && editing.id === id && editing.column === c) {
                      return (
                        <td class="editing">
                          <input autoFocus aria-label={`edit ${c}`} value={editing.text}
                            onInput={(e) => setEditing({ ...editing, text: e.currentTarget.value })}
                            onKeyDown={(e) => { if (e.key === "Enter") stage(parseInput(editing.text, column(c))); if (e.key === "Escape") setEditing(null); }} />
                          <button class="link" onClick={() => stage(null)}>NULL</button>
                        </td>
                      );
                    }
                    return (
                      <td class={`${c in edited ? "changed" : ""} ${value === null ? "null" : ""}`} title={display(value)}
                        onDblClick={() => { if (editable && key && typeof value !== "object") setEditing({ id, key, column: c, text: value === null ? "" : String(value) }); }}>
                        {display(value)}
                      </td>
                    );
                  })}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {changes.length > 0 && (
        <div class="staged" data-testid="staged">
          <h3>{changes.length} staged change{changes.length === 1 ? "" : "s"}, not yet committed</h3>
          <ol>{changes.map((c) => <li><code>{preview(schema.name, c)}</code></li>)}</ol>
          <button onClick={apply} disabled={!!busy}>Commit {changes.length} change{changes.length === 1 ? "" : "s"}</button>
          <button class="secondary" onClick={discard} disabled={!!busy}>Discard</button>
        </div>
      )}
    </div>
  );
}
