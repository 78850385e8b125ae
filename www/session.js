// The token panel: what the current token says (never the token itself), a live countdown to its
// expiry with a mark where the client will refresh it, and a log of every token change.
import { $, fmtTime, h, text } from "./ui.js";

const MAX_LOG = 40;

let current = null; // { info, receivedAt, lifetimeMs, marginMs }
let timer = null;
let refreshes = 0;

/** The client's default margin: min(60 s, lifetime / 4). */
const defaultMarginMs = (lifetimeMs) => Math.min(60_000, lifetimeMs / 4);

/** Shows a token's info and restarts the countdown from it. */
export function showToken(info, tenant) {
  const receivedAt = Date.now();
  // TokenInfo has the local deadline and the server's iat, not the lifetime: exp - iat is the
  // lifetime, and expiresAt is "receipt + lifetime", so the receipt time is the best base here.
  const lifetimeMs = Math.max(1000, info.expiresAt.getTime() - receivedAt);
  current = { info, receivedAt, lifetimeMs, marginMs: defaultMarginMs(lifetimeMs) };
  text("token-tenant", tenant);
  text("token-scope", info.scope);
  text("token-namespace", info.namespace ?? "–");
  text("token-label", info.label ?? "–");
  text("token-issued", info.issuedAt ? fmtTime(info.issuedAt) : "–");
  text("token-expires", fmtTime(info.expiresAt));
  const markPct = (current.marginMs / lifetimeMs) * 100;
  $("countdown-mark").style.left = `${markPct}%`;
  text(
    "countdown-hint",
    `Lifetime ${Math.round(lifetimeMs / 1000)} s. The client calls your backend for a new token ` +
      `${Math.round(current.marginMs / 1000)} s before expiry (the mark), with reason "expiring".`,
  );
  tick();
  if (!timer) timer = setInterval(tick, 200);
}

function tick() {
  if (!current) return;
  const leftMs = current.info.expiresAt.getTime() - Date.now();
  const pct = Math.max(0, Math.min(100, (leftMs / current.lifetimeMs) * 100));
  const bar = $("countdown");
  $("countdown-fill").style.width = `${pct}%`;
  bar.setAttribute("aria-valuenow", String(Math.round(pct)));
  const left = Math.max(0, Math.ceil(leftMs / 1000));
  bar.setAttribute("aria-valuetext", `${left} seconds left`);
  bar.dataset.state = leftMs <= 0 ? "expired" : leftMs <= current.marginMs ? "due" : "ok";
  text("countdown-text", leftMs <= 0 ? "expired" : `${left} s`);
}

/** Adds a line to the refresh log: `reason` is the client's ctx.reason, or what the page did. */
export function logTokenChange({ reason, info, tenant, kind = "refresh" }) {
  if (kind === "refresh") refreshes += 1;
  const item = h(
    "li",
    { class: `log-item ${kind}`, dataset: { testid: "refresh-entry", reason, kind } },
    h("time", { class: "mono", datetime: new Date().toISOString() }, fmtTime(new Date())),
    h("span", { class: `reason reason-${reason.replace(/[^a-z-]/g, "")}`, dataset: { testid: "refresh-reason" } }, reason),
    h("span", { class: "log-detail" },
      tenant ? h("span", { class: "muted" }, `${tenant} · `) : null,
      "expires ",
      h("span", { class: "mono" }, fmtTime(info.expiresAt)),
    ),
  );
  const log = $("refresh-log");
  log.prepend(item);
  while (log.children.length > MAX_LOG) log.lastElementChild.remove();
  text("refresh-count", refreshes === 1 ? "1 automatic refresh" : `${refreshes} automatic refreshes`);
}

/** Adds a failed refresh to the log: the client's error, and the backend's when the page saw it. */
export function logRefreshFailure({ reason, error, cause, tenant }) {
  const why = cause?.code ? `${cause.code}${cause.status ? ` ${cause.status}` : ""}` : error.code;
  const item = h(
    "li",
    { class: "log-item failed", dataset: { testid: "refresh-entry", reason: "failed", kind: "failed" } },
    h("time", { class: "mono", datetime: new Date().toISOString() }, fmtTime(new Date())),
    h("span", { class: "reason reason-failed", dataset: { testid: "refresh-reason" } }, "failed"),
    h("span", { class: "log-detail", title: reason ? `refresh reason: ${reason}` : null },
      tenant ? h("span", { class: "muted" }, `${tenant} · `) : null,
      h("span", { class: "mono" }, why),
    ),
  );
  const log = $("refresh-log");
  log.prepend(item);
  while (log.children.length > MAX_LOG) log.lastElementChild.remove();
}

export function resetSession() {
  clearInterval(timer);
  timer = null;
  current = null;
  refreshes = 0;
  $("refresh-log").replaceChildren();
  text("refresh-count", "");
}
