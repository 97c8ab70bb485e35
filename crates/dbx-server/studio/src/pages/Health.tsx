import { useEffect, useState } from "preact/hooks";
import { api, BASE, type Health } from "../api";
import { ErrorBox } from "../components/ErrorBox";

const REFRESH_MS = 5000;

export function HealthPage() {
  const [health, setHealth] = useState<Health | null>(null);
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    const load = () => api.health().then((h) => { setHealth(h); setError(null); }).catch(setError);
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  return (
    <div>
      <h2>Health: <span data-testid="health-status" class={`badge ${health?.status ?? ""}`}>{health?.status ?? "…"}</span></h2>
      <ErrorBox error={error} />
      <table class="grid">
        <thead><tr><th>adapter</th><th>ok</th><th>check latency</th><th>pool in use</th><th>idle</th><th>max</th><th>error</th></tr></thead>
        <tbody>
          {health?.adapters.map((a) => (
            <tr>
              <td>{a.kind}</td><td>{a.ok ? "yes" : "no"}</td><td>{a.latency_ms.toFixed(1)} ms</td>
              <td>{a.pool_in_use}</td><td>{a.pool_idle}</td><td>{a.pool_max}</td><td>{a.error ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted">Refreshed every {REFRESH_MS / 1000} s. Prometheus metrics: <a href={`${BASE}/metrics`}>{BASE}/metrics</a>.</p>
    </div>
  );
}
