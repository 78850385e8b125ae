// The demo page: sign in as a demo tenant, watch the token refresh itself, manage workspaces,
// swap tenants without a reload, and work inside a workspace's runtime.
//
// Query parameters: ?gateway=http://127.0.0.1:PORT (default: this host, port 8788) and
// ?ttl=SECONDS (the lifetime asked of the backend; default: the emulator's --demo-token-ttl).
import init, { OblienUserClient, version } from "./pkg/oblien_user_client.js";
import { demoSession } from "./backend.js";
import { createRuntimePanel } from "./runtime.js";
import { logRefreshFailure, logTokenChange, resetSession, showToken } from "./session.js";
import { $, clearErrors, h, showError, text, withBusy } from "./ui.js";
import { createWorkspacesPanel } from "./workspaces.js";

const TENANTS = [
  { slug: "acme", name: "Acme Corp", blurb: "Rockets, anvils, portable holes" },
  { slug: "globex", name: "Globex Corporation", blurb: "Definitely just a utility company" },
];

const params = new URLSearchParams(location.search);
const gatewayUrl = params.get("gateway") || `${location.protocol}//${location.hostname}:8788`;
const ttl = params.has("ttl") ? Number(params.get("ttl")) : undefined;

let client = null; // OblienUserClient while signed in
let tenant = null; // the tenant whose token the client holds
let generation = 0; // bumped on every sign-in, switch and sign-out
let refreshReason = null; // ctx.reason of the refresh in flight
let pageChanges = 0; // setToken calls whose onTokenChange the page has already logged
let backendFailure = null; // why the backend refused the refresh in flight (refresh_failed keeps only its message)

const app = {
  client: () => client,
  tenant: () => tenant,
  generation: () => generation,
  open: (ws) => runtime.open(ws),
  closed: (id) => runtime.closeIf(id),
};
const workspaces = createWorkspacesPanel(app);
const runtime = createRuntimePanel(app);

// ---- the client's refresh callback and events -------------------------------------------------

/** Called by the client before the token expires (or after a 401): asks the backend again. */
async function refresh(ctx) {
  refreshReason = ctx.reason;
  backendFailure = null;
  try {
    // If the tenant is switched while the backend answers, the client drops this answer itself:
    // a refresh that began before setToken never replaces the newer token.
    const session = await demoSession(tenant, { ttl, signal: ctx.signal });
    return session.token;
  } catch (error) {
    backendFailure = error;
    throw error;
  }
}

function onTokenChange(info) {
  if (pageChanges > 0) {
    pageChanges -= 1; // a setToken of the page's own, already logged
    return;
  }
  showToken(info, tenant);
  logTokenChange({ reason: refreshReason ?? "refresh", info, tenant });
  refreshReason = null;
}

function onRefreshError(error) {
  const reason = refreshReason;
  const cause = backendFailure;
  refreshReason = null;
  backendFailure = null;
  const backend = cause?.code ? ` (your backend: ${cause.code}${cause.status ? `, HTTP ${cause.status}` : ""})` : "";
  showError(error, `Refreshing the session token${backend}`);
  logRefreshFailure({ reason, error, cause, tenant });
}

// ---- sign in, switch, sign out ----------------------------------------------------------------

function tenantName(slug) {
  return TENANTS.find((t) => t.slug === slug)?.name ?? slug;
}

function renderSignIn() {
  const options = TENANTS.map((t, i) =>
    h("label", { class: "tenant-option" },
      h("input", { type: "radio", name: "tenant", value: t.slug, checked: i === 0, dataset: { testid: `tenant-${t.slug}` } }),
      h("span", { class: "tenant-mark", "aria-hidden": "true" }, t.name[0]),
      h("span", { class: "tenant-text" }, h("strong", {}, t.name), h("span", { class: "muted small" }, `${t.slug} · ${t.blurb}`)),
    ));
  $("tenant-options").replaceChildren(...options);
  text("signin-hint", ttl
    ? `Tokens live ${ttl} s (?ttl=${ttl}), so you will see the client refresh them.`
    : "Tokens live as long as the emulator's --demo-token-ttl (60 s by default). Add ?ttl=12 to see refreshes sooner.");
}

function renderTenantSwitch() {
  const buttons = TENANTS.map((t) =>
    h("button", {
      type: "button",
      class: "seg",
      "aria-pressed": String(t.slug === tenant),
      dataset: { testid: `switch-${t.slug}` },
      title: t.slug === tenant ? `Signed in to ${t.name}` : `Switch to ${t.name} (setToken, no reload)`,
      onclick: (event) => t.slug !== tenant && switchTenant(t.slug, event.currentTarget),
    }, t.slug));
  $("tenant-switch").replaceChildren(...buttons);
}

function showSignedIn(signedIn) {
  $("signin").hidden = signedIn;
  $("app").hidden = !signedIn;
  $("session-controls").hidden = !signedIn;
  document.body.dataset.state = signedIn ? "signed-in" : "signed-out";
}

async function signIn(event) {
  event.preventDefault();
  const chosen = new FormData(event.currentTarget).get("tenant") ?? TENANTS[0].slug;
  await withBusy($("sign-in"), `Signing in to ${chosen}`, async () => {
    const session = await demoSession(chosen, { ttl });
    const created = new OblienUserClient({
      token: session.token,
      baseUrl: location.origin,
      gatewayUrl,
      refresh,
      onTokenChange,
      onRefreshError,
    });
    client = created;
    tenant = chosen;
    generation += 1;
    clearErrors();
    const info = client.tokenInfo;
    showToken(info, tenant);
    logTokenChange({ reason: "sign-in", info, tenant, kind: "page" });
    renderTenantSwitch();
    document.title = `${tenantName(tenant)} · Workspaces`;
    showSignedIn(true);
    await workspaces.reload();
  });
}

/** The hot swap: a token for the other tenant from the backend, then client.setToken. */
async function switchTenant(next, button) {
  if (!client) return;
  await withBusy(button, `Switching to ${next}`, async () => {
    const session = await demoSession(next, { ttl });
    // The runtime's terminal and watcher are closed while the token can still reach them.
    await runtime.close();
    pageChanges += 1;
    let info;
    try {
      info = client.setToken(session.token);
    } catch (error) {
      pageChanges -= 1;
      throw error;
    }
    tenant = next;
    generation += 1;
    showToken(info, tenant);
    logTokenChange({ reason: "switch", info, tenant, kind: "page" });
    renderTenantSwitch();
    document.title = `${tenantName(tenant)} · Workspaces`;
    workspaces.reset();
    await workspaces.reload();
  });
}

async function signOut() {
  generation += 1;
  const old = client;
  client = null;
  tenant = null;
  pageChanges = 0;
  refreshReason = null;
  backendFailure = null;
  // The runtime's terminal and watcher are closed at the gateway before the client is disposed.
  const closing = runtime.close();
  workspaces.reset();
  resetSession();
  clearErrors();
  document.title = "Workspaces · oblien-user-client demo";
  showSignedIn(false);
  await closing;
  old?.dispose();
}

// ---- boot -------------------------------------------------------------------------------------

window.addEventListener("unhandledrejection", (event) => showError(event.reason, "Unexpected failure"));
window.addEventListener("error", (event) => showError(event.error ?? event.message, "Unexpected error"));

text("api-origin", location.origin);
text("gateway-origin", gatewayUrl);
renderSignIn();
$("signin-form").addEventListener("submit", signIn);
$("sign-out").addEventListener("click", signOut);

try {
  await init();
  text("version", `v${version()}`);
  $("boot").hidden = true;
  showSignedIn(false);
} catch (error) {
  text("version", "not loaded");
  text("boot", "The client package did not load from ./pkg/. Run `make demo`, which builds it and copies it there.");
  $("boot").classList.add("bad");
  showError(error, "Loading oblien_user_client");
}
