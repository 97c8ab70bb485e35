// The table list beside the open table's rows or schema.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, type Session, type TableInfo, type TableSchema } from "../api";
import { href } from "../router";
import { ErrorBox } from "../components/ErrorBox";
import { RowsGrid } from "../components/RowsGrid";
import { SchemaView } from "../components/SchemaView";
import { canWrite } from "../App";

export function TablesPage({ db, table, tab, session }: { db: string; table?: string; tab?: string; session: Session }) {
  const [tables, setTables] = useState<TableInfo[] | null>(null);
  const [schema, setSchema] = useState<TableSchema | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [search, setSearch] = useState("");

  useEffect(() => {
    setTables(null);
    setError(null);
    api.tables(db).then((t) => setTables(t.tables)).catch(setError);
  }, [db]);
  useEffect(() => {
    setSchema(null);
    if (table) api.table(db, table).then(setSchema).catch(setError);
  }, [db, table]);

  const shown = (tables ?? []).filter((t) => t.name.toLowerCase().includes(search.toLowerCase()));
  return (
    <div class="split">
      <aside class="tables">
        <input type="search" placeholder="Find a table" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
        {tables === null && !error && <p class="muted">Loading…</p>}
        {tables?.length === 0 && <p class="muted">No tables yet. Create one in the SQL editor.</p>}
        <ul data-testid="table-list">
          {shown.map((t) => (
            <li><a class={t.name === table ? "on" : ""} href={href("db", db, "table", t.name)}>
              {t.name}{t.kind !== "table" && <span class="muted"> {t.kind}</span>}
            </a></li>
          ))}
        </ul>
      </aside>
      <section class="content">
        <ErrorBox error={error} />
        {!table && tables && <p class="muted">Pick a table on the left.</p>}
        {table && schema && (
          <>
            <div class="tabs">
              <h2>{schema.name}</h2>
              <a class={tab !== "schema" ? "on" : ""} href={href("db", db, "table", table)}>Rows</a>
              <a class={tab === "schema" ? "on" : ""} href={href("db", db, "table", table, "schema")}>Schema</a>
            </div>
            {tab === "schema"
              ? <SchemaView db={db} schema={schema} />
              : <RowsGrid key={`${db}/${table}`} db={db} schema={schema} writable={canWrite(session, db)} />}
          </>
        )}
      </section>
    </div>
  );
}
