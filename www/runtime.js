// The runtime panel: one workspace's files and commands through the gateway, from
// `await client.workspaces.runtime(id)`: a file browser (files.list) kept current by a file
// watcher, an editor (files.read, files.write), a terminal (xterm.js on rt.terminals), a badge
// with the socket's state (live.js), and a command box (exec.run with argv split on whitespace).
import { startLive, WATCH_ROOT } from "./live.js";
import { $, fmtBytes, fmtTime, h, showError, text, withBusy } from "./ui.js";

const HOME = "/app";

export function createRuntimePanel(app) {
  let rt = null; // WorkspaceRuntime
  let ws = null; // the workspace shown
  let seq = 0; // bumped on open/close: answers for an earlier workspace are dropped
  let cwd = HOME;
  let loadedPath = null;
  let dirty = false;
  let live = null; // terminal, watcher and connection badge of the workspace shown
  let watching = "off"; // the watcher: "off" | "starting" | "on"
  const changed = new Set(); // paths the watcher reported since the last listing
  let relistTimer = null;

  const body = $("rt-body");
  const editorPath = $("editor-path");
  const editorText = $("editor-text");
  const out = $("exec-out");

  const parentOf = (path) => path.replace(/\/[^/]*$/, "") || "/";
  const join = (dir, name) => (dir === "/" ? `/${name}` : `${dir}/${name}`);

  function setStatus(message, tone = "") {
    const el = $("editor-status");
    el.textContent = message;
    el.dataset.tone = tone;
  }

  function showShell(open) {
    body.hidden = !open;
    $("rt-empty").hidden = open;
    $("rt-close").hidden = !open;
  }

  /** Closes the terminal and the watcher of the workspace shown (resolves once they are). */
  function endLive() {
    clearTimeout(relistTimer);
    relistTimer = null;
    changed.clear();
    const ending = live?.close();
    live = null;
    return ending ?? Promise.resolve();
  }

  async function open(workspace) {
    const mine = ++seq;
    const previous = rt;
    endLive().then(() => previous?.free());
    ws = workspace;
    rt = null;
    showShell(true);
    text("rt-title", `Runtime · ${workspace.name}`);
    text("rt-gateway", "connecting…");
    $("file-list").replaceChildren();
    text("files-path", "");
    out.replaceChildren();
    editorPath.value = "";
    editorText.value = "";
    loadedPath = null;
    dirty = false;
    setStatus("");
    $("runtime").scrollIntoView({ behavior: "smooth", block: "start" });
    const runtime = await withBusy(null, `Connecting to ${workspace.name}`, () => app.client().workspaces.runtime(workspace.id));
    if (mine !== seq) return;
    if (!runtime) {
      text("rt-gateway", "not connected");
      return;
    }
    rt = runtime;
    const info = rt.tokenInfo;
    text("rt-gateway", info ? `gateway token until ${fmtTime(info.expiresAt)}` : "connected");
    $("runtime").dataset.workspace = workspace.id;
    live = startLive(rt, liveFiles);
    await browse(HOME);
    if (mine === seq) await openFile(join(HOME, "README.md"), { quiet: true });
  }

  /** Closes the panel; resolves once its terminal and watcher are closed at the gateway. */
  function close() {
    seq += 1;
    const ending = endLive();
    const runtime = rt;
    rt = null;
    ws = null;
    delete $("runtime").dataset.workspace;
    showShell(false);
    text("rt-title", "Runtime");
    text("rt-gateway", "");
    // The socket closed with its last terminal and watcher; free() releases the handle now
    // rather than when the garbage collector gets to it.
    return ending.then(() => runtime?.free());
  }

  // ---- the live file list: a watcher on WATCH_ROOT ----------------------------------------------

  const under = (path, dir) => path === dir || path.startsWith(dir === "/" ? "/" : `${dir}/`);

  function showLive() {
    const el = $("files-live");
    const covered = under(cwd, WATCH_ROOT);
    const state = watching === "on" ? (covered ? "on" : "off") : watching === "starting" ? "stale" : "off";
    el.dataset.state = state;
    el.textContent = state === "on" ? "live" : watching === "starting" ? "starting…" : "not live";
    el.title = watching !== "on"
      ? "No file watcher: use Reload or reopen the workspace"
      : covered
        ? `A file watcher on ${WATCH_ROOT} updates this list: files written in the terminal, by commands or by the editor appear without a reload`
        : `Only ${WATCH_ROOT} is watched: this folder is listed once`;
  }

  /** Lists the folder shown again, soon, once per burst of events. */
  function relistSoon() {
    if (relistTimer) return;
    relistTimer = setTimeout(async () => {
      relistTimer = null;
      if (rt) await browse(wanted, { highlight: true });
    }, 120);
  }

  const liveFiles = {
    watching(state) {
      watching = state;
      showLive();
    },
    /** A watcher event: list the folder shown again when the change is in it. */
    changed({ path, op }) {
      if (parentOf(path) !== wanted && path !== wanted) return;
      if (op !== "remove") changed.add(path);
      relistSoon();
    },
    /** Events may have been missed (the gateway's queue overflowed, or the socket was away). */
    overflow() {
      relistSoon();
    },
  };

  function renderCrumbs(path) {
    const parts = path.split("/").filter(Boolean);
    const crumbs = [h("button", { type: "button", class: "crumb", onclick: () => browse("/"), "aria-label": "Root directory" }, "/")];
    let acc = "";
    parts.forEach((part, i) => {
      acc += `/${part}`;
      const target = acc;
      if (i > 0) crumbs.push(h("span", { class: "sep", "aria-hidden": "true" }, "/"));
      crumbs.push(i === parts.length - 1
        ? h("span", { class: "crumb current", "aria-current": "location" }, part)
        : h("button", { type: "button", class: "crumb", onclick: () => browse(target) }, part));
    });
    $("files-path").replaceChildren(...crumbs);
  }

  let navigation = 0; // bumped by every browse: only the latest one may show its answer
  let wanted = HOME; // the folder the user asked for last (`cwd` follows once it is listed)
  async function browse(path, { highlight = false } = {}) {
    if (!rt) return;
    const mine = seq;
    const nav = ++navigation;
    wanted = path;
    const list = $("file-list");
    list.setAttribute("aria-busy", "true");
    try {
      const result = await rt.files.list({ path });
      // A newer browse (a click while a watcher's re-list was on the wire) wins.
      if (mine !== seq || nav !== navigation) return;
      cwd = result.path || path;
      renderCrumbs(cwd);
      showLive();
      const flash = highlight ? new Set(changed) : new Set();
      changed.clear();
      const entries = [...result.entries].sort((a, b) =>
        a.type === b.type ? a.name.localeCompare(b.name) : a.type === "directory" ? -1 : 1);
      const items = [];
      if (cwd !== "/") {
        items.push(h("li", {}, h("button", { type: "button", class: "file up", onclick: () => browse(parentOf(cwd)), "aria-label": "Parent directory" },
          h("span", { class: "icon dir", "aria-hidden": "true" }), h("span", { class: "fname" }, ".."))));
      }
      for (const entry of entries) {
        const isDir = entry.type === "directory";
        items.push(h("li", {},
          h("button", {
            type: "button",
            class: `file${entry.path === loadedPath ? " selected" : ""}${flash.has(entry.path) ? " changed" : ""}`,
            dataset: { testid: "file-entry", path: entry.path, type: entry.type },
            "aria-current": entry.path === loadedPath ? "true" : null,
            onclick: () => (isDir ? browse(entry.path) : openFile(entry.path)),
          },
          h("span", { class: `icon ${isDir ? "dir" : "doc"}`, "aria-hidden": "true" }),
          h("span", { class: "fname" }, entry.name),
          h("span", { class: "fsize muted" }, isDir ? "" : fmtBytes(entry.size))),
        ));
      }
      if (!entries.length) items.push(h("li", { class: "empty small" }, "Empty directory"));
      list.replaceChildren(...items);
    } catch (error) {
      if (mine === seq) showError(error, `Listing ${path}`);
    } finally {
      list.removeAttribute("aria-busy");
    }
  }

  function markSelected() {
    for (const button of $("file-list").querySelectorAll(".file[data-path]")) {
      const on = button.dataset.path === loadedPath;
      button.classList.toggle("selected", on);
      if (on) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    }
  }

  async function openFile(path, { quiet = false } = {}) {
    if (!rt || !path) return;
    const mine = seq;
    const button = $("editor-open");
    button.disabled = true;
    setStatus("Loading…");
    try {
      const file = await rt.files.read({ path });
      if (mine !== seq) return;
      editorPath.value = file.path || path;
      editorText.value = file.content;
      loadedPath = editorPath.value;
      dirty = false;
      setStatus(`${fmtBytes(file.size)} · loaded ${fmtTime(new Date())}`);
      markSelected();
    } catch (error) {
      if (mine !== seq) return;
      setStatus("");
      if (quiet) return;
      setStatus("Could not open", "bad");
      showError(error, `Opening ${path}`);
    } finally {
      button.disabled = false;
    }
  }

  async function save(event) {
    event?.preventDefault();
    if (!rt) return;
    const path = editorPath.value.trim();
    if (!path.startsWith("/")) {
      setStatus("The path must be absolute, e.g. /app/notes.txt", "bad");
      editorPath.focus();
      return;
    }
    const mine = seq;
    const content = editorText.value;
    setStatus("Saving…");
    const result = await withBusy($("editor-save"), `Saving ${path}`, () => rt.files.write({ path, content, createDirs: true }));
    if (mine !== seq) return;
    if (!result) {
      setStatus("Not saved", "bad");
      return;
    }
    loadedPath = result.path || path;
    dirty = false;
    setStatus(`Saved ${fmtTime(new Date())} · ${fmtBytes(result.size)}`, "good");
    // A new file (or new directories) in the folder shown: list it again.
    if (loadedPath.startsWith(cwd === "/" ? "/" : `${cwd}/`)) await browse(cwd);
    else markSelected();
  }

  function newFile() {
    let n = 1;
    const taken = new Set([...$("file-list").querySelectorAll(".file[data-path]")].map((b) => b.dataset.path));
    while (taken.has(join(cwd, `untitled-${n}.txt`))) n += 1;
    editorPath.value = join(cwd, `untitled-${n}.txt`);
    editorText.value = "";
    loadedPath = null;
    dirty = true;
    markSelected();
    setStatus("New file: not saved yet");
    editorText.focus();
  }

  async function run(event) {
    event.preventDefault();
    if (!rt) return;
    const line = $("exec-cmd").value.trim();
    const argv = line.split(/\s+/).filter(Boolean);
    if (!argv.length) return;
    const mine = seq;
    const entry = h("div", { class: "term-entry", dataset: { testid: "exec-entry" } },
      h("div", { class: "term-cmd" }, h("span", { class: "prompt", "aria-hidden": "true" }, "$ "), line));
    out.append(entry);
    const result = await withBusy($("exec-run"), `Running ${argv[0]}`, () => rt.exec.run(argv));
    if (mine !== seq) return;
    if (!result) {
      entry.append(h("div", { class: "term-meta bad" }, "failed: see the error"));
    } else {
      if (result.stdout) entry.append(h("div", { class: "term-stdout", dataset: { testid: "exec-stdout" } }, result.stdout.replace(/\n$/, "")));
      if (result.stderr) entry.append(h("div", { class: "term-stderr" }, result.stderr.replace(/\n$/, "")));
      const ms = result.duration_ms !== undefined ? ` · ${result.duration_ms} ms` : "";
      entry.append(h("div", { class: `term-meta ${result.exit_code === 0 ? "good" : "bad"}`, dataset: { testid: "exec-exit" } },
        `exit ${result.exit_code}${ms}`));
    }
    out.scrollTop = out.scrollHeight;
  }

  $("rt-close").addEventListener("click", () => close());
  $("files-new").addEventListener("click", newFile);
  $("editor-form").addEventListener("submit", save);
  $("editor-open").addEventListener("click", () => openFile(editorPath.value.trim()));
  $("exec-form").addEventListener("submit", run);
  editorText.addEventListener("input", () => {
    if (!dirty) setStatus("Unsaved changes", "warn");
    dirty = true;
  });
  editorText.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "s") save(event);
  });
  editorPath.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      openFile(editorPath.value.trim());
    }
  });

  return {
    open,
    close,
    /** Closes the panel when it shows workspace `id` (deleted). */
    closeIf(id) {
      if (ws?.id === id) close();
    },
  };
}
