// Small DOM and formatting helpers shared by the page's modules. No framework: `h()` builds
// elements (text is always set as text, never parsed as HTML), `showError()` turns any failure
// into a readable, dismissable message with its code.
import { isOblienError } from "./pkg/oblien_user_client.js";

export const $ = (id) => document.getElementById(id);

/** h("li", { class: "x", dataset: { id }, onclick }, "text", child, …) */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export const text = (id, value) => {
  $(id).textContent = value ?? "";
};

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
export const fmtTime = (date) => (date ? timeFormat.format(date) : "–");

export function fmtBytes(n) {
  if (!Number.isFinite(n)) return "";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function fmtMemory(mb) {
  return mb >= 1024 && mb % 1024 === 0 ? `${mb / 1024} GB` : `${mb} MB`;
}

/** The parts of an error worth showing: OblienError's, a backend error's, or anything else's. */
export function describeError(error) {
  if (isOblienError(error) || error?.name === "BackendError") {
    return {
      code: error.code ?? "error",
      status: error.status,
      message: error.message,
      requestId: error.requestId,
      retryAfter: error.retryAfter,
    };
  }
  if (error instanceof Error) return { code: error.name || "error", message: error.message };
  return { code: "error", message: String(error) };
}

const MAX_TOASTS = 4;

/** Shows an error (with what was being done) until dismissed. Returns the element (null if not shown). */
export function showError(error, doing) {
  const e = describeError(error);
  // `disposed` only ever follows the page's own sign-out (client.dispose()): calls still in flight
  // then end with it, and that is not news to the person who just signed out.
  if (e.code === "disposed") {
    console.info(`${doing ?? "A call"} ended by sign-out (disposed)`);
    return null;
  }
  const meta = [
    e.status ? `HTTP ${e.status}` : null,
    e.retryAfter ? `retry after ${e.retryAfter} s` : null,
    e.requestId ? `request ${e.requestId}` : null,
  ].filter(Boolean);
  const toast = h(
    "div",
    { class: "toast", role: "alert", dataset: { testid: "error", code: e.code } },
    h("div", { class: "toast-head" },
      h("code", { class: "code", dataset: { testid: "error-code" } }, e.code),
      doing ? h("span", { class: "toast-doing" }, doing) : null,
      h("button", { type: "button", class: "toast-close", "aria-label": "Dismiss error", onclick: () => toast.remove() }, "×"),
    ),
    h("p", { class: "toast-msg", dataset: { testid: "error-message" } }, e.message),
    meta.length ? h("p", { class: "toast-meta mono" }, meta.join(" · ")) : null,
  );
  const box = $("errors");
  box.prepend(toast);
  while (box.children.length > MAX_TOASTS) box.lastElementChild.remove();
  console.warn(`[${e.code}]${e.status ? ` HTTP ${e.status}` : ""} ${doing ?? ""}: ${e.message}`);
  return toast;
}

export function clearErrors() {
  $("errors").replaceChildren();
}

/**
 * Runs `fn` with `button` disabled and marked busy; any failure is shown with `doing`.
 * Resolves with fn's result, or undefined when it failed.
 */
export async function withBusy(button, doing, fn) {
  if (button) {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
  }
  try {
    return await fn();
  } catch (error) {
    showError(error, doing);
    return undefined;
  } finally {
    if (button) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
