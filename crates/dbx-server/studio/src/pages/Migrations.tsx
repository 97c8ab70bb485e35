// A database's migrations and modules, as `dbx migrate status` shows them; an admin applies
// pending ones or reverts the newest, under the same lock as the command line.
import { useEffect, useState } from "preact/hooks";
import { api, type MigrationReport, type MigrationStatus, type Session } from "../api";
import { ErrorBox } from "../components/ErrorBox";

export function MigrationsPage({ db, session }: { db: string; session: Session }) {
  const [status, setStatus] = useState<MigrationStatus | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [running, setRunning] = useState(false);
  const [report, setReport] = useState<string>("");
  const [reload, setReload] = useState(0);
  const admin = session.role === "admin";
  useEffect(() => {
    setStatus(null);
    api.migrations(db).then(setStatus).catch(setError);
  }, [db, reload]);
  const run = (what: (db: string) => Promise<MigrationReport>, verb: string) => {
    setRunning(true);
    setError(null);
    what(db)
      .then((r) => {
        const names = r.steps.map((s) => `${s.module ? `${s.module}/` : ""}${s.version}_${s.name}`);
        const modules = r.modules_initialized.length ? `; modules initialized: ${r.modules_initialized.join(", ")}` : "";
        setReport(`${verb} ${names.length ? names.join(", ") : "nothing"}${modules}${r.waited_for_lock ? " (after waiting for another runner)" : ""}.`);
      })
      .catch(setError)
      .finally(() => {
        setRunning(false);
        setReload((n) => n + 1);
      });
  };
  const count = (state: string) => status?.entries.filter((e) => e.state === state).length ?? 0;
  return (
    <div>
      <h2>Migrations of {db}</h2>
      <ErrorBox error={error} />
      {status && (
        <>
          <p data-testid="migration-summary">
            {count("applied")} applied, {count("pending")} pending
            {["modified", "missing", "dirty"].map((s) => (count(s) ? `, ${count(s)} ${s}` : ""))}.
            {" "}Apply with <code>dbx migrate up</code>{db.includes(".") ? ` --tenant ${db.split(".")[1]}` : ""}{admin ? " or here" : ""}.
          </p>
          {admin && (
            <p>
              <button disabled={running || count("pending") === 0} onClick={() => run(api.migrateUp, "Applied")}>Apply pending</button>{" "}
              <button class="danger" disabled={running || count("applied") === 0} onClick={() => run(api.migrateDown, "Reverted")}>Revert the newest</button>
            </p>
          )}
          {report && <p data-testid="migration-report">{report}</p>}
          {status.entries.length === 0 && <p class="muted">No migrations: start the server with <code>--migrations DIR</code> to compare a directory with this database.</p>}
          <table class="grid">
            <thead><tr><th>module</th><th>version</th><th>name</th><th>state</th><th>applied at</th><th>ms</th><th>error</th></tr></thead>
            <tbody>
              {status.entries.map((e) => (
                <tr>
                  <td>{e.module}</td><td>{e.version}</td><td>{e.name}</td>
                  <td><span class={`badge ${e.state}`}>{e.state}{e.out_of_order ? " (out of order)" : ""}</span></td>
                  <td>{e.applied_at ?? ""}</td><td>{e.duration_ms ?? ""}</td><td>{e.error ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}
