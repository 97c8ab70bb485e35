import { useEffect, useState } from "preact/hooks";
import { api, type MigrationStatus } from "../api";
import { ErrorBox } from "../components/ErrorBox";

export function MigrationsPage({ db }: { db: string }) {
  const [status, setStatus] = useState<MigrationStatus | null>(null);
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    setStatus(null);
    api.migrations(db).then(setStatus).catch(setError);
  }, [db]);
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
            {" "}Apply with <code>dbx migrate up</code>{db.includes(".") ? ` --tenant ${db.split(".")[1]}` : ""}.
          </p>
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
