// Adapter and tenant: together they name the database every page works on.
import { useEffect, useState } from "preact/hooks";
import { api, type AdapterInfo, type Session } from "../api";
import { go } from "../router";

export function DatabasePicker({ adapters, db, session }: { adapters: AdapterInfo[]; db: string; session: Session }) {
  const [kind, tenant] = db.includes(".") ? [db.slice(0, db.indexOf(".")), db.slice(db.indexOf(".") + 1)] : [db, ""];
  const [tenants, setTenants] = useState<string[]>([]);
  useEffect(() => {
    if (session.read_everything) {
      api.tenants(kind).then((t) => setTenants(t.tenants)).catch(() => setTenants([]));
    } else {
      // A token limited to some tenants may not list them all: offer the ones it names.
      setTenants(session.databases.map((d) => d.name).filter((n) => n !== "default"));
    }
  }, [kind, session]);
  const rootAllowed = session.read_everything || session.databases.some((d) => d.name === "default");
  const open = (k: string, t: string) => go("db", t ? `${k}.${t}` : k);
  return (
    <span class="picker">
      <select aria-label="adapter" value={kind} onChange={(e) => open(e.currentTarget.value, "")}>
        {adapters.map((a) => <option value={a.kind}>{a.kind}{a.default ? " (default)" : ""}</option>)}
      </select>
      <select aria-label="tenant" value={tenant} onChange={(e) => open(kind, e.currentTarget.value)}>
        {rootAllowed && <option value="">root database</option>}
        {tenant && !tenants.includes(tenant) && <option value={tenant}>{tenant}</option>}
        {tenants.map((t) => <option value={t}>{t}</option>)}
      </select>
    </span>
  );
}
