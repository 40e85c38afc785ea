// Number Block Importer: find and fix in bulk (issue 19, item 5). Search, sort and filters are
// answered by the server over every row; the page only says what to ask. Problems grouped by
// reason, next problem, drop-downs (their values come from the server's column list), fill
// down, find and replace, and pasting a block copied from Excel: each bulk change is one
// request, re-checked by the core like a typed edit and undone by one Undo. Every text from a
// file goes in with textContent. Uses app.js's state, api, say, $ and applyChange.
"use strict";

// anchor: the current cell ({row, field}), wherever the focus put it (a click, the arrow keys,
// Next problem); end: the cell shift-clicked below it in the same column (fill down); problem:
// the problem group the grid is narrowed to.
const bulk = { anchor: null, end: null, shift: false, problem: "", problemText: "", total: 0 };

function sheetKey() {
  return state.doc ? `${state.doc.id}:${state.sheet}` : "";
}

function sheetURL() {
  return `/api/documents/${state.doc.id}/sheets/${state.sheet}`;
}

// Our parameters of the rows request (Tabulator adds page, size, sort and filters to them).
function gridParams() {
  const params = { problems: $("problems-only").checked ? "1" : "0" };
  const search = $("search").value.trim();
  if (search) params.search = search;
  if (bulk.problem && bulk.problemAt === sheetKey()) params.problem = bulk.problem;
  $("filter-note").hidden = !params.problem;  // a group of another sheet or file: not here
  return params;
}

// The whole query as the rows request sends it, for requests the grid does not make itself.
function gridQuery() {
  const query = gridParams();
  if (!state.table) return query;
  state.table.getSorters().slice(0, 1).forEach((s) => {
    query["sort[0][field]"] = s.field;
    query["sort[0][dir]"] = s.dir;
  });
  state.table.getHeaderFilters().forEach((f, i) => {
    query[`filter[${i}][field]`] = f.field;
    query[`filter[${i}][type]`] = f.type;
    query[`filter[${i}][value]`] = f.value;
  });
  return query;
}

function gridResponse(url, params, response) {
  bulk.total = response.last_row || 0;
  return response;
}

function reloadGrid() {
  bulk.anchor = bulk.end = null;
  showSelection();
  if (state.table) state.table.setData(rowsURL());
}

// --- column definitions -----------------------------------------------------------------

// A choice or yes/no column edits with a drop-down of the spec's values (sent by the server).
// The cell's own text stays in the list when it is not one of them, so leaving the drop-down
// without a pick changes nothing; items are text nodes (a cell's text is never markup).
function columnEditor(column) {
  const allowed = column.allowed || [];
  if (!allowed.length) return { editor: "input" };
  const valuesLookup = (cell) => {
    const now = cell.getValue() ?? "";
    const items = [{ label: "(empty)", value: "" }, ...allowed.map((v) => ({ label: v, value: v }))];
    if (now && !allowed.includes(now)) items.splice(1, 0, { label: now, value: now });
    return items;
  };
  return { editor: "list", editorParams: { valuesLookup, itemFormatter: (label) => textElement(label) } };
}

function dataColumn(column) {
  return { headerFilter: "input", headerFilterPlaceholder: "filter…", headerFilterLiveFilter: true,
           ...columnEditor(column) };
}

function statusFilter() {
  return { headerFilter: "list", headerFilterParams: { values: ["", ...STATUSES] },
           headerFilterPlaceholder: "any" };
}

// A shift-click marks the end of a fill-down range, not a cell to edit.
function editableNow() {
  return !state.busy && !bulk.shift;
}

// --- selection: the anchor cell, and a range below it for fill down ------------------------

// Called by keys.js whenever the focus enters a cell (or its editor): a paste and a fill down
// start from the cell the person is on, however they got there. A shift-click marks the end
// of a fill-down range instead, and the anchor stays.
function cellFocused(cell) {
  const field = cell.getField();
  const row = cell.getRow().getData()._row;
  const same = anchored() && bulk.anchor.row === row && bulk.anchor.field === field;
  if (same) return;
  if (bulk.shift && anchored() && bulk.anchor.field === field) bulk.end = { row, field };
  else pick(row, field);
  showSelection();
}

// The anchor belongs to the grid it was clicked in: another sheet's grid (same row numbers,
// same c<pos> names) must not take a paste meant for the first.
function pick(row, field) {
  bulk.anchor = { row, field, table: state.table };
  bulk.end = null;
}

function anchored() {
  if (bulk.anchor && bulk.anchor.table !== state.table) bulk.anchor = bulk.end = null;
  return bulk.anchor;
}

function activeRows() {
  return state.table ? state.table.getRows("active") : [];
}

function rangeRows() {
  if (!anchored() || !bulk.end) return [];
  const rows = activeRows();
  const from = rows.findIndex((r) => r.getData()._row === bulk.anchor.row);
  const to = rows.findIndex((r) => r.getData()._row === bulk.end.row);
  if (from < 0 || to < 0) return [];
  return rows.slice(Math.min(from, to), Math.max(from, to) + 1);
}

function showSelection() {
  for (const el of document.querySelectorAll("#grid .cell-range")) el.classList.remove("cell-range");
  const range = rangeRows();
  for (const row of range) {
    const cell = row.getCell(bulk.end.field);
    if (cell) cell.getElement().classList.add("cell-range");
  }
  $("fill-down").disabled = !range.length || state.busy;
}

function isDataField(field) {
  return sheetSummary().columns.some((c) => c.field === field);
}

// --- bulk changes -----------------------------------------------------------------------

async function sendBulk(body, done) {
  try {
    const changed = await api(`${sheetURL()}/bulk`, { json: body });
    applyChange(changed);  // with more than 500 rows changed, it asks for the page again
    say("message-bar", changed.count ? done(changed.count) : "Nothing changed: every cell already said that.");
    return changed;
  } catch (error) {
    say("message-bar", error.message, true);
    return null;
  }
}

function cellsWord(n) {
  return `${n.toLocaleString()} cell${n === 1 ? "" : "s"}`;
}

async function fillDown() {
  const range = rangeRows();
  if (!range.length) {
    say("message-bar", "Click the cell to copy, then shift-click the last cell to fill down to.", true);
    return;
  }
  const field = bulk.anchor.field;
  const source = state.table.getRow(bulk.anchor.row);
  const value = source ? source.getData()[field] ?? "" : "";
  const top = range[0].getData()._row === bulk.anchor.row ? 1 : 0;  // upwards: the anchor is last
  const targets = top ? range.slice(1) : range.slice(0, -1);
  const cells = targets.map((r) => ({ row: r.getData()._row, column: field, value }));
  await sendBulk({ cells }, (n) => `Filled ${placed(cells, n, "in")}; Undo takes it back in one step.`);
  bulk.end = null;
  showSelection();
}

// Excel puts a copied block on the clipboard as tab-separated lines ending in \r\n, a cell
// with a tab, a quote or a line break in quotes ("" for a quote).
function parseBlock(text) {
  const rows = [];
  let row = [];
  let value = "";
  let quoted = false;
  const source = text.replace(/\r\n?/g, "\n");
  for (let i = 0; i < source.length; i += 1) {
    const ch = source[i];
    if (quoted) {
      if (ch === '"' && source[i + 1] === '"') { value += '"'; i += 1; }
      else if (ch === '"') quoted = false;
      else value += ch;
    } else if (ch === '"' && value === "") quoted = true;
    else if (ch === "\t") { row.push(value); value = ""; }
    else if (ch === "\n") { row.push(value); rows.push(row); row = []; value = ""; }
    else value += ch;
  }
  if (value !== "" || row.length) { row.push(value); rows.push(row); }
  return rows;
}

async function pasteBlock(block) {
  const fields = sheetSummary().columns.map((c) => c.field);
  const rows = activeRows();
  const start = rows.findIndex((r) => r.getData()._row === bulk.anchor.row);
  const first = fields.indexOf(bulk.anchor.field);
  if (start < 0 || first < 0) {
    say("message-bar", "Click a cell of the file's columns where the pasted block should start.", true);
    return;
  }
  const cells = [];
  let left = 0;
  block.forEach((values, i) => {
    const row = rows[start + i];
    values.forEach((value, j) => {
      const field = fields[first + j];
      if (row && field) cells.push({ row: row.getData()._row, column: field, value });
      else left += 1;
    });
  });
  const note = left ? ` ${cellsWord(left)} fell outside the rows or columns shown and were left out.` : "";
  await sendBulk({ cells }, (n) => `Pasted ${placed(cells, n, "into")}; Undo takes it back in one step.${note}`);
}

// "2 cells into AnswerPoint, rows 9-10": the columns (the importer's name, else the file's
// title) and the rows a bulk change went to, so the person sees at once whether it landed where
// they meant; `changed` of them changed (the rest already said that).
function placed(cells, changed, preposition) {
  const titles = new Map(sheetSummary().columns.map((c) => [c.field, c.name || c.title]));
  const columns = [...new Set(cells.map((c) => c.column))].map((f) => titles.get(f));
  const rows = [...new Set(cells.map((c) => c.row))];
  const named = columns.length > 1 ? `${columns[0]} to ${columns[columns.length - 1]}` : columns[0];
  const sorted = [...rows].sort((a, b) => a - b);
  const runs = sorted.every((r, i) => i === 0 || r === sorted[i - 1] + 1);
  let shown;
  if (rows.length === 1) shown = `row ${rows[0]}`;
  else if (runs) shown = `rows ${sorted[0]}-${sorted[sorted.length - 1]}`;
  else if (rows.length <= 6) shown = `rows ${rows.slice(0, -1).join(", ")} and ${rows[rows.length - 1]}`;
  else shown = `${rows.length.toLocaleString()} rows from row ${rows[0]} (in the order shown)`;
  const same = cells.length - changed;
  const note = same > 0 ? ` (${cellsWord(same)} already said that)` : "";
  return `${cellsWord(cells.length)} ${preposition} ${named}, ${shown}${note}`;
}

// The cell a paste event happened in (its editor, or the cell itself), if any.
function pastedOn(target) {
  const element = target && state.table && target.closest(".tabulator-cell");
  if (!element || !state.table.element.contains(element)) return null;
  return cellOf(state.table, element);  // keys.js
}

document.addEventListener("paste", (event) => {
  if (!state.table || $("step-review").hidden || state.busy) return;
  const target = event.target instanceof Element ? event.target : null;
  const inGrid = Boolean(target && target.closest("#grid .tabulator-tableholder"));
  if (target && target.matches("input, textarea, select") && !inGrid) return;  // the search box
  const block = parseBlock(event.clipboardData ? event.clipboardData.getData("text/plain") : "");
  if (!block.length) return;
  const single = block.length === 1 && block[0].length === 1;
  if (single && target && target.matches("input")) return;  // one value into the open editor
  const on = pastedOn(target);  // where the focus is wins over any earlier click
  if (on) pick(on.getRow().getData()._row, on.getField());
  if (!anchored()) {
    say("message-bar", "Click the cell where the pasted block should start, then paste.", true);
    return;
  }
  event.preventDefault();
  if (target && target.matches("input")) target.blur();  // the open editor keeps its value
  pasteBlock(block);
});

// --- find and replace -------------------------------------------------------------------

function openReplace() {
  const select = $("replace-column");
  select.textContent = "";
  for (const column of sheetSummary().columns) {
    const option = document.createElement("option");
    option.value = column.field;
    option.textContent = column.title;
    select.append(option);
  }
  if (anchored() && isDataField(bulk.anchor.field)) select.value = bulk.anchor.field;
  $("replace-scope").textContent = `In ${bulk.total === 1 ? "the 1 row" : `every one of the ${bulk.total.toLocaleString()} rows`} the grid finds now (all pages, not only this one), as one change that Undo takes back.`;
  $("replace").showModal();
}

async function replaceAll() {
  const form = $("replace-form").elements;
  const spec = { column: form.column.value, find: form.find.value, with: form.with.value,
                 whole: form.whole.checked };
  const changed = await sendBulk({ replace: spec, query: gridQuery() },
    (n) => `Replaced in ${cellsWord(n)}; Undo takes it back in one step.`);
  if (changed && !changed.count) say("message-bar", "Nothing matched in that column.");
}

// --- problems by reason, and the next problem ---------------------------------------------

function showGroups() {
  const groups = sheetSummary().groups || [];
  const box = $("groups-box");
  box.hidden = !groups.length;
  $("groups-title").textContent = `Problems by reason (${groups.length.toLocaleString()})`;
  const list = $("groups");
  list.textContent = "";
  for (const group of groups) {
    const li = document.createElement("li");
    li.className = `group ${group.level}`;
    const count = document.createElement("span");
    count.className = "group-count";
    count.textContent = `${group.count.toLocaleString()} ×`;
    const reason = document.createElement("span");
    reason.className = "group-reason";
    reason.textContent = group.reason;
    li.append(count, reason);
    if (group.example) {
      const example = document.createElement("span");
      example.className = "muted group-example";
      example.textContent = `e.g. ${group.example}`;
      li.append(example);
    }
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Show these rows";
    button.addEventListener("click", () => showProblem(group));
    li.append(button);
    list.append(li);
  }
}

function showProblem(group) {
  bulk.problem = group ? group.key : "";
  bulk.problemAt = sheetKey();
  bulk.problemText = group ? `${group.count.toLocaleString()} × ${group.reason}` : "";
  $("filter-note").hidden = !bulk.problem;
  $("filter-what").textContent = bulk.problemText;
  $("filter-what").title = bulk.problemText;  // the whole reason, as text
  if (group) $("groups-box").open = false;  // room for the rows asked for
  if (state.table) state.table.setHeight(gridHeight());
  reloadGrid();
}

// Across to the cell, centred in what the frozen columns leave visible (Tabulator's
// scrollToColumn centres under them, and can wait forever on a column already in view).
function scrollAcross(cell) {
  const holder = $("grid").querySelector(".tabulator-tableholder");
  const el = cell.getElement();
  if (!holder) return;
  const frozen = state.table.getColumns().filter((c) => c.getDefinition().frozen)
    .reduce((n, c) => n + c.getWidth(), 0);
  const visible = holder.clientWidth - frozen;
  holder.scrollLeft = Math.max(0, el.offsetLeft - frozen - (visible - el.offsetWidth) / 2);
}

async function nextProblem() {
  if (!state.table) return;
  const query = new URLSearchParams({ ...gridQuery(), size: String(state.table.getPageSize()) });
  if (anchored()) query.set("after", String(bulk.anchor.row));
  let found;
  try {
    found = await api(`${sheetURL()}/next-problem?${query}`);
  } catch (error) {
    say("message-bar", error.status === 404 ? "No problem left in the rows shown." : error.message, error.status !== 404);
    return;
  }
  if (state.table.getPage() !== found.page) await state.table.setPage(found.page);
  await state.table.scrollToRow(found.row, "center", false).catch(() => {});
  const row = state.table.getRow(found.row);
  const cell = row && row.getCell(found.field);
  if (cell && isDataField(found.field)) scrollAcross(cell);
  pick(found.row, found.field);
  showSelection();
  const mark = (found.data._marks || {})[found.field];
  say("message-bar", `Row ${found.row}: ${mark ? mark[1] : found.data._message}`);
  if (cell) {
    const el = cell.getElement();
    for (const old of document.querySelectorAll("#grid .cell-found")) old.classList.remove("cell-found");
    el.classList.add("cell-found");
    if (!el.hasAttribute("tabindex")) el.tabIndex = -1;
    el.focus();  // an editable cell opens its editor: type the fix at once
  }
}

// --- wiring -----------------------------------------------------------------------------

$("grid").addEventListener("mousedown", (event) => { bulk.shift = event.shiftKey; }, true);
document.addEventListener("mouseup", () => { setTimeout(() => { bulk.shift = false; }, 0); });
let searchTimer = null;
$("search").addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(reloadGrid, 250);
});
$("next-problem").addEventListener("click", nextProblem);
$("fill-down").addEventListener("click", fillDown);
$("replace-open").addEventListener("click", openReplace);
$("clear-filter").addEventListener("click", () => showProblem(null));
$("replace-form").addEventListener("submit", (event) => {
  if (event.submitter && event.submitter.value === "go") replaceAll();
});
document.addEventListener("keydown", (event) => {
  if ($("step-review").hidden || !state.table) return;
  const typing = event.target instanceof Element && event.target.matches("input, textarea, select");
  if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "d" && !typing && bulk.end) {
    event.preventDefault();
    fillDown();
  }
  // Ctrl+Z: the page's Undo (a box being typed in keeps its own).
  if ((event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === "z" && !typing) {
    event.preventDefault();
    if (!$("undo").disabled) $("undo").click();
    else say("message-bar", "Nothing to undo.");
  }
});
// The grid fills what the problems list leaves of the window.
$("groups-box").addEventListener("toggle", () => { if (state.table) state.table.setHeight(gridHeight()); });
