"""Runs started from the page: the CLI's `pipeline.run` in a background thread of the server.

A run belongs to the server, not to the browser tab: closing the tab changes nothing, and the
page finds it again. Progress is a snapshot that changes with every row; readers wait on one
condition shared by every run for the next versions (one Server-Sent Events stream serves all
runs) or just ask (polling). Cancel is the CLI's Ctrl-C: the row in flight finishes, the rest
are SKIPPED, the results are written. While a run is in progress its document accepts no
change (its rows are what is being sent).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from importer.errors import ImporterError
from importer.pipeline import run
from importer.report import Outcome, RunReport, Status, exit_code_for
from importer.sending.client import Credentials
from importer.sending.locks import Busy
from importer.text import shown
from importer.web.account import WatchedClient, refusal
from importer.web.documents import Document, without_paths

NOTICES_KEPT = 8


@dataclass
class Target:
    """Where runs are sent: credentials and the journal's scope (sandbox or a real API)."""

    credentials: Credentials
    scope: str
    sandbox: bool
    timeout: float = 30.0
    retries: int = 5


@dataclass
class Run:
    id: str
    document: Document
    dry_run: bool
    target: Target
    state: str = "starting"  # starting | running | done | failed
    done: int = 0
    total: int = 0
    ok: int = 0
    not_ok: int = 0
    confirming: int = 0  # purchases being confirmed by look-up while the run goes on
    # The SKIPPED rows not sent since the last row that was: a stopped run's rows not reached
    # (the loop puts them last), so the card says where it stopped, not "395 of 395".
    unsent: int = 0
    started: float = field(default_factory=time.monotonic)
    notices: list[str] = field(default_factory=list)
    report: RunReport | None = None
    error: str = ""
    version: int = 0
    cancel: threading.Event = field(default_factory=threading.Event)
    on_refused: Callable[[Target, str], None] | None = None  # a 401: the page asks again
    on_ended: Callable[[Document], None] | None = None  # other copies read the journal again
    changed: threading.Condition = field(default_factory=threading.Condition)
    thread: threading.Thread | None = None

    def snapshot(self) -> dict:
        with self.changed:
            elapsed = time.monotonic() - self.started
            eta = (elapsed / self.done * (self.total - self.done)
                   if self.done and self.state == "running" else None)
            report = self.report
            stopped = bool(report and (report.interrupted or report.aborted))
            left = self.unsent if stopped or self.cancel.is_set() else 0
            return {
                "id": self.id, "document": self.document.id, "state": self.state,
                "rollout": self.document.folder.name,
                "dry_run": self.dry_run, "done": self.done - left, "total": self.total,
                "ok": self.ok, "not_ok": self.not_ok - left, "eta_s": eta,
                "elapsed_s": elapsed, "stopped": stopped, "not_reached": left,
                "confirming": self.confirming,
                "cancelling": self.cancel.is_set(),
                "notices": [self._plain(n) for n in self.notices],
                "error": self.error, "version": self.version,
                "counts": report.counts if report else None,
                "exit_code": int(exit_code_for(report)) if report else None,
                "aborted": self._plain(report.aborted) if report else "",
                "interrupted": report.interrupted if report else False,
                "notes": [self._plain(n) for n in report.notes] if report else [],
                # SKIPPED rows still to send (stopped, their purchase failed), for next steps.
                "skipped_not_done": sum(o.status is Status.SKIPPED and not o.done
                                        and not o.blocked_by
                                        for s in report.sheets for o in s.outcomes)
                if report else 0,
                # ... and those waiting for a refused row to be fixed (sending again is no use).
                "skipped_blocked": sorted({o.blocked_by for s in report.sheets
                                           for o in s.outcomes if o.blocked_by})
                if report else [],
                "skipped_blocked_count": sum(bool(o.blocked_by) for s in report.sheets
                                             for o in s.outcomes) if report else 0,
                "results": bool(report and report.results_path),
                "results_name": Path(report.results_path).name if report and
                report.results_path else "",
                # The run's undo workbook: the Results step offers to put it back.
                "undo": Path(report.undo_path).name if report and report.undo_path else "",
            }

    def _plain(self, text: str) -> str:
        """The core's words, without the workspace's folders (the page never shows them)."""
        return without_paths(text, self.document.folder.parents[1])

    def _update(self, change: Callable[[], None]) -> None:
        with self.changed:
            change()
            self.version += 1
            self.changed.notify_all()

    def wait(self, version: int, timeout: float) -> dict:
        """The snapshot once it is newer than `version` (or after `timeout`)."""
        with self.changed:
            self.changed.wait_for(lambda: self.version > version, timeout)
        return self.snapshot()

    # --- the thread ----------------------------------------------------------------------

    def start(self) -> None:
        self.thread = threading.Thread(target=self._main, name=f"run-{self.id}", daemon=True)
        self.thread.start()

    def _progress(self, done: int, total: int, outcome: Outcome) -> None:
        good = outcome.settled or outcome.status is Status.VALID
        unsent = outcome.status is Status.SKIPPED and not outcome.done

        def change() -> None:
            self.state, self.done, self.total = "running", done, total
            self.unsent = self.unsent + 1 if unsent else 0
            if good:
                self.ok += 1
            else:
                self.not_ok += 1
        self._update(change)

    def _confirming(self, pending: int) -> None:
        def change() -> None:
            self.confirming = pending
        self._update(change)

    def _notify(self, text: str) -> None:
        def change() -> None:
            self.notices = [*self.notices, shown(text)][-NOTICES_KEPT:]
        self._update(change)

    def _main(self) -> None:
        try:
            self._send(self.document, self.target)
        finally:
            self._release()
            if self.on_ended is not None:
                self.on_ended(self.document)

    def _release(self) -> None:
        """The document takes changes again (before the page hears the run has ended)."""
        with self.document.lock:
            self.document.busy = False

    def _send(self, document: Document, target: Target) -> None:
        client = None
        try:
            prepared = document.for_run()
            client = WatchedClient(target.credentials, timeout=(min(5.0, target.timeout),
                                                                target.timeout),
                                   attempts=target.retries)
            total = prepared.valid_rows("purchase") + prepared.valid_rows("configure")

            def running() -> None:
                self.state, self.total = "running", total
            self._update(running)
            report = run(prepared, client, scope=target.scope, progress=self._progress,
                         should_stop=self.cancel.is_set, notify=self._notify,
                         dry_run=self.dry_run, confirming=self._confirming,
                         sandbox=target.sandbox)
            document.take_results(report)
            self._release()
            if client.refused is not None and self.on_refused is not None:
                self.on_refused(target, refusal(client.refused))

            def finished() -> None:
                self.report, self.state = report, "done"
            self._update(finished)
        except Busy as exc:
            self._fail(f"{exc}; try again when it has finished")
        except ImporterError as exc:
            self._fail(str(exc))
        except Exception as exc:  # a bug: the page says so instead of spinning forever
            self._fail(f"internal error: {type(exc).__name__}: {shown(exc, 200)}")
        finally:
            if client is not None:
                client.close()

    def _fail(self, message: str) -> None:
        self._release()
        message = self._plain(message)

        def change() -> None:
            self.state, self.error = "failed", message
        self._update(change)


class Runs:
    """Every run of this server; one at a time per document (the journal lock says the rest)."""

    def __init__(self, on_refused: Callable[[Target, str], None] | None = None,
                 on_ended: Callable[[Document], None] | None = None) -> None:
        self.on_refused = on_refused
        self.on_ended = on_ended
        self.runs: dict[str, Run] = {}
        self.lock = threading.Lock()
        self.changed = threading.Condition()  # every run's: one stream waits for them all

    def start(self, document: Document, dry_run: bool, target: Target,
              asked: Callable[[], None] | None = None) -> Run:
        """A run of `document`; `asked` (which may raise) is called under the document's lock
        just before, so nothing changes between the buy question's check and the start."""
        with self.lock, document.lock:
            if document.busy:
                raise Busy("this file is already being run; wait for it to finish")
            if asked is not None:
                asked()
            current = Run(secrets.token_hex(8), document, dry_run, target,
                          changed=self.changed, on_refused=self.on_refused,
                          on_ended=self.on_ended)
            document.busy = True
            self.runs[current.id] = current
        current.start()
        return current

    def changes(self, seen: dict[str, int], timeout: float) -> list[dict]:
        """Snapshots of the runs changed since `seen` (run id -> version, updated), waiting
        up to `timeout` for one."""
        def fresh() -> list[Run]:
            return [r for r in list(self.runs.values()) if seen.get(r.id) != r.version]
        with self.changed:
            self.changed.wait_for(lambda: bool(fresh()), timeout)
            found = [r.snapshot() for r in fresh()]
        for snapshot in found:
            seen[snapshot["id"]] = snapshot["version"]
        return found

    def active(self, document: Document) -> Run | None:
        found = [r for r in self.runs.values() if r.document is document]
        return found[-1] if found else None

    def get(self, run_id: str) -> Run:
        return self.runs[run_id]

    def stop_all(self, timeout: float = 30.0) -> None:
        """Server shutting down: every run finishes its row in flight and writes its results."""
        for current in self.runs.values():
            current.cancel.set()
        for current in self.runs.values():
            if current.thread is not None:
                current.thread.join(timeout)
