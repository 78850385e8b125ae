// "Your backend". In a real SaaS this is your own endpoint, behind your own login: it holds the
// Oblien admin key and mints a short-lived token scoped to the signed-in user's namespace
// (POST /tokens). Here the emulator plays it: `--demo` enables POST /demo/session, which creates
// the tenant's namespace when missing and returns a namespace token. The page never sees a secret.

/** A failure of the backend call, shaped like OblienError (code, status, message, requestId). */
export class BackendError extends Error {
  constructor(message, { code, status, requestId } = {}) {
    super(message);
    this.name = "BackendError";
    this.code = code;
    this.status = status;
    this.requestId = requestId;
  }
}

/**
 * Asks the backend for a token for `tenant`. Resolves with
 * `{ token, expiresAt, scope, namespace, label, ttl }`.
 */
export async function demoSession(tenant, { ttl, signal } = {}) {
  const body = { tenant };
  if (ttl) body.ttl = ttl;
  let res;
  try {
    res = await fetch("/demo/session", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      signal,
    });
  } catch (error) {
    if (signal?.aborted) throw new BackendError("The session request was cancelled", { code: "aborted" });
    throw new BackendError(`Your backend is unreachable (${error.message})`, { code: "network_error" });
  }
  const requestId = res.headers.get("x-request-id") ?? undefined;
  let json = null;
  try {
    json = await res.json();
  } catch {
    // not JSON: handled below
  }
  if (res.ok && json?.success && typeof json.token === "string") return json;
  if (res.status === 404 || res.status === 405) {
    throw new BackendError("POST /demo/session is not served: start the emulator with --demo (make demo does)", {
      code: "demo_disabled", status: res.status, requestId,
    });
  }
  throw new BackendError(json?.message ?? `POST /demo/session answered HTTP ${res.status}`, {
    code: json?.code ?? "backend_error", status: res.status, requestId,
  });
}
