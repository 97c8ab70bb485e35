// The shell: who is logged in, which database is open, and which page shows.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, saveToken, type AdapterInfo, type Session } from "./api";
import { go, href, useRoute } from "./router";
import { Login } from "./pages/Login";
import { TablesPage } from "./pages/Tables";
import { SqlPage } from "./pages/Sql";
import { TenantsPage } from "./pages/Tenants";
import { MigrationsPage } from "./pages/Migrations";
import { HealthPage } from "./pages/Health";
import { DatabasePicker } from "./components/DatabasePicker";
import { ErrorBox } from "./components/ErrorBox";

// Whether the session may write `db` (`kind` or `kind.tenant`).
export function canWrite(session: Session, db: string): boolean {
  if (session.write_everything) return true;
  const tenant = db.includes(".") ? db.slice(db.indexOf(".") + 1) : "default";
  return session.databases.some((d) => d.name === tenant && d.write);
}

export function App() {
  const route = useRoute();
  const [session, setSession] = useState<Session | null>(null);
  const [adapters, setAdapters] = useState<AdapterInfo[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    setError(null);
    Promise.all([api.session(), api.adapters()])
      .then(([s, a]) => {
        setSession(s);
        setAdapters(a.adapters);
      })
      .catch((e: ApiError) => {
        setSession(null);
        setError(e);
      });
  }, [attempt]);

  const retry = () => setAttempt((n) => n + 1);
  if (!session) {
    if (error && error.status !== 401) return <main class="page"><ErrorBox error={error} /></main>;
    if (!error) return <main class="page">Connecting…</main>;
    return <Login refusal={attempt > 0 ? error.message : null} onToken={(t) => { saveToken(t); retry(); }} />;
  }

  const defaultKind = adapters.find((a) => a.default)?.kind ?? adapters[0]?.kind ?? "sqlite";
  // Where to start: the default adapter's root database, or, for a token limited to some
  // tenants, the first of them.
  const rootReadable = session.read_everything || session.databases.some((d) => d.name === "default");
  const firstTenant = session.databases.find((d) => d.name !== "default")?.name;
  const startDb = rootReadable || !firstTenant ? defaultKind : `${defaultKind}.${firstTenant}`;
  const [section, ...rest] = route;
  const db = section === "db" && rest[0] ? rest[0] : startDb;
  const kind = db.split(".")[0];
  const page = () => {
    switch (section) {
      case "db":
        if (rest[1] === "sql") return <SqlPage db={db} session={session} />;
        if (rest[1] === "migrations") return <MigrationsPage db={db} session={session} />;
        return <TablesPage db={db} table={rest[1] === "table" ? rest[2] : undefined} tab={rest[3]} session={session} />;
      case "tenants":
        return <TenantsPage kind={rest[0] ?? kind} session={session} />;
      case "health":
        return <HealthPage />;
      default:
        go("db", startDb);
        return null;
    }
  };
  const here = (name: string) => (section === "db" && (rest[1] ?? "table") === name) || section === name;
  return (
    <div class="shell">
      <header class="top">
        <a class="brand" href={href("db", db)}>dbx Studio</a>
        <DatabasePicker adapters={adapters} db={db} session={session} />
        <nav>
          <a class={here("table") ? "on" : ""} href={href("db", db)}>Tables</a>
          <a class={here("sql") ? "on" : ""} href={href("db", db, "sql")}>SQL</a>
          <a class={here("migrations") ? "on" : ""} href={href("db", db, "migrations")}>Migrations</a>
          <a class={here("tenants") ? "on" : ""} href={href("tenants", kind)}>Tenants</a>
          <a class={here("health") ? "on" : ""} href={href("health")}>Health</a>
        </nav>
        <span class="who" data-testid="role">
          {session.auth ? `token: ${session.role}` : "no auth (loopback)"}
          {!canWrite(session, db) && <span class="badge ro">read-only</span>}
        </span>
        {session.auth && (
          <button class="link" onClick={() => { saveToken(""); setSession(null); setError(new ApiError(401, "unauthorized", "logged out")); setAttempt(0); }}>
            Log out
          </button>
        )}
      </header>
      <main class="page">{page()}</main>
    </div>
  );
}
