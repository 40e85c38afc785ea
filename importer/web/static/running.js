// Number Block Importer: sending a file and following its progress, then the page's start.
// Loaded after app.js (whose helpers it uses); the same rule holds here: every text from a
// file or the API is inserted with textContent, never as HTML.
"use strict";

// --- running ------------------------------------------------------------------------------

function showPlan() {
  const invalid = state.doc.sheets.reduce((n, s) => n + (s.counts.INVALID || 0), 0);
  const parts = [];
  if (state.doc.purchases) parts.push(counted(state.doc.purchases, "purchase", "purchases"));
  if (state.doc.configures) parts.push(counted(state.doc.configures, "configure row", "configure rows"));
  let text = parts.length ? `${parts.join(" and ")} will be sent, one at a time.` : "No valid rows to send.";
  if (invalid) text += ` ${counted(invalid, "invalid row", "invalid rows")} will not be sent; fix them first or send the rest now.`;
  $("run-plan").textContent = text;
}

// A yes carries what the question was asked of (the file's version and the count shown): if
// the file changed meanwhile (another tab's edits, a run), the server asks again.
async function startRun(dryRun, confirmed = null) {
  say("run-status", "");
  try {
    const run = await api(`/api/documents/${state.doc.id}/runs`, { json: { dry_run: dryRun, confirmed } });
    follow(run);
  } catch (error) {
    if (error.status === 409 && error.body.confirm) {
      if (error.body.error) { await reloadDocument(); showPlan(); }  // as the file is now
      $("confirm-changed").textContent = error.body.error || "";
      $("confirm-changed").hidden = !error.body.error;
      $("confirm-text").textContent = error.body.confirm;
      const dialog = $("confirm");
      dialog.returnValue = "";
      dialog.showModal();
      dialog.addEventListener("close", () => {
        if (dialog.returnValue === "yes") startRun(dryRun, error.body.asked);
        else say("run-status", "Nothing was sent.");
      }, { once: true });
      return;
    }
    say("run-status", error.message, true);
  }
}

$("dry-run").addEventListener("click", () => startRun(true));
$("run").addEventListener("click", () => startRun(false));
$("to-run").addEventListener("click", () => show("run"));
$("cancel").addEventListener("click", async () => {
  if (state.run) await api(`/api/runs/${state.run.id}/cancel`, { json: {} }).catch(() => {});
});
$("back-to-review").addEventListener("click", () => show("review"));

function seconds(s) {
  if (s === null || s === undefined) return "";
  const whole = Math.round(s);
  if (whole < 60) return `${whole} s`;
  const rest = whole % 60;
  return rest ? `${Math.floor(whole / 60)} min ${rest} s` : `${whole / 60} min`;
}

// The card of the file shown and its run: a stopped run says so, with the rows it reached
// and those it did not send (never "395 of 395" after a Cancel).
function showRun(run, jump = true) {
  state.run = run;
  const active = ["starting", "running"].includes(run.state);
  state.busy = active && state.doc !== null && run.document === state.doc.id;
  $("undo").disabled = !(state.doc && state.doc.edits) || state.busy;
  $("progress-card").hidden = false;
  $("dry-run").disabled = $("run").disabled = active;
  $("progress-title").textContent = run.state === "failed" ? "Could not run"
    : run.state === "done" ? (run.stopped ? "Stopped" : "Finished")
    : run.cancelling ? "Stopping after the row being sent…" : run.dry_run ? "Dry run…" : "Sending…";
  const bar = $("progress-bar");
  bar.max = Math.max(run.total, 1);
  bar.value = run.done;
  const eta = run.eta_s !== null && run.state === "running" && !run.cancelling
    ? ` · about ${seconds(run.eta_s)} left` : "";
  const confirming = run.confirming && run.state === "running"
    ? ` · ${run.confirming.toLocaleString()} being confirmed` : "";
  const reached = run.stopped || run.cancelling ? " reached" : "";
  const left = run.not_reached ? ` · ${run.not_reached.toLocaleString()} not sent (the run stopped first)` : "";
  $("progress-text").textContent = run.error ? run.error
    : `${run.done.toLocaleString()} of ${counted(run.total, "row", "rows")}${reached} · ${run.ok.toLocaleString()} fine · ${run.not_ok.toLocaleString()} need you${left}${confirming}${eta}`;
  const notices = $("notices");
  notices.textContent = "";
  for (const text of run.notices) {
    const li = document.createElement("li");
    li.textContent = text;
    notices.append(li);
  }
  // Check & fix says so while this file is being sent: its cells wait, its statuses are
  // those of the check until the results come in.
  $("run-note").hidden = !state.busy;
  $("run-note").textContent = state.busy
    ? `Being sent now (${run.done.toLocaleString()} of ${counted(run.total, "row", "rows")}): cells can be changed when the run has finished, and the Status column shows each row's result then.`
    : "";
  $("cancel").hidden = !["starting", "running"].includes(run.state);
  if (["done", "failed"].includes(run.state)) finished(run, jump);
  enableSteps();
}

// Opening a file: its own last run on the card and in Results, or none (hidden), never the
// run of the file shown before.
async function showRunOf(doc) {
  state.run = null;
  state.finishedShown = null;
  state.busy = false;
  $("run-note").hidden = true;
  $("progress-card").hidden = true;
  $("dry-run").disabled = $("run").disabled = false;
  enableSteps();
  const last = await api(`/api/documents/${doc.id}/run`).catch(() => null);
  if (!last || !state.doc || state.doc.id !== doc.id) return;
  if (["done", "failed"].includes(last.state)) showRun(last, false);
  else follow(last);
}

// Progress: one stream per browser, whatever the number of tabs (a browser opens only six
// connections to a server, and Cancel needs one). The tab holding the lock is the leader: it
// keeps the one stream open and passes every snapshot on to the other tabs; when it closes,
// another takes over. Without these browser features, or when the server has no stream to
// spare (it answers 429 and EventSource gives up), the tab asks once a second instead.
const CHANNEL = window.BroadcastChannel ? new BroadcastChannel("importer-progress") : null;

function heard(snapshot) {
  const mine = state.run && snapshot.id === state.run.id && state.doc
    && snapshot.document === state.doc.id;
  const started = !mine && state.doc && snapshot.document === state.doc.id
    && ["starting", "running"].includes(snapshot.state)
    && !(state.run && ["starting", "running"].includes(state.run.state));
  if (mine || started) showRun(snapshot);
  if (started) show("run");
  copyEnded(snapshot);
}

// A run of another copy of this rollout (the same file uploaded again, or reopened) has ended:
// the rows it did are read again from its journal, so they are not offered for sending.
const copiesRunning = new Set();  // runs of other copies seen in progress from this tab

function copyEnded(snapshot) {
  const copy = state.doc && snapshot.document !== state.doc.id && snapshot.rollout === state.doc.rollout;
  if (!copy) return;
  if (!["done", "failed"].includes(snapshot.state)) { copiesRunning.add(snapshot.id); return; }
  if (!copiesRunning.delete(snapshot.id)) return;  // ended before this tab saw it: nothing new
  reloadDocument().then(() => {
    showPlan();
    say("message-bar", "A run of another copy of this file has ended: the rows it did are shown as a run would skip them.");
  }).catch(() => {});
}

if (CHANNEL) CHANNEL.onmessage = (message) => heard(message.data);

function lead() {
  return new Promise(() => {  // never resolves: the lock is held while this tab lives
    const open = () => {
      const events = new EventSource("/api/events");
      events.onmessage = (message) => {
        const snapshot = JSON.parse(message.data);
        CHANNEL.postMessage(snapshot);
        heard(snapshot);
      };
      events.onerror = () => {
        if (events.readyState !== EventSource.CLOSED) return;  // it reconnects by itself
        pollActive();
        setTimeout(open, 10000);
      };
    };
    open();
  });
}

if (CHANNEL && navigator.locks) navigator.locks.request("importer-progress-stream", lead);

function follow(run) {
  show("run");
  showRun(run);
  if (!(CHANNEL && navigator.locks)) poll(run.id);
}

// Asks about the run this tab shows (no stream, or none to spare) until it has ended.
function pollActive() {
  if (state.run && ["starting", "running"].includes(state.run.state)) poll(state.run.id);
}

function poll(runId) {
  clearInterval(state.poll);
  state.poll = setInterval(async () => {
    try {
      const snapshot = await api(`/api/runs/${runId}`);
      if (CHANNEL) CHANNEL.postMessage(snapshot);
      heard(snapshot);
      if (["done", "failed"].includes(snapshot.state)) clearInterval(state.poll);
    } catch (error) { /* keep trying: the server may be busy */ }
  }, 1000);
}

// The session lives while a tab is open (the server forgets one unused for an hour).
setInterval(() => { api("/api/state").catch(() => {}); }, 240000);

// The Results step of a run that has ended; `jump`: go there (not when a file is opened).
async function finished(run, jump = true) {
  if (state.finishedShown === run.id) return;
  state.finishedShown = run.id;
  if (run.state === "failed") return;
  const would = (run.counts && run.counts.VALID) || 0;
  $("final-title").textContent = run.dry_run
    ? (run.aborted ? "Dry run stopped early: nothing was sent" : "Dry run done: nothing was sent")
    : run.exit_code === 0 ? "Done: every row went through"
    : run.interrupted ? "Stopped: the rows not reached were not sent"
    : run.aborted ? "Stopped early" : "Done, with rows that need you";
  showCounts($("final-counts"), run.counts);
  const notes = $("final-notes");
  notes.textContent = "";
  for (const text of [run.aborted ? `Why it stopped: ${run.aborted}.` : "", ...(run.notes || [])]) {
    if (!text) continue;
    const li = document.createElement("li");
    li.textContent = text;
    notes.append(li);
  }
  const steps = nextSteps(run);
  $("send-now").hidden = !(run.dry_run && would && !run.aborted);
  $("show-problems").hidden = !steps;
  $("put-back").hidden = !(run.undo && run.results && !run.dry_run);
  const link = $("results-link");
  link.hidden = !run.results;
  link.classList.toggle("primary", $("send-now").hidden);  // one main action at a time
  link.href = `/api/runs/${run.id}/results`;
  link.textContent = `Download the results workbook (${run.results_name})`;
  await reloadDocument();
  enableSteps();
  if (!jump || !state.run || state.run.id !== run.id) return;  // another file was opened meanwhile
  show("results");
  // A 401 during the run took the account away: the form is back, with what the API said.
  const now = await api("/api/state");
  showTarget(now.target);
  if (!now.target.ready) show("start");
}

// What to do next, one plain line per status that needs the person, with its count.
function nextSteps(run) {
  const counts = run.counts || {};
  const lines = [];
  const add = (status, count, text) => { if (count) lines.push([status, count, text]); };
  if (run.dry_run) {
    add("VALID", counts.VALID, `${counted(counts.VALID, "row is", "rows are")} ready and would be sent: press “Send it” to send ${counts.VALID === 1 ? "it" : "them"} now.`);
  }
  add("INVALID", counts.INVALID, `${counted(counts.INVALID, "row has", "rows have")} mistakes and ${counts.INVALID === 1 ? "was" : "were"} not sent: fix the red cells in Check & fix and send again.`);
  add("REJECTED", counts.REJECTED, `${counted(counts.REJECTED, "row was", "rows were")} refused by the API: read why in the Message column, fix ${counts.REJECTED === 1 ? "it" : "them"} in Check & fix and send again.`);
  add("FAILED", counts.FAILED, `${counted(counts.FAILED, "row", "rows")} could not be sent (the API or the network kept failing): send again later; rows that went through are not sent twice.`);
  add("UNKNOWN", counts.UNKNOWN, `${counted(counts.UNKNOWN, "purchase", "purchases")} could not be confirmed either way: check ${counts.UNKNOWN === 1 ? "it" : "them"} in the Fone Dynamics portal, or send again later: the importer looks ${counts.UNKNOWN === 1 ? "it" : "them"} up before buying, and no block is bought twice.`);
  add("SKIPPED", run.skipped_not_done, `${counted(run.skipped_not_done, "row was", "rows were")} skipped and not done (the run stopped, or a purchase ${run.skipped_not_done === 1 ? "it needs" : "they need"} failed): send again to send ${run.skipped_not_done === 1 ? "it" : "them"}.`);
  const blocked = run.skipped_blocked || [];
  const blockedCount = run.skipped_blocked_count || 0;
  add("SKIPPED", blockedCount, `${counted(blockedCount, "row was", "rows were")} not sent because the purchase ${blockedCount === 1 ? "it needs" : "they need"} was refused (${blocked.slice(0, 3).join(", ")}${blocked.length > 3 ? ", …" : ""}): fix ${blocked.length === 1 ? "that purchase row" : "those purchase rows"} (the Message says why), then send again.`);
  const list = $("next-steps");
  list.textContent = "";
  for (const [status, count, text] of lines) {
    const li = document.createElement("li");
    // A part of a status's total says so ("SKIPPED 1 of 2"), never a second, smaller total.
    const all = counts[status] || 0;
    const badge = chip(status, count);
    if (all > count) badge.textContent += ` of ${all.toLocaleString()}`;
    li.append(badge, text);
    list.append(li);
  }
  return lines.some(([status]) => status !== "VALID");
}

$("send-now").addEventListener("click", () => startRun(false));
$("show-problems").addEventListener("click", () => {
  const only = $("problems-only");
  if (!only.checked) {
    only.checked = true;
    only.dispatchEvent(new Event("change"));
  }
  show("review");
});

// --- start --------------------------------------------------------------------------------

for (const button of document.querySelectorAll(".steps .step")) {
  button.addEventListener("click", () => show(button.dataset.step));
}

// Once every deferred script has run (history.js and mapping.js come after this one).
document.addEventListener("DOMContentLoaded", async function start() {
  say("message-bar", HINT);
  if (!SECRET) say("upload-status", "This page may not make changes: open the latest address the importer printed (each one carries a key that works once).", true);
  const current = await api("/api/state");
  showTarget(current.target);
  showRecent(current.recent);
  const docs = current.documents;
  if (docs.length) {
    openDocument(docs[docs.length - 1]);  // with its last run (showRunOf)
  } else {
    show("start");
  }
});
