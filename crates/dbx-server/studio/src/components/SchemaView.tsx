import type { TableSchema } from "../api";
import { href } from "../router";

export function SchemaView({ db, schema }: { db: string; schema: TableSchema }) {
  return (
    <div class="schema" data-testid="schema">
      <h3>Columns</h3>
      <table class="grid">
        <thead><tr><th>name</th><th>type</th><th>null</th><th>default</th><th>key</th></tr></thead>
        <tbody>
          {schema.columns.map((c) => (
            <tr>
              <td>{c.name}</td>
              <td>{c.decltype ?? <span class="muted">none</span>}</td>
              <td>{c.nullable ? "yes" : "not null"}</td>
              <td>{c.default ?? ""}</td>
              <td>{c.primary_key ? `primary ${c.primary_key}` : ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Primary key</h3>
      <p>{schema.primary_key.length ? schema.primary_key.join(", ") : <span class="muted">none: rows cannot be edited one by one</span>}</p>
      <h3>Indexes</h3>
      {schema.indexes.length === 0 ? <p class="muted">none</p> : (
        <table class="grid">
          <thead><tr><th>name</th><th>columns</th><th>unique</th></tr></thead>
          <tbody>{schema.indexes.map((i) => <tr><td>{i.name}</td><td>{i.columns.join(", ")}</td><td>{i.unique ? "unique" : ""}</td></tr>)}</tbody>
        </table>
      )}
      <h3>Foreign keys</h3>
      {schema.foreign_keys.length === 0 ? <p class="muted">none</p> : (
        <table class="grid">
          <thead><tr><th>name</th><th>columns</th><th>references</th><th>on update</th><th>on delete</th></tr></thead>
          <tbody>
            {schema.foreign_keys.map((f) => (
              <tr>
                <td>{f.name ?? ""}</td>
                <td>{f.columns.join(", ")}</td>
                <td><a href={href("db", db, "table", f.referenced_table, "schema")}>{f.referenced_table}</a>({f.referenced_columns.join(", ")})</td>
                <td>{f.on_update}</td>
                <td>{f.on_delete}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
