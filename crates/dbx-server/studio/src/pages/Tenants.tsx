// An adapter's tenants: list, create, and delete after typing the id again.
import { useEffect, useState } from "preact/hooks";
import { api, type Session } from "../api";
import { href } from "../router";
import { ErrorBox } from "../components/ErrorBox";

export function TenantsPage({ kind, session }: { kind: string; session: Session }) {
  const [tenants, setTenants] = useState<string[] | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [newId, setNewId] = useState("");
  const [deleting, setDeleting] = useState<{ id: string; typed: string } | null>(null);
  const [reload, setReload] = useState(0);
  const admin = session.role === "admin";

  useEffect(() => {
    if (!session.read_everything) return;
    api.tenants(kind).then((t) => { setTenants(t.tenants); }).catch(setError);
  }, [kind, reload]);

  const act = (work: Promise<unknown>) => work.then(() => { setError(null); setReload((n) => n + 1); }).catch(setError);
  const create = (e: Event) => {
    e.preventDefault();
    act(api.createTenant(kind, newId.trim()).then(() => setNewId("")));
  };

  if (!session.read_everything) {
    return <p class="warning">This token is limited to some tenants ({session.databases.map((d) => d.name).join(", ")}), so it may not list them all.</p>;
  }
  return (
    <div class="narrow-page">
      <h2>Tenants of {kind}</h2>
      <ErrorBox error={error} />
      {admin ? (
        <form class="inline" onSubmit={create}>
          <input aria-label="new tenant id" placeholder="new tenant id: a-z 0-9 _ -" value={newId} onInput={(e) => setNewId(e.currentTarget.value)} />
          <button type="submit" disabled={!newId.trim()}>Create tenant</button>
        </form>
      ) : <p class="muted">Creating and deleting tenants needs an admin token.</p>}
      {tenants?.length === 0 && <p class="muted">No tenants yet.</p>}
      <table class="grid" data-testid="tenants">
        <tbody>
          {tenants?.map((t) => (
            <tr>
              <td><a href={href("db", `${kind}.${t}`)}>{t}</a></td>
              <td>
                {admin && deleting?.id !== t && <button class="danger" onClick={() => setDeleting({ id: t, typed: "" })}>Delete</button>}
                {deleting?.id === t && (
                  <form class="inline" onSubmit={(e) => { e.preventDefault(); act(api.deleteTenant(kind, t)); setDeleting(null); }}>
                    <input aria-label="confirm tenant id" placeholder={`type ${t} to delete its data`} value={deleting.typed}
                      onInput={(e) => setDeleting({ id: t, typed: e.currentTarget.value })} />
                    <button class="danger" type="submit" disabled={deleting.typed !== t}>Delete {t} and its data</button>
                    <button type="button" class="secondary" onClick={() => setDeleting(null)}>Cancel</button>
                  </form>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
