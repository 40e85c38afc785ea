// Number Block Importer: the grid by keyboard, as in a spreadsheet. The grid is one tab stop
// (Tabulator's table holder, which hands the focus to the current cell); inside it the arrow
// keys move the focused cell (to the next or previous page at the edges), Home/End go to the
// ends of the row (with Ctrl, of the page), Page Up/Down turn the page, Enter or F2 edits and
// typing starts an edit with what is typed; in the editor Enter saves and Escape cancels, and
// the focus comes back to the cell. Tab leaves the grid. Loaded after app.js, whose grid it
// drives; it only moves the focus and opens editors, it checks nothing itself. Also the grid's
// fit to a small window and its pager's counter.
"use strict";

// The frozen Row, Status and Message columns take at most ~300 px of a small window, so the
// columns to fix stay in view; the focused row's whole message is in the message bar.
function messageWidth() {
  return window.innerWidth >= 1280 ? 320 : 148;
}

window.addEventListener("resize", () => whenBuilt((table) => {
  table.setHeight(gridHeight());
  const message = table.getColumn("_message");
  if (message && message.getWidth() !== messageWidth()) message.setWidth(messageWidth());
}));

// "Rows 101-200 of 20,000" (Tabulator's own counter has no thousands separators), as text.
function rowCounter(size, first, page, total) {
  const last = Math.min(total, first + size - 1);
  if (!total) return textElement("No rows");
  if (total === 1) return textElement("1 row");
  return textElement(`Rows ${first.toLocaleString()}–${last.toLocaleString()} of ${total.toLocaleString()}`);
}

// Tabulator's own arrow, Tab and paging keys move an open editor or scroll the page away from
// the focused cell: ours replace them.
const GRID_KEYBINDINGS = {
  navPrev: false, navNext: false, navUp: false, navDown: false, navLeft: false, navRight: false,
  scrollPageUp: false, scrollPageDown: false, scrollToStart: false, scrollToEnd: false,
};
// The current cell, by row number and field: it survives a re-render and a page change.
const current = { row: null, field: null, inside: false, moving: null };

function holderOf(table) {
  return table.element.querySelector(".tabulator-tableholder");
}

function columnsOf(table) {
  return table.getColumns().filter((column) => column.isVisible() && column.getField());
}

// Every cell may take the focus, but only from a script or a click: Tab goes past them
// (Tabulator makes editable cells tabbable). Called as the rowFormatter, so a row drawn again
// (after an edit, or scrolled back into view) gets its focus back.
function gridRow(row) {
  for (const cell of row.getCells()) cell.getElement().tabIndex = -1;
  if (row.getData()._row === current.row) refocus(row);
}

// A cell drawn again replaces the focused one, and the focus falls to the page: it goes back
// to the cell while the keyboard is in the grid.
function refocus(row) {
  const lost = !document.activeElement || document.activeElement === document.body;
  const cell = current.inside && lost && row && row.getCell(current.field);
  if (cell) cell.getElement().focus({ preventScroll: true });
}

function cellOf(table, element) {
  const rowElement = element.closest(".tabulator-row");
  const row = table.getRows().find((r) => r.getElement() === rowElement);
  return row ? row.getCell(element.getAttribute("tabulator-field")) : null;
}

// Scroll just enough to show the cell, clear of the frozen columns on its left.
function reveal(table, cell) {
  const holder = holderOf(table);
  const element = cell.getElement();
  const box = holder.getBoundingClientRect();
  const at = element.getBoundingClientRect();
  if (!element.classList.contains("tabulator-frozen")) {
    let frozen = box.left;
    for (const f of cell.getRow().getElement().querySelectorAll(".tabulator-frozen-left")) {
      frozen = Math.max(frozen, f.getBoundingClientRect().right);
    }
    if (at.left < frozen) holder.scrollLeft -= frozen - at.left;
    else if (at.right > box.left + holder.clientWidth) holder.scrollLeft += at.right - box.left - holder.clientWidth;
  }
  if (at.top < box.top) holder.scrollTop -= box.top - at.top;
  else if (at.bottom > box.top + holder.clientHeight) holder.scrollTop += at.bottom - box.top - holder.clientHeight;
}

async function focusGridCell(table, row, field) {
  current.row = row.getData()._row;
  current.field = field;
  if (!row.getElement().isConnected) await table.scrollToRow(row, "nearest", false).catch(() => {});
  const cell = row.getCell(field);
  if (!cell) return;
  cell.getElement().focus({ preventScroll: true });
  reveal(table, cell);
}

// The cell to land on when the grid gets the focus: the current one, else the first.
function landing(table) {
  const rows = table.getRows();
  const row = rows.find((r) => r.getData()._row === current.row) || rows[0];
  if (!row) return null;
  const fields = columnsOf(table).map((c) => c.getField());
  return { row, field: fields.includes(current.field) ? current.field : fields[0] };
}

async function turnPage(table, step, rowIndex, field) {
  const page = table.getPage();
  const last = table.getPageMax();
  if (!page || page + step < 1 || page + step > last) return;
  await table.setPage(page + step);
  const rows = table.getRows();
  if (!rows.length) return;
  const index = rowIndex === "last" ? rows.length - 1 : Math.min(rowIndex, rows.length - 1);
  await focusGridCell(table, rows[index], field);
}

function move(table, cell, event) {
  const rows = table.getRows();
  const fields = columnsOf(table).map((c) => c.getField());
  let r = rows.indexOf(cell.getRow());
  let c = fields.indexOf(cell.getField());
  const ctrl = event.ctrlKey || event.metaKey;
  switch (event.key) {
    case "ArrowUp": if (r === 0) return turnPage(table, -1, "last", fields[c]); r -= 1; break;
    case "ArrowDown": if (r === rows.length - 1) return turnPage(table, 1, 0, fields[c]); r += 1; break;
    case "ArrowLeft": c = Math.max(0, c - 1); break;
    case "ArrowRight": c = Math.min(fields.length - 1, c + 1); break;
    case "Home": c = 0; if (ctrl) r = 0; break;
    case "End": c = fields.length - 1; if (ctrl) r = rows.length - 1; break;
    case "PageUp": return turnPage(table, -1, r, fields[c]);
    case "PageDown": return turnPage(table, 1, r, fields[c]);
    default: return undefined;
  }
  // Shift+Up/Down: the range for a fill down, from the anchor to the cell reached (bulk.js).
  const ranging = event.shiftKey && (event.key === "ArrowUp" || event.key === "ArrowDown");
  bulk.shift = ranging;
  return focusGridCell(table, rows[r], fields[c]).finally(() => {
    if (ranging) bulk.shift = false;
    // Moved by the keys: the bar speaks of the cell reached, not of the one before. (Not on a
    // click: the bar's new height would move the grid under the pointer.)
    const reached = rows[r].getCell(fields[c]);
    if (reached) explainCell(reached, true);
  });
}

// Enter, F2 or a typed character: the cell's editor, if it may be changed now. Typing replaces
// what the cell holds, as in Excel; Enter and F2 start from it.
function startEdit(cell, typed) {
  const element = cell.getElement();
  cell.edit();
  if (!element.classList.contains("tabulator-editing")) {
    if (state.busy && cell.getColumn().getDefinition().editor) {
      say("message-bar", "The file is being sent: cells can be changed when the run has finished.");
    } else {
      explainCell(cell);
    }
    return;
  }
  const box = element.querySelector("input, textarea");
  if (box && typed !== undefined) box.value = typed;
}

function keyboardGrid(table) {
  table.on("renderComplete", () => refocus(table.getRows().find((r) => r.getData()._row === current.row)));
  table.on("tableBuilt", () => {  // the holder exists from here on
    const holder = holderOf(table);
    columnFilters(table, $("column-filters").getAttribute("aria-pressed") === "true");
    // The role=grid element's name, heard when the focus comes in.
    table.element.setAttribute("aria-label", "Rows: arrow keys move between cells, Enter "
      + "changes a cell, Escape cancels the change");
    holder.addEventListener("focus", (event) => {
      if (event.target !== holder) return;
      const to = landing(table);
      if (to) focusGridCell(table, to.row, to.field);
    });
  });
  table.element.addEventListener("focusin", (event) => {
    current.inside = true;
    // The cell itself, or its editor: either way the person is on that cell.
    const element = event.target.closest && event.target.closest(".tabulator-cell");
    const cell = element && cellOf(table, element);
    if (!cell) return;
    current.row = cell.getRow().getData()._row;
    current.field = cell.getField();
    cellFocused(cell);  // bulk.js: where a paste or a fill down starts
    explainCell(cell);
  });
  table.element.addEventListener("focusout", (event) => {
    if (event.relatedTarget && !table.element.contains(event.relatedTarget)) current.inside = false;
  });
  // Capture: the editors handle their own keys and may stop them from bubbling.
  table.element.addEventListener("keydown", (event) => {
    if (event.key === "Tab" && event.shiftKey) {  // out of the grid, not back into its holder
      const holder = holderOf(table);
      holder.tabIndex = -1;
      setTimeout(() => { holder.tabIndex = 0; }, 0);
      return;
    }
    const editing = event.target.closest && event.target.closest(".tabulator-editing");
    if (editing && (event.key === "Enter" || event.key === "Escape") && !event.isComposing) {
      setTimeout(() => backToCell(table), 0);  // for an editor that stops the key
    }
  }, true);
  // The editor has closed on Enter or Escape: back to its cell at once, so the next key (an
  // arrow pressed right after) moves from there instead of falling to the page.
  table.element.addEventListener("keydown", (event) => {
    if ((event.key === "Enter" || event.key === "Escape") && !event.isComposing) backToCell(table);
  });
  table.element.addEventListener("keydown", (event) => {
    const element = event.target;
    if (!element.classList || !element.classList.contains("tabulator-cell") || event.altKey) return;
    const cell = cellOf(table, element);
    const key = { key: event.key, ctrlKey: event.ctrlKey, metaKey: event.metaKey, shiftKey: event.shiftKey };
    const typed = !event.ctrlKey && !event.metaKey && (key.key.length === 1 || key.key === "Backspace");
    if (!cell || !(MOVES.includes(key.key) || key.key === "Enter" || key.key === "F2" || typed)) return;
    event.preventDefault();
    // A move that waits for a page or a row to be drawn holds the keys pressed meanwhile: each
    // then starts from where the focus is.
    const act = () => {
      const focused = document.activeElement;
      const from = (focused && focused.classList.contains("tabulator-cell") && cellOf(table, focused)) || cell;
      return keyOnCell(table, from, key);
    };
    const done = current.moving ? current.moving.then(act) : act();
    if (done && done.then) {
      const mine = current.moving = done.catch(() => {}).then(() => {
        if (current.moving === mine) current.moving = null;
      });
    }
  });
}

// The focus fell to the page (an editor was removed): back to the current cell, not to the
// top of the page.
function backToCell(table) {
  const lost = !document.activeElement || document.activeElement === document.body;
  const row = lost && table.getRows().find((r) => r.getData()._row === current.row);
  if (row) focusGridCell(table, row, current.field);
}

const MOVES = ["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Home", "End", "PageUp", "PageDown"];

function keyOnCell(table, cell, key) {
  if (key.key === "Enter" || key.key === "F2") return startEdit(cell);
  if (key.key.length === 1 || key.key === "Backspace") {
    if (cell.getColumn().getDefinition().editor !== "input") return undefined;
    return startEdit(cell, key.key === "Backspace" ? "" : key.key);
  }
  return move(table, cell, key);
}

// The filter box under each column title is out of the Tab order (one Tab per column stood
// between the search box and the grid) until "Column filters" is pressed.
function columnFilters(table, on) {
  $("column-filters").setAttribute("aria-pressed", String(on));
  const boxes = table.element.querySelectorAll(".tabulator-header-filter input, .tabulator-header-filter select");
  for (const box of boxes) box.tabIndex = on ? 0 : -1;
  return boxes;
}

$("column-filters").addEventListener("click", () => whenBuilt((table) => {
  const on = $("column-filters").getAttribute("aria-pressed") !== "true";
  const boxes = columnFilters(table, on);
  if (on && boxes.length) boxes[0].focus();
}));
