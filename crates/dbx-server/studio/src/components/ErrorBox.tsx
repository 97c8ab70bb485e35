import type { ApiError } from "../api";

export function ErrorBox({ error }: { error: ApiError | Error | null }) {
  if (!error) return null;
  const kind = "kind" in error ? (error as ApiError).kind : "error";
  return (
    <div class="error" role="alert" data-testid="error">
      <strong>{kind}</strong> {error.message}
    </div>
  );
}
