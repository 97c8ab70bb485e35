import type { QueryResult } from "../api";
import { display, download, toCsv, toJson } from "../format";

// One statement's result. `title` names the statement when a script ran several; `ms` is
// given for a lone statement (a script's time is the whole script's).
export function ResultGrid({ result, ms, title }: { result: QueryResult; ms?: number; title?: string }) {
  return (
    <div class="result" data-testid="result">
      {title && <div class="statement"><code>{title}</code></div>}
      <div class="toolbar">
        <span class="muted">
          {result.columns.length > 0 ? `${result.rows.length} row${result.rows.length === 1 ? "" : "s"}` : `${result.rows_affected} row${result.rows_affected === 1 ? "" : "s"} affected`}
          {result.last_insert_id !== null && result.columns.length === 0 ? `, last insert id ${result.last_insert_id}` : ""}{ms !== undefined ? ` in ${ms.toFixed(0)} ms` : ""}
        </span>
        {result.columns.length > 0 && (
          <>
            <button onClick={() => download("result.csv", toCsv(result.columns, result.rows), "text/csv")}>Export CSV</button>
            <button onClick={() => download("result.json", toJson(result.columns, result.rows), "application/json")}>Export JSON</button>
          </>
        )}
      </div>
      {result.columns.length > 0 && (
        <div class="scroll">
          <table class="grid">
            <thead><tr>{result.columns.map((c) => <th>{c}</th>)}</tr></thead>
            <tbody>
              {result.rows.map((row) => <tr>{row.map((v) => <td class={v === null ? "null" : ""} title={display(v)}>{display(v)}</td>)}</tr>)}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
