import { useState } from "preact/hooks";

export function Login({ refusal, onToken }: { refusal: string | null; onToken: (token: string) => void }) {
  const [token, setToken] = useState("");
  return (
    <main class="login">
      <form onSubmit={(e) => { e.preventDefault(); onToken(token.trim()); }}>
        <h1>dbx Studio</h1>
        <p>This server checks tokens. Paste one made by <code>dbx token create --role admin|rw|ro</code>.</p>
        <textarea name="token" rows={4} placeholder="eyJhbGciOiJFZERTQSIs…" value={token}
          onInput={(e) => setToken(e.currentTarget.value)} />
        {refusal && <div class="error" role="alert">{refusal}</div>}
        <button type="submit" disabled={!token.trim()}>Log in</button>
        <p class="hint">The token stays in this browser tab only.</p>
      </form>
    </main>
  );
}
