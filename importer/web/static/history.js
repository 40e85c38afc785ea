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
    const counts = document.createElement("div");
    counts.className = "counts";
    showCounts(counts, run.counts);
    li.append(head, counts);
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
