// A minimal app using the package the way its README says: `init()` once, then the client.
// TEST-ONLY: the API and gateway URLs and the scoped token come from the page's query string
// (tests/consumer/run.mjs mints the token); a real app gets its token from its own backend.
import init, { OblienUserClient, isOblienError, version, type Workspace } from "oblien-user-client";

interface ConsumerResult {
  ok: boolean;
  version?: string;
  scope?: string;
  workspaces?: { id: string; name: string; status: string }[];
  total?: number;
  error?: string;
  code?: string;
}

declare global {
  interface Window {
    __result?: unknown;
  }
}

const params = new URLSearchParams(location.search);
const status = document.querySelector<HTMLElement>('[data-testid="status"]')!;
const list = document.querySelector<HTMLUListElement>('[data-testid="workspaces"]')!;

function render(workspaces: Workspace[]): void {
  list.replaceChildren(
    ...workspaces.map((ws) => {
      const li = document.createElement("li");
      li.dataset.testid = "workspace";
      li.dataset.id = ws.id;
      li.textContent = `${ws.name} (${ws.status})`;
      return li;
    }),
  );
}

let loaded = false; // isOblienError is a wasm export: usable only once the module is loaded

async function main(): Promise<ConsumerResult> {
  await init();
  loaded = true;
  const client = new OblienUserClient({
    token: params.get("token") ?? "",
    baseUrl: params.get("api") ?? undefined,
    gatewayUrl: params.get("gateway") ?? undefined,
  });
  try {
    const page = await client.workspaces.list({ limit: 50 });
    render(page.workspaces);
    status.textContent = `${page.total} workspace(s)`;
    return {
      ok: true,
      version: version(),
      scope: client.tokenInfo.scope,
      total: page.total,
      workspaces: page.workspaces.map((ws) => ({ id: ws.id, name: ws.name, status: ws.status })),
    };
  } finally {
    client.dispose();
  }
}

main().then(
  (result) => {
    window.__result = result;
  },
  (err: unknown) => {
    status.textContent = "failed";
    window.__result =
      loaded && isOblienError(err)
      ? { ok: false, error: err.message, code: err.code }
      : { ok: false, error: String(err) };
  },
);
