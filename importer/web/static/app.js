// Number Block Importer: the page. Everything is checked and decided by the server; this file
// only shows what it says. Every text from a file or the API (headers, sheet and file names,
// cells, messages) is inserted with textContent, never as HTML: Tabulator is given neutral
// titles and tooltips and our formatters build text nodes. Cell values are never parsed as
// numbers or dates.
"use strict";

const $ = (id) => document.getElementById(id);
// busy: a run of the file on screen is in progress; the server takes no change to it then.
const state = { doc: null, sheet: 0, table: null, run: null, target: null, poll: null, busy: false };
// Unsafe requests carry this page's own secret (a cookie alone authorises no change). The
// load that spent the key in the address got it in its fragment (#page=...); it is kept in
// localStorage, which only this page's origin (port included) can read, for reloads and other
// tabs; never in the page the server sends (security.py says why).
const PAGE = document.querySelector('meta[name="importer-page"]');
const SECRET = (function pageSecret() {
  const key = `importer-page:${PAGE.dataset.launch}`;
  const given = /^#page=([\w-]+)$/.exec(location.hash);
  try {
    for (const old of Object.keys(localStorage)) {  // earlier launches' secrets
      if (old.startsWith("importer-page:") && old !== key) localStorage.removeItem(old);
    }
    if (given) localStorage.setItem(key, given[1]);
  } catch (e) { /* storage refused: this tab keeps it until it is reloaded */ }
  if (given) history.replaceState(null, "", location.pathname + location.search);
  try { return given ? given[1] : localStorage.getItem(key) || ""; } catch (e) { return ""; }
})();
const HINT = "Click a red or yellow cell to see what is wrong; click any cell to change it. "
  + "By keyboard: Tab into the grid, arrow keys to move, Enter to change a cell, Escape to cancel.";
const STATUSES = ["OK", "VALID", "INVALID", "REJECTED", "FAILED", "UNKNOWN", "SKIPPED"];

async function api(path, options = {}) {
  const init = { credentials: "same-origin", ...options, headers: {} };
  if (options.json !== undefined) {
    init.method = options.method || "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.json);
  }
  if ((init.method || "GET").toUpperCase() !== "GET") init.headers[PAGE.dataset.header] = SECRET;
  const response = await fetch(path, init);
  let body = {};
  try { body = await response.json(); } catch (e) { body = {}; }
  if (!response.ok) {
    const error = new Error(body.error || `The server answered ${response.status}.`);
    error.status = response.status;
    error.body = body;
    throw error;
  }
  return body;
}

function say(id, text, bad = false) {
  const el = $(id);
  el.textContent = text || "";
  el.classList.toggle("bad", bad);
}

// --- steps ------------------------------------------------------------------------------

function show(step) {
  for (const panel of document.querySelectorAll(".step-panel")) {
    panel.hidden = panel.id !== `step-${step}`;
  }
  for (const button of document.querySelectorAll(".steps .step")) {
    button.classList.toggle("current", button.dataset.step === step);
  }
  if (step === "review") whenBuilt((table) => { table.setHeight(gridHeight()); table.redraw(true); });
  if (typeof onStep === "function") onStep(step);  // history.js: downloads and earlier runs
}

// Tabulator builds a table a moment after it is made (a sheet tab was just clicked): a redraw
// or resize before that fails on elements that do not exist yet, so it waits.
function whenBuilt(action) {
  const table = state.table;
  if (!table) return;
  if (table.initialized) action(table);
  else table.on("tableBuilt", () => { if (table === state.table) action(table); });
}

function enableSteps() {
  const has = (step) => document.querySelector(`.steps [data-step="${step}"]`);
  has("review").disabled = !state.doc;
  has("run").disabled = !state.doc;
  has("results").disabled = !(state.run && ["done", "failed"].includes(state.run.state));
}

// --- the target (sandbox or API account) --------------------------------------------------

function showTarget(target) {
  state.target = target;
  const el = $("target");
  el.textContent = "";
  $("change-account").hidden = !target.ready || target.sandbox;
  if (!target.ready) {
    el.textContent = target.refused ? "The API refused the account: enter it again below."
      : "No API account yet: enter it below before sending.";
    $("credentials-card").hidden = false;
    say("credentials-status", target.refused || "", Boolean(target.refused));
    for (const [name, value] of Object.entries(target.offered || {})) {
      const field = $("credentials").elements[name];
      if (field && !field.value) field.value = value;
    }
    return;
  }
  $("credentials-card").hidden = true;
  say("credentials-status", "");
  const where = document.createElement("span");
  where.className = target.sandbox ? "badge sandbox" : "badge live";
  where.textContent = target.sandbox ? "Sandbox: nothing real is bought" : "Live API";
  // The sandbox's own address is an internal detail (a port of this computer): not shown.
  el.append(where, target.sandbox ? ` as ${target.account_sid}` : ` ${target.base_url} as ${target.account_sid}`);
}

// Another account (or a corrected token): the form, filled with what is known; the account in
// use stays until the API has accepted the new one.
$("change-account").addEventListener("click", () => {
  const fields = $("credentials").elements;
  if (!fields.account_sid.value) fields.account_sid.value = state.target.account_sid || "";
  if (!fields.base_url.value) fields.base_url.value = state.target.base_url || "";
  $("credentials-card").hidden = false;
  show("start");
  fields.auth_token.focus();
});

$("credentials").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  say("credentials-status", "Checking them with the API…");
  try {
    showTarget(await api("/api/credentials", { json: Object.fromEntries(form) }));
    event.target.reset();
  } catch (error) {
    say("credentials-status", error.message, true);
  }
});

// --- upload -------------------------------------------------------------------------------

async function upload(file) {
  if (!file) return;
  say("upload-status", `Checking ${file.name}…`);
  const form = new FormData();
  form.append("file", file);
  try {
    const summary = await api("/api/documents", { method: "POST", body: form });
    say("upload-status", "");
    if (summary.mapping) showMapping(summary.mapping);  // mapping.js: which column is which
    else openDocument(summary);
  } catch (error) {
    say("upload-status", error.message, true);
  }
}

$("file").addEventListener("change", (event) => upload(event.target.files[0]));
const drop = $("drop");
for (const name of ["dragenter", "dragover"]) {
  drop.addEventListener(name, (event) => { event.preventDefault(); drop.classList.add("over"); });
}
for (const name of ["dragleave", "drop"]) {
  drop.addEventListener(name, () => drop.classList.remove("over"));
}
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  upload(event.dataTransfer.files[0]);
});

// --- export: the blocks already owned, opened in the grid as an uploaded file --------------

$("export").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = Object.fromEntries(new FormData(event.target));
  say("export-status", `Listing the blocks of ${form.scope} ${form.sid}…`);
  try {
    const done = await api("/api/exports", { json: form });
    say("export-status", "");
    state.exported = { doc: done.document.id, href: done.download };
    openDocument(done.document);
    const notes = (done.notes || []).join(" ");
    say("message-bar", `${counted(done.count, "block", "blocks")} exported: change what should change; only those rows are sent. ${notes}`);
  } catch (error) {
    say("export-status", error.message, true);
  }
});

// --- the grid -----------------------------------------------------------------------------

// "1 row", "20,000 rows": a count as people write it.
function counted(n, one, many) {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

function chip(status, count) {
  const el = document.createElement("span");
  el.className = `chip s-${status.toLowerCase()}`;
  el.textContent = count === undefined ? status : `${status} ${count.toLocaleString()}`;
  return el;
}

function showCounts(container, counts) {
  container.textContent = "";
  for (const status of STATUSES) {
    if (counts && counts[status]) container.append(chip(status, counts[status]));
  }
}

function textCell(cell) {
  const data = cell.getRow().getData();
  const field = cell.getField();
  const el = cell.getElement();
  const mark = (data._marks || {})[field];
  el.classList.remove("cell-error", "cell-warning");
  el.removeAttribute("title");
  el.removeAttribute("aria-invalid");
  el.removeAttribute("aria-description");
  if (mark) {
    el.classList.add(mark[0] === "error" ? "cell-error" : "cell-warning");
    el.title = mark[1];
    // For screen readers: what is wrong, read with the cell (an attribute value is text).
    if (mark[0] === "error") el.setAttribute("aria-invalid", "true");
    el.setAttribute("aria-description", mark[0] === "error" ? mark[1] : `Warning: ${mark[1]}`);
  }
  const span = document.createElement("span");
  span.textContent = cell.getValue() ?? "";
  return span;
}

function statusCell(cell) {
  const data = cell.getRow().getData();
  const mark = (data._marks || {})._status;
  if (mark) cell.getElement().title = mark[1];
  if (data._message) cell.getElement().setAttribute("aria-description", data._message);
  return chip(cell.getValue());
}

function textElement(text) {
  const el = document.createElement("span");
  el.textContent = text;
  return el;
}

// A column's title and tooltip as text (Tabulator would render strings as HTML).
function textTitle(cell, params) {
  return textElement(params.text);
}

function plainCell(cell) {
  const span = document.createElement("span");
  span.textContent = cell.getValue() ?? "";
  cell.getElement().title = cell.getValue() ?? "";
  return span;
}

function sheetSummary() {
  return state.doc.sheets[state.sheet];
}

function rowsURL() {
  return `/api/documents/${state.doc.id}/sheets/${state.sheet}/rows`;
}

// The grid fills the window below the toolbars (its pager included), never less than 320 px.
function gridHeight() {
  const top = $("grid").getBoundingClientRect().top + window.scrollY;
  return `${Math.max(320, window.innerHeight - top - 16)}px`;
}

function buildTable() {
  const sheet = sheetSummary();
  const columns = [
    { title: "Row", field: "_row", frozen: true, width: 56, hozAlign: "right" },
    { title: "Status", field: "_status", frozen: true, width: 96, formatter: statusCell, ...statusFilter() },
    { title: "Message", field: "_message", frozen: true, width: messageWidth(), formatter: plainCell, headerSort: false },
    ...sheet.columns.map((c) => ({
      title: c.field, titleFormatter: textTitle, titleFormatterParams: { text: c.title },
      field: c.field, editable: editableNow, formatter: textCell, ...dataColumn(c),
      minWidth: 90, maxWidth: 360, cssClass: c.name ? "" : "ignored",
      headerTooltip: () => textElement(c.name || "not used by the importer"),
    })),
  ];
  if (state.table) state.table.destroy();
  state.table = new Tabulator("#grid", {
    index: "_row",
    height: gridHeight(),
    layout: "fitDataStretch",
    placeholder: "No rows to show",
    columns,
    pagination: true,
    paginationMode: "remote",
    paginationSize: 100,
    paginationCounter: rowCounter,
    ajaxURL: rowsURL(),
    ajaxParams: gridParams,  // bulk.js: the search, the problem group, problems only
    ajaxResponse: gridResponse,
    sortMode: "remote",
    // A third click on a title, or sorting by Row, goes back to the file's order.
    columnDefaults: { headerSortTristate: true },
    filterMode: "remote",
    editTriggerEvent: "click", keybindings: GRID_KEYBINDINGS, rowFormatter: gridRow,  // keys.js
  });
  keyboardGrid(state.table);
  state.table.on("cellEdited", editCell);
  // A click on an editable cell starts editing (and may not reach cellClick): say what is
  // wrong with the cell either way. The current cell follows the focus (keys.js).
  state.table.on("cellClick", (event, cell) => explainCell(cell));
  state.table.on("cellEditing", (cell) => explainCell(cell));
}

// What the message bar says of a cell: its mark, else (on the row's own columns, or when the
// focus has just moved to it) the row's message.
function explainCell(cell, moved = false) {
  const data = cell.getRow().getData();
  const mark = (data._marks || {})[cell.getField()];
  const own = moved || ["_row", "_status", "_message"].includes(cell.getField());
  const text = mark ? mark[1] : own ? data._message : "";
  if (text) say("message-bar", `Row ${data._row}: ${text}`);
}

async function editCell(cell) {
  const row = cell.getRow().getData()._row;
  try {
    const changed = await api(`/api/documents/${state.doc.id}/cells`, {
      method: "PATCH", json: { sheet: state.sheet, row, column: cell.getField(), value: cell.getValue() ?? "" },
    });
    applyChange(changed);
    const now = changed.rows.find((r) => r._row === row);
    if (now) say("message-bar", `Row ${row}: ${now._status === "INVALID" ? now._message : "checked: " + now._message}`);
  } catch (error) {
    cell.restoreOldValue();
    say("message-bar", error.message, true);
  }
}

// The server's verdict on the rows a change touched, marks and messages included. Tabulator
// re-renders only cells whose value changed, so each row is formatted again. An undo may be
// of an edit in another sheet: that sheet is then shown.
function applyChange(changed) {
  const index = changed.sheet.index;
  state.doc.sheets[index] = changed.sheet;
  for (const key of ["edits", "purchases", "configures"]) state.doc[key] = changed[key];
  if (index !== state.sheet) {
    state.sheet = index;
    showTabs();
    showSheetHeader();
    buildTable();
    return;
  }
  // Too many rows changed to send them all (a big find and replace, or its undo): the page
  // asks for the rows on screen again.
  if (changed.reload) { state.table.setPage(state.table.getPage()); showSheetHeader(); return; }
  const present = changed.rows.filter((data) => state.table.getRow(data._row));
  state.table.updateData(present).then(() => {
    for (const data of present) {
      const row = state.table.getRow(data._row);
      if (row) row.reformat();
    }
  });
  showSheetHeader();
}

function showSheetHeader() {
  const sheet = sheetSummary();
  $("doc-name").textContent = state.doc.name;
  $("doc-note").textContent = state.doc.edits ? `${counted(state.doc.edits, "change", "changes")} in this page` : "";
  showCounts($("counts"), sheet.counts);
  $("undo").disabled = !state.doc.edits || state.busy;
  const issues = sheet.sheet_issues || [];
  $("sheet-issues").hidden = !issues.length;
  $("sheet-issues").textContent = issues.join(" ");
  showRenamed(sheet);
  $("download-edited").href = `/api/documents/${state.doc.id}/download`;
  const exported = state.exported && state.exported.doc === state.doc.id;
  $("export-download").hidden = !exported;  // a span: .button's display would beat [hidden]
  if (exported) $("download-export").href = state.exported.href;
  showGroups();  // bulk.js
  showPlan();
}

function showTabs() {
  const tabs = $("sheet-tabs");
  tabs.textContent = "";
  state.doc.sheets.forEach((sheet, index) => {
    const tab = document.createElement("button");
    tab.type = "button";
    tab.setAttribute("role", "tab");
    tab.className = index === state.sheet ? "tab current" : "tab";
    tab.textContent = `${sheet.name} (${sheet.operation}, ${counted(sheet.rows, "row", "rows")})`;
    tab.addEventListener("click", () => {
      state.sheet = index;
      say("message-bar", HINT);
      showTabs();
      showSheetHeader();
      buildTable();
    });
    tabs.append(tab);
  });
}

function openDocument(summary, step = "review") {
  state.doc = summary;
  state.sheet = 0;
  showTabs();
  showSheetHeader();
  enableSteps();
  show(step);
  buildTable();
  showRunOf(summary);  // running.js
}

async function reloadDocument() {
  state.doc = await api(`/api/documents/${state.doc.id}`);
  say("message-bar", HINT);
  showTabs();
  showSheetHeader();
  if (state.table) state.table.setData(rowsURL(), { problems: $("problems-only").checked ? "1" : "0" });
}

$("problems-only").addEventListener("change", () => {
  if (state.table) state.table.setData(rowsURL(), { problems: $("problems-only").checked ? "1" : "0" });
});

$("undo").addEventListener("click", async () => {
  try {
    const changed = await api(`/api/documents/${state.doc.id}/undo`, { json: {} });
    applyChange(changed);
    say("message-bar", "Undone.");
  } catch (error) {
    say("message-bar", error.message, true);
  }
});
