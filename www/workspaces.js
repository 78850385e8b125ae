// The workspaces panel: the token's namespace's workspaces, a create form, and a poll of
// `workspaces.get(id)` for each workspace still provisioning, until it is ready (or failed).
import { $, fmtMemory, h, showError, sleep, text, withBusy } from "./ui.js";

const POLL_MS = 700;
const POLL_LIMIT_MS = 120_000;

/**
 * `app` gives: client() (the OblienUserClient), generation() (bumped on every tenant change, so
 * answers for the previous tenant are dropped), tenant(), open(workspace) (the runtime panel),
 * closed(id) (a deleted workspace's runtime must close).
 */
export function createWorkspacesPanel(app) {
  const rows = new Map(); // id -> <li>
  const watching = new Set();

  const list = $("ws-list");

  function statusOf(ws) {
    if (ws.provisioning?.state === "failed") return { label: "failed", tone: "bad" };
    if (ws.ready) return { label: "ready", tone: "good" };
    if (ws.status === "stopped") return { label: "stopped", tone: "idle" };
    const phase = ws.provisioning?.state && ws.provisioning.state !== ws.status ? ` · ${ws.provisioning.state}` : "";
    return { label: `${ws.status}${phase}`, tone: "busy" };
  }

  function render(ws) {
    const { label, tone } = statusOf(ws);
    const cpus = ws.resources?.cpus;
    const meta = [ws.image, cpus !== undefined ? `${cpus} vCPU` : null, ws.resources ? fmtMemory(ws.resources.memory_mb) : null]
      .filter(Boolean).join(" · ");
    const detail = !ws.ready && (ws.provisioning?.error || ws.provisioning?.message);
    const openBtn = h("button", {
      type: "button", class: "btn small", disabled: !ws.ready, dataset: { testid: "workspace-open" },
      "aria-label": `Open ${ws.name}`, onclick: () => app.open(ws),
    }, "Open");
    const deleteBtn = h("button", {
      type: "button", class: "btn small ghost danger", dataset: { testid: "workspace-delete" },
      "aria-label": `Delete ${ws.name}`, onclick: () => remove(ws, deleteBtn),
    }, "Delete");
    const row = h(
      "li",
      { class: `ws-row tone-${tone}`, dataset: { testid: "workspace-row", id: ws.id, status: ws.status, ready: String(!!ws.ready), name: ws.name } },
      h("span", { class: "dot", "aria-hidden": "true" }),
      h("div", { class: "ws-info" },
        h("div", { class: "ws-name" }, h("span", { dataset: { testid: "workspace-name" } }, ws.name), h("span", { class: "ws-id mono" }, ws.id)),
        h("div", { class: "ws-meta" }, meta),
        detail ? h("div", { class: "ws-detail" }, detail) : null,
      ),
      h("span", { class: `badge tone-${tone}`, dataset: { testid: "workspace-status" } }, label),
      h("div", { class: "ws-actions" }, openBtn, deleteBtn),
    );
    const old = rows.get(ws.id);
    if (old) old.replaceWith(row);
    rows.set(ws.id, row);
    return row;
  }

  function updateCount() {
    const n = rows.size;
    text("ws-count", `${n} in ${app.tenant()}`);
    const empty = list.querySelector(".empty");
    if (n === 0 && !empty) {
      list.append(h("li", { class: "empty", dataset: { testid: "workspace-empty" } },
        `No workspaces in ${app.tenant()} yet. Create one: it is ready in a couple of seconds.`));
    } else if (n > 0 && empty) {
      empty.remove();
    }
  }

  /** Polls one workspace until it is ready, failed, gone, or the tenant changed. */
  async function watch(id) {
    if (watching.has(id)) return;
    watching.add(id);
    const gen = app.generation();
    const started = Date.now();
    try {
      while (gen === app.generation() && rows.has(id) && Date.now() - started < POLL_LIMIT_MS) {
        await sleep(POLL_MS);
        if (gen !== app.generation() || !rows.has(id)) return;
        let ws;
        try {
          ws = await app.client().workspaces.get(id);
        } catch (error) {
          if (gen === app.generation()) showError(error, `Checking ${id}`);
          return;
        }
        if (gen !== app.generation() || !rows.has(id)) return;
        render(ws);
        if (ws.ready || ws.provisioning?.state === "failed") return;
      }
    } finally {
      watching.delete(id);
    }
  }

  async function reload() {
    const gen = app.generation();
    const button = $("ws-reload");
    await withBusy(button, "Listing workspaces", async () => {
      list.setAttribute("aria-busy", "true");
      try {
        const { workspaces } = await app.client().workspaces.list({ limit: 50 });
        if (gen !== app.generation()) return;
        rows.clear();
        list.replaceChildren(...workspaces.map(render));
        updateCount();
        for (const ws of workspaces) if (!ws.ready && ws.provisioning?.state !== "failed") watch(ws.id);
      } finally {
        list.removeAttribute("aria-busy");
      }
    });
  }

  async function create(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const params = {
      image: String(data.get("image")).trim(),
      config: { cpus: Number(data.get("cpus")), memory_mb: Number(data.get("memory")) },
    };
    const gen = app.generation();
    await withBusy($("create-submit"), `Creating a ${params.image || "?"} workspace`, async () => {
      const ws = await app.client().workspaces.create(params);
      if (gen !== app.generation()) return;
      list.prepend(render(ws));
      updateCount();
      if (!ws.ready) watch(ws.id);
    });
  }

  async function remove(ws, button) {
    const gen = app.generation();
    await withBusy(button, `Deleting ${ws.name}`, async () => {
      await app.client().workspaces.delete(ws.id);
      if (gen !== app.generation()) return;
      rows.get(ws.id)?.remove();
      rows.delete(ws.id);
      updateCount();
      app.closed(ws.id);
    });
  }

  $("create-form").addEventListener("submit", create);
  $("ws-reload").addEventListener("click", reload);

  return {
    reload,
    reset() {
      rows.clear();
      list.replaceChildren();
      text("ws-count", "");
    },
  };
}
