// Number Block Importer: the column mapping form, shown when the server could not tell a
// file's columns (or what it is for) by itself; and the columns it renamed by itself. The
// choices, the required marks and the guesses all come from the server (the operation specs
// and the loader's own header matching); the server checks the answer with the same loader.
// Every text from the file is inserted with textContent, never as HTML.
"use strict";

function mappingOperation() {
  const m = state.mapping;
  if (m.operation) return m.operations.find((op) => op.name === m.operation);
  const picked = document.querySelector('input[name="map-operation"]:checked');
  return picked ? m.operations.find((op) => op.name === picked.value) : null;
}

function fieldLabel(field) {
  if (field.required) return `${field.name} (required)`;
  if (field.one_of) return `${field.name} (this or the other Sid)`;
  return field.name;
}

function showMappingRows() {
  const op = mappingOperation();
  const rows = $("map-rows");
  rows.textContent = "";
  for (const column of state.mapping.columns) {
    const tr = document.createElement("tr");
    const letter = document.createElement("td");
    letter.textContent = column.letter;
    const header = document.createElement("td");
    header.className = "map-header";
    header.textContent = column.header || "(no header)";
    const values = document.createElement("td");
    values.className = "map-values";
    values.textContent = column.values.join(" · ");
    const choice = document.createElement("td");
    choice.className = "map-choice";
    const select = document.createElement("select");
    select.name = `c${column.position}`;
    select.dataset.position = String(column.position);
    select.setAttribute("aria-label", `Read column ${column.letter} as`);
    const none = document.createElement("option");
    none.value = "";
    none.textContent = "Not used";
    select.append(none);
    const guess = op ? op.guesses[String(column.position)] || "" : "";
    for (const field of op ? op.fields : []) {
      const option = document.createElement("option");
      option.value = field.name;
      option.textContent = fieldLabel(field);
      option.title = field.help;
      select.append(option);
    }
    select.value = guess;
    select.disabled = !op;
    choice.append(select);
    if (guess) {
      tr.className = "map-guessed";
      const note = document.createElement("span");
      note.className = "map-note";
      note.textContent = "our guess";
      choice.append(note);
    }
    tr.append(letter, header, values, choice);
    rows.append(tr);
  }
  $("map-apply").disabled = !op;
}

function showMapping(m) {
  state.mapping = m;
  $("map-file").textContent = m.name;
  $("map-where").textContent = m.sheet ? `sheet “${m.sheet}”` : "";
  $("map-row").value = String(m.header_row);
  $("map-message").textContent = m.message;
  const choices = $("map-operations");
  choices.textContent = "";
  $("map-operation").hidden = Boolean(m.operation);
  for (const op of m.operations) {
    const label = document.createElement("label");
    const radio = document.createElement("input");
    radio.type = "radio";
    radio.name = "map-operation";
    radio.value = op.name;
    radio.checked = op.name === m.reading;
    radio.addEventListener("change", showMappingRows);
    const text = document.createElement("span");
    text.textContent = `${op.title}: ${op.summary}`;
    label.append(radio, text);
    choices.append(label);
  }
  say("map-status", "");
  showMappingRows();
  show("map");
  document.querySelector('.steps [data-step="start"]').classList.add("current");  // still step 1
}

// The answer goes to the server, which reads the file again with it: the grid when the rows
// load, else the form again with what is still unclear.
async function sendMapping(body, chosen) {
  say("map-status", "Checking the rows…");
  try {
    const answer = await api(`/api/pending/${state.mapping.id}`, { json: body });
    if (answer.mapping) {  // still not enough (a required column not given), or another sheet
      showMapping(answer.mapping);
      const again = chosen && document.querySelector(`input[name="map-operation"][value="${chosen}"]`);
      if (again && !answer.mapping.operation) { again.checked = true; showMappingRows(); }
      // A try that did not load says why again by the button; a header moved needs no alarm.
      say("map-status", body.operation ? answer.mapping.message : "", Boolean(body.operation));
      return;
    }
    state.mapping = null;
    say("upload-status", "");
    openDocument(answer);
  } catch (error) {
    say("map-status", error.message, true);
  }
}

$("map-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const op = mappingOperation();
  if (!op) { say("map-status", "Choose what the file is for first.", true); return; }
  const columns = {};
  for (const select of $("map-rows").querySelectorAll("select")) columns[select.dataset.position] = select.value;
  sendMapping({ operation: op.name, columns, header_row: state.mapping.header_row }, op.name);
});

$("map-header").addEventListener("submit", (event) => {
  event.preventDefault();
  const picked = document.querySelector('input[name="map-operation"]:checked');
  sendMapping({ header_row: Number($("map-row").value) }, picked && picked.value);
});

$("map-cancel").addEventListener("click", async () => {
  const back = state.mapping && state.mapping.replaces && state.doc;  // the file stays as read
  if (state.mapping) await api(`/api/pending/${state.mapping.id}`, { method: "DELETE", json: {} }).catch(() => {});
  state.mapping = null;
  say("upload-status", "");
  show(back ? "review" : "start");
});

$("change-columns").addEventListener("click", async () => {
  try {
    showMapping((await api(`/api/documents/${state.doc.id}/columns`, { json: { sheet: state.sheet } })).mapping);
  } catch (error) {
    say("message-bar", error.message, true);
  }
});

// The columns read under another name than their header's: an alias the importer knows, or
// the mapping given above. Said once above the grid, never silent.
function showRenamed(sheet) {
  const renamed = sheet.renamed || [];
  $("renamed-text").textContent = renamed.length
    ? `Columns read under the importer's names: ${renamed.map(([header, name]) => `“${header}” as ${name}`).join(", ")}.`
    : "";
  $("change-columns").textContent = renamed.length ? "Change" : "Change how the columns are read";
  $("change-columns").disabled = $("change-reading").disabled = Boolean(state.doc.edits) || state.busy;
  $("change-columns").title = $("change-reading").title = state.doc.edits
    ? "Changes made in this page are of the file as read now: download the file and upload it to read it another way."
    : "";
}

// "Change how the file is read": the CLI's --encoding, --delimiter, --sheet and --header-row.
// The form shows how the file was read (given or guessed); the server checks the answer, and
// the file read so replaces the one shown (or asks which column is which).
$("change-reading").addEventListener("click", () => {
  const reading = state.doc.reading || { how: [], sheets: [] };
  const form = $("reading-form");
  const how = Object.fromEntries(reading.how.map(([what, value, given]) => [what, { value, given }]));
  const csv = how.Format && how.Format.value === "CSV";
  $("reading-now").textContent = `Read now: ${reading.how.map(([what, value, given]) => `${what === "Format" ? "" : `${what}: `}${value}${given ? " (as you said)" : what === "Format" ? "" : " (guessed)"}`).join(" · ")}.`;
  $("reading-csv").hidden = !csv;
  const sheets = $("reading-sheets");
  sheets.hidden = csv;
  for (const old of sheets.querySelectorAll("label")) old.remove();
  const read = new Set(state.doc.sheets.map((s) => s.name));
  for (const [name, what] of csv ? [] : reading.sheets) {
    const label = document.createElement("label");
    label.className = "toggle";
    const box = document.createElement("input");
    box.type = "checkbox";
    box.name = "sheet";
    box.value = name;
    box.checked = read.has(name) && reading.sheets.length > 1 && read.size < reading.sheets.length;
    label.append(box, ` ${name} (${what})`);
    sheets.append(label);
  }
  form.elements.header_row.value = "";
  say("reading-status", "");
  $("reading-dialog").showModal();
});

$("reading-form").addEventListener("submit", async (event) => {
  if (!event.submitter || event.submitter.value !== "go") return;
  event.preventDefault();  // the dialog stays open until the server has read it so
  const form = event.target;
  const row = form.elements.header_row.value;
  const body = {
    encoding: $("reading-csv").hidden ? "" : form.elements.encoding.value,
    delimiter: $("reading-csv").hidden ? "" : form.elements.delimiter.value,
    sheets: [...form.querySelectorAll('input[name="sheet"]:checked')].map((box) => box.value),
    header_row: row ? Number(row) : null,
  };
  say("reading-status", "Reading it again…");
  try {
    const answer = await api(`/api/documents/${state.doc.id}/reading`, { json: body });
    $("reading-dialog").close();
    if (answer.mapping) showMapping(answer.mapping);
    else {
      openDocument(answer);
      say("message-bar", "Read again as you said; every row was checked again.");
    }
  } catch (error) {
    say("reading-status", error.message, true);
  }
});
