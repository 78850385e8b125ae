// The second way of the README: the app resolves the .wasm URL itself and passes it to init().
// `?url` is Vite's own asset import (no plugin): the file is emitted under assets/ with a hash.
import wasmUrl from "oblien-user-client/oblien_user_client_bg.wasm?url";
import init, { OblienUserClient, version } from "oblien-user-client";

declare global {
  interface Window {
    __result?: unknown;
  }
}

const params = new URLSearchParams(location.search);
const list = document.querySelector<HTMLUListElement>('[data-testid="workspaces"]')!;

async function main() {
  await init({ module_or_path: wasmUrl });
  const client = new OblienUserClient({
    token: params.get("token") ?? "",
    baseUrl: params.get("api") ?? undefined,
    gatewayUrl: params.get("gateway") ?? undefined,
  });
  try {
    const { workspaces, total } = await client.workspaces.list();
    for (const ws of workspaces) {
      const li = document.createElement("li");
      li.dataset.testid = "workspace";
      li.dataset.id = ws.id;
      li.textContent = ws.name;
      list.append(li);
    }
    return { ok: true, wasmUrl, version: version(), total, workspaces: workspaces.map(({ id, name, status }) => ({ id, name, status })) };
  } finally {
    client.dispose();
  }
}

main().then(
  (result) => (window.__result = result),
  (err: unknown) => (window.__result = { ok: false, error: String(err instanceof Error ? err.stack ?? err.message : err) }),
);
