// One tab of the crossTab test (tests/crosstab/run.mjs): a client whose refresh callback asks the
// node runner (the test's "backend") for a token. The runner reads the tab's state through
// window.tab; the tab never shows a token, only what tokenInfo says.
import init, { OblienUserClient } from "/pkg/oblien_user_client.js";

await init();
let client = null;
const changes = [];
const errors = [];

window.tab = {
  start({ api, token, crossTab, refreshTtl }) {
    client = new OblienUserClient({
      token,
      baseUrl: api,
      crossTab,
      refresh: async (ctx) => window.__hostRefresh(ctx.reason, refreshTtl),
      onTokenChange: (info) => changes.push({ source: info.source, exp: info.expiresAt.getTime() }),
      onRefreshError: (e) => errors.push(e.code),
    });
    return client.crossTab;
  },
  info() {
    const i = client.tokenInfo;
    return { namespace: i.namespace, issuedAt: i.issuedAt?.getTime(), lifetime: i.lifetimeSeconds, source: i.source };
  },
  changes: () => changes.slice(),
  errors: () => errors.slice(),
  async list() {
    try {
      return (await client.workspaces.list()).total;
    } catch (e) {
      return `error ${e.code}`;
    }
  },
  setToken(token) {
    return client.setToken(token).source;
  },
  dispose() {
    client.dispose();
  },
  async storage() {
    const dbs = indexedDB.databases ? (await indexedDB.databases()).length : 0;
    return { local: localStorage.length, session: sessionStorage.length, cookies: document.cookie, indexedDB: dbs };
  },
};
window.__ready?.();
