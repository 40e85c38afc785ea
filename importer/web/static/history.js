// Number Block Importer: what a user keeps working in after a run. "Only the rows that need
// you" (invalid, refused, failed, unknown: each with its status and message, to fix in Excel
// and upload back as the same rollout) and the file's earlier runs with their results
// workbooks. Loaded after app.js (whose helpers it uses); every text from a file or the API is
// inserted with textContent, never as HTML.
"use strict";

// How many rows need the user: the server's count per sheet.
function needsYou(doc) {
  return doc.sheets.reduce((n, s) => n + (s.needing || 0), 0);
}

// A fetch, not a link: when nothing needs the user any more (fixed since), the page says so
// instead of the browser showing a failed download.
async function downloadToFix(statusId) {
  say(statusId, "");
  const response = await fetch(`/api/documents/${state.doc.id}/to-fix`, { credentials: "same-origin" });
  if (!response.ok) {
    let body = {};
    try { body = await response.json(); } catch (e) { body = {}; }
    say(statusId, body.error || `The server answered ${response.status}.`, response.status !== 409);
    return;
  }
  const name = (/filename="?([^";]+)"?/.exec(response.headers.get("Content-Disposition") || "") || [])[1];
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = name || "to-fix.xlsx";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
}

for (const [button, status] of [["to-fix", "message-bar"], ["results-to-fix", "results-status"]]) {
  $(button).addEventListener("click", () => downloadToFix(status).catch((e) => say(status, e.message, true)));
}

async function showHistory() {
  const list = $("history");
  const runs = await api(`/api/documents/${state.doc.id}/history`);
  list.textContent = "";
  $("history-card").hidden = !runs.length;
  for (const run of runs) {
    const li = document.createElement("li");
    const head = document.createElement("div");
    head.className = "history-head";
    const date = document.createElement("span");
    // When it finished, as the Summary writes it (the server's readable time).
    date.textContent = `${run.finished} · ${run.sent ? "sent" : run.dry_run ? "dry run, nothing sent" : "nothing sent"}`;
    const link = document.createElement("a");
    link.href = `/api/documents/${state.doc.id}/history/${encodeURIComponent(run.name)}`;
    link.download = run.name;
    link.textContent = run.name;
    head.append(date, " ", link);
    if (run.undo && run.sent) {  // a run that changed settings: they can be put back
      const back = document.createElement("button");
      back.type = "button";
      back.className = "put-back-run";
      back.textContent = "Put back what this run changed";
      back.addEventListener("click", () => putBack(run.name, "run-status"));
      head.append(back);
    }
    const counts = document.createElement("div");
    counts.className = "counts";
    showCounts(counts, run.counts);
    li.append(head, counts);
    list.append(li);
  }
}

// --- put it back ----------------------------------------------------------------------------

function item(text, className = "") {
  const li = document.createElement("li");
  li.textContent = text;
  if (className) li.className = className;
  return li;
}

function quotedValue(value) {
  return value === null || value === undefined || value === "" ? "(empty)" : `“${value}”`;
}

// The preview of `importer undo`: the counts, the first settings (now -> before), the rows
// whose earlier values are unknown (left as they are), then the same question.
function showPutBack(plan, changedNote) {
  $("put-back-changed").textContent = changedNote || "";
  $("put-back-changed").hidden = !changedNote;
  $("put-back-summary").textContent = plan.settings
    ? `${counted(plan.settings, "setting", "settings")} of ${counted(plan.blocks, "block", "blocks")} will go back to what ${plan.blocks === 1 ? "it was" : "they were"} before that run (from ${plan.undo}).`
    : "Nothing to put back: every block is as it was before that run, or its earlier settings are not known.";
  const shifts = $("put-back-shifts");
  shifts.textContent = "";
  for (const s of plan.shifts) {
    const li = item(s.now === s.before
      ? `Row ${s.row} · ${s.block} · ${s.setting}: ${quotedValue(s.now)} (as it is: sent with the routing)`
      : `Row ${s.row} · ${s.block} · ${s.setting}: ${quotedValue(s.now)} → ${quotedValue(s.before)}`);
    if (s.since) {
      const since = document.createElement("span");
      since.className = "since";
      since.textContent = ` (${s.since})`;
      li.append(since);
    }
    shifts.append(li);
  }
  if (plan.settings > plan.shifts.length) shifts.append(item(`… and ${(plan.settings - plan.shifts.length).toLocaleString()} more`));
  const kept = $("put-back-kept");
  kept.textContent = "";
  for (const k of plan.kept) kept.append(item(`Row ${k.row} · ${k.block}: ${k.why}`));
  if (plan.kept_count > plan.kept.length) kept.append(item(`… and ${(plan.kept_count - plan.kept.length).toLocaleString()} more left as they are`));
  const notes = [];
  if (plan.changed) notes.push(`${counted(plan.changed, "setting was", "settings were")} changed by someone since that run; ${plan.changed === 1 ? "it is" : "they are"} put back all the same.`);
  if (plan.bought) notes.push(`The ${counted(plan.bought, "block", "blocks")} that run bought stay bought: the API documents no way to release a block; only the configure rows are put back.`);
  if (!plan.listed) notes.push("The blocks could not be listed now: “now” is what that run set.");
  $("put-back-notes").textContent = notes.join(" ");
  $("put-back-question").textContent = plan.settings ? `${plan.question} Continue?` : "";
  $("put-back-yes").hidden = !plan.settings;
}

// The button of the Results step or of an earlier run: preview, ask, then the undo workbook
// is opened as a file of this rollout and sent as any file is (its own progress and results).
async function putBack(resultsName, statusId, confirmed = null, changedNote = "") {
  say(statusId, confirmed ? "" : "Looking up what each block is set to now…");
  const path = `/api/documents/${state.doc.id}/history/${encodeURIComponent(resultsName)}/undo`;
  let plan;
  try {
    if (confirmed) {
      const started = await api(path, { json: { confirmed } });
      openDocument(started.document, "run");
      follow(started.run);
      say("run-status", `Putting back what ${resultsName} changed.`);
      return;
    }
    plan = await api(path);
  } catch (error) {
    if (error.status !== 409 || !error.body.asked) { say(statusId, error.message, true); return; }
    plan = error.body;
    changedNote = error.body.error || "";
  }
  say(statusId, "");
  showPutBack(plan, changedNote);
  const dialog = $("put-back-dialog");
  dialog.returnValue = "";
  dialog.showModal();
  dialog.addEventListener("close", () => {
    if (dialog.returnValue === "yes") putBack(resultsName, statusId, plan.asked);
    else say(statusId, "Nothing was put back.");
  }, { once: true });
}

$("put-back").addEventListener("click", () => {
  if (state.run && state.run.results_name) putBack(state.run.results_name, "results-status");
});

// "Carry on with an earlier file": each rollout once, by the file uploaded, with its latest run.
function showRecent(recent) {
  $("recent-card").hidden = !recent.length;
  const list = $("recent");
  list.textContent = "";
  for (const item of recent) {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = item.name;
    button.addEventListener("click", async () => {
      try { openDocument(await api(`/api/recent/${encodeURIComponent(item.key)}`, { json: {} })); }
      catch (error) { say("upload-status", error.message, true); }
    });
    li.append(button);
    if (item.results) {  // its latest run, as its results workbook's Summary says
      const last = document.createElement("span");
      last.className = "muted";
      last.textContent = ` last run ${item.results.finished}${item.results.sent ? "" : ", nothing sent"} `;
      const counts = document.createElement("span");
      counts.className = "counts";
      showCounts(counts, item.results.counts);
      li.append(last, counts);
    }
    list.append(li);
  }
}

// Called by show() in app.js each time a step is shown.
function onStep(step) {
  if (!state.doc) return;
  const needed = needsYou(state.doc);
  $("to-fix").hidden = !needed;
  $("results-to-fix").hidden = !needed;
  if (step === "run" || step === "results") showHistory().catch(() => { $("history-card").hidden = true; });
}
