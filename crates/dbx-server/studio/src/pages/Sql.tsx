// The SQL editor: run statements against the open database, keep a history per browser.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, type ScriptResult, type Session } from "../api";
import { ErrorBox } from "../components/ErrorBox";
import { ResultGrid } from "../components/ResultGrid";
import type { EditorHandle, SqlEditor as SqlEditorType } from "../components/SqlEditor";
import { canWrite } from "../App";

interface HistoryEntry { sql: string; db: string; at: string; ok: boolean }
const HISTORY_KEY = "dbx-studio-history";
const HISTORY_SIZE = 50;
const COMPLETION_TABLES = 50;

function loadHistory(): HistoryEntry[] {
  try {
    return JSON.parse(localStorage.getItem(HISTORY_KEY) ?? "[]") as HistoryEntry[];
  } catch {
    return [];
  }
}

export function SqlPage({ db, session }: { db: string; session: Session }) {
  const editor = useRef<EditorHandle | null>(null);
  const [outcome, setOutcome] = useState<{ script: ScriptResult; ms: number } | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [running, setRunning] = useState(false);
  // Counts finished runs, so that a test (or a screen reader) can tell a new outcome from the last.
  const [runs, setRuns] = useState(0);
  const [history, setHistory] = useState<HistoryEntry[]>(loadHistory);
  const [tables, setTables] = useState<Record<string, string[]>>({});
  // CodeMirror is most of the bundle: it loads when the SQL page is first opened.
  const [SqlEditor, setSqlEditor] = useState<typeof SqlEditorType | null>(null);
  useEffect(() => {
    import("../components/SqlEditor").then((m) => setSqlEditor(() => m.SqlEditor)).catch(setError);
  }, []);

  useEffect(() => {
    // Names for completion: the tables at once, then their columns (for up to
    // COMPLETION_TABLES tables, so a database with thousands costs no flood of requests).
    let current = true;
    api.tables(db).then(async (t) => {
      const names: Record<string, string[]> = Object.fromEntries(t.tables.map((x) => [x.name, []]));
      if (current) setTables(names);
      const described = await Promise.all(
        t.tables.slice(0, COMPLETION_TABLES).map((x) => api.table(db, x.name).catch(() => null)),
      );
      for (const schema of described) if (schema) names[schema.name] = schema.columns.map((c) => c.name);
      if (current) setTables({ ...names });
    }).catch(() => setTables({}));
    return () => { current = false; };
  }, [db]);

  const run = async () => {
    // The selection when there is one, as in most SQL editors; else the whole text.
    const sql = editor.current?.get().trim() ?? "";
    if (!sql || running) return;
    setRunning(true);
    setError(null);
    const started = performance.now();
    let ok = true;
    try {
      const script = await api.script(db, sql);
      setOutcome({ script, ms: performance.now() - started });
      if (script.failed) {
        ok = false;
        const { statement, sql: failedSql, error } = script.failed;
        const which = script.results.length > 0 || statement > 1 ? `statement ${statement} (${failedSql.slice(0, 80)}): ` : "";
        setError(new ApiError(0, error.kind, which + error.message));
      }
    } catch (e) {
      ok = false;
      setOutcome(null);
      setError(e as Error);
    } finally {
      setRunning(false);
      setRuns((n) => n + 1);
    }
    const next = [{ sql, db, at: new Date().toISOString(), ok }, ...history.filter((h) => h.sql !== sql || h.db !== db)].slice(0, HISTORY_SIZE);
    setHistory(next);
    localStorage.setItem(HISTORY_KEY, JSON.stringify(next));
  };

  return (
    <div class="split">
      <section class="content">
        {!SqlEditor && <div class="editor muted">Loading the editor…</div>}
        {SqlEditor && <SqlEditor kind={db.split(".")[0]} tables={tables} initial={history.find((h) => h.db === db)?.sql ?? "SELECT 1"} onRun={run} handle={editor} />}
        <div class="toolbar">
          <button onClick={run} disabled={running}>{running ? "Running…" : "Run"}</button>
          <span class="muted">Ctrl+Enter runs the selection, or everything: statements separated by <code>;</code> run in order, on <code>{db}</code>{!canWrite(session, db) && " (read-only token: writes are refused)"}.</span>
        </div>
        <div data-testid="outcome" data-runs={runs} aria-busy={running} aria-live="polite">
        <ErrorBox error={error} />
        {outcome?.script.rolled_back && (
          <p class="warning">The script left a transaction open, so it was rolled back: end it with COMMIT to keep its work.</p>
        )}
        {outcome && outcome.script.results.length === 1 && !outcome.script.failed && <ResultGrid result={outcome.script.results[0]} ms={outcome.ms} />}
        {outcome && (outcome.script.results.length > 1 || outcome.script.failed) && (
          <>
            <p class="muted" data-testid="script-summary">
              {outcome.script.results.length} statement{outcome.script.results.length === 1 ? "" : "s"} ran in {outcome.ms.toFixed(0)} ms
              {outcome.script.failed ? `; statement ${outcome.script.failed.statement} failed and the rest did not run` : ""}.
            </p>
            {outcome.script.results.map((r, i) => <ResultGrid result={r} title={`${i + 1}. ${r.sql}`} />)}
          </>
        )}
        </div>
      </section>
      <aside class="history" data-testid="history">
        <h3>History</h3>
        {history.length === 0 && <p class="muted">Statements you run appear here.</p>}
        <ul>
          {history.map((h) => (
            <li class={h.ok ? "" : "failed"}>
              <button class="link" title={`${h.db}, ${h.at}`} onClick={() => editor.current?.set(h.sql)}>{h.sql.slice(0, 120)}</button>
              <span class="muted">{h.db}</span>
            </li>
          ))}
        </ul>
        {history.length > 0 && <button class="link" onClick={() => { setHistory([]); localStorage.removeItem(HISTORY_KEY); }}>Clear history</button>}
      </aside>
    </div>
  );
}
