"""The results workbook's Summary: the counts first (each with what its status means), then
the run (every sheet of the input and what became of it, how the file was read: each guess
said as such), then the technical details."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from importer import excel
from importer.reading.marks import SUMMARY, rename_reason
from importer.report import NOT_DONE, RunReport, Severity, Status, readable_time
from importer.results.look import Styles, lines, per_line, tall
from importer.results.pages import print_setup

if TYPE_CHECKING:
    from importer.checking.schemas import Checked

STATUS_MEANING = {
    Status.OK: "Sent and accepted by the API. Nothing more to do.",
    Status.INVALID: "Not sent: a cell is wrong (marked red; its note says why). Fix it in this "
                    "workbook and run the workbook again.",
    Status.REJECTED: "The API said no, to this row or to the account or property it names "
                     "(see Message and Error Code). Fix it and run again.",
    Status.FAILED: "Not done, or not confirmed: the API failed or could not be reached, even "
                   "after retries (Message says whether it was sent). Nothing is wrong with the "
                   "row and it bought nothing: run again later; sending it again is safe.",
    Status.UNKNOWN: "A purchase that may or may not have gone through: it could not be "
                    "confirmed. Check the block in the Fone Dynamics portal; the next run checks "
                    "again before buying.",
    Status.SKIPPED: "Not sent, for the reason in Message: done in an earlier run, already "
                    "owned, its purchase failed in this run, or the run stopped first.",
    Status.VALID: "Checked and correct; a run would send it (this was a check only, "
                  "nothing was sent).",
}
SUMMARY_TEXT_WIDTH = 72
_OLD_RUN = "no: the valid rows were sent to the API"  # what results before 0.2 said of a run
NOTHING_SENT = "nothing: no row was sent to the API"
_MODES = {"run": "no",
          "dry-run": "yes: checked against the API, nothing was sent (dry run)",
          "validate": "yes: checked only, nothing was sent (importer validate)"}


def write_summary(ws: Worksheet, styles: Styles, report: RunReport, checked: list[Checked],
                  names: dict[str, str]) -> None:
    """Counts first (each beside its label, with what the status means), then the run (every
    input sheet, under its name here), then the technical details; one printed page."""
    counts = report.counts or {s.value: sum(o.status is s for o in report.outcomes)
                               for s in Status}
    chars = per_line(SUMMARY_TEXT_WIDTH)
    r = 0

    def line(label: str, text: str = "", number: int | None = None,
             label_fmt: Format | None = None) -> None:
        nonlocal r
        ws.write_string(r, 0, label, label_fmt or styles.label)
        if number is not None:
            ws.write_number(r, 1, number, styles.count)
        if text:
            ws.write_string(r, 2, text[:excel.CELL_CHARS], styles.wrap)
            tall(ws, r, lines(text, chars))
        r += 1

    def heading(*titles: str) -> None:
        nonlocal r
        r += r > 0
        for c in range(3):
            ws.write_string(r, c, titles[c] if c < len(titles) else "", styles.heading)
        r += 1

    heading("Status", "Rows", "What it means")
    for name, count in counts.items():
        line(name, STATUS_MEANING[Status(name)], count, styles.status[Status(name)])
    line("Total", number=sum(counts.values()))

    heading("This run")
    line("File", report.input_path)
    results = {c.sheet.name: r for c, r in zip(checked, report.sheets, strict=True)}
    reading = checked[0].sheet.file if checked else None
    sheets = [(n, what) for n, what, _ in reading.sheets] if reading and reading.sheets else [
        (c.sheet.name, "") for c in checked]
    for sheet, what in sheets:
        name = names.get(sheet, sheet)
        if sheet in results:
            rows = len(results[sheet].outcomes)
            what = f"read as {results[sheet].operation}, {rows:,} row{'s' if rows != 1 else ''}"
        text = f"{name}: {what}"
        if name != sheet:
            text += f". Your sheet “{sheet}” is called “{name}” here: {rename_reason(sheet)}."
        line("Sheet", text)
    for what, how, given in reading.options if reading else []:
        line(what, how if what == "Format" else f"{how} ({'given' if given else 'guessed'})")
    line("Dry run", _MODES.get(report.mode, report.mode))
    if report.mode == "run":
        line("Sent", sent_line(report.sent))
    if report.undo_path:
        line("Undo", f"{Path(report.undo_path).name}{UNDO_SAYS}")
    line("Started", readable_time(report.started_at))
    line("Finished", readable_time(report.finished_at) if report.finished_at else "")
    line("API", f"{report.base_url} (the built-in sandbox: nothing real was bought or changed)"
         if report.sandbox and report.base_url else report.base_url or "none: nothing was sent")
    line("Aborted", report.aborted or "no")
    line("Interrupted", "yes: the run stopped before every row was sent"
         if report.interrupted else "no")
    for note in report.notes:
        line("Note", note)
    errors = sum(i.severity is Severity.ERROR for i in report.issues)
    unsettled = sum(o.status in NOT_DONE for o in report.outcomes)
    api = f", {unsettled:,} rows the API refused or that did not go through" if unsettled else ""
    line("Problems", f"{errors:,} errors and {len(report.issues) - errors:,} warnings from the "
         f"checks{api}; the Errors sheet lists each")

    heading("Technical details")
    line("Input SHA-256", report.input_sha256)
    line("Journal", report.journal_path or "none (nothing was sent)")
    line("Tool version", report.tool_version)
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 8)
    ws.set_column(2, 2, SUMMARY_TEXT_WIDTH, styles.wrap)
    print_setup(ws, landscape=False)
    ws.hide_gridlines(1)  # a form, not a table: no grid on paper
    ws.fit_to_pages(1, 1)


UNDO_SAYS = (": the blocks' settings before this run; `importer undo` this workbook, or "
             "\"Put back what this run changed\" in the page, puts them back")


def sent_line(sent: int) -> str:
    """What the run sent, counted by the sender: an aborted run says so truthfully."""
    if not sent:
        return NOTHING_SENT
    return (f"{sent:,} row{'s were' if sent != 1 else ' was'} sent to the API (each row's "
            "Status says what became of it)")


def read_summary(path: Path) -> dict | None:
    """What a results workbook's Summary says of its run (the count per status, whether
    anything was sent, when it finished), for a list of earlier runs; None for a file that is
    not one or cannot be read."""
    import openpyxl  # only to read earlier results: a run or validate never needs it

    try:
        book = openpyxl.load_workbook(path, read_only=True)
        try:
            rows = list(book[SUMMARY].iter_rows(max_row=80, max_col=3, values_only=True))
        finally:
            book.close()
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None
    statuses = {s.value for s in Status}
    counts: dict[str, int] = {}
    said: dict[str, str] = {}
    for label, number, text in ((*r, None, None, None)[:3] for r in rows):
        if label in statuses and isinstance(number, int | float):
            counts.setdefault(str(label), int(number))
        elif isinstance(label, str) and label not in said:
            said[label] = str(text or "")
    if not counts:
        return None
    run = said.get("Dry run") in (_MODES["run"], _OLD_RUN)
    sent = said.get("Sent", "") != NOTHING_SENT if "Sent" in said else (
        said.get("Dry run") == _OLD_RUN)
    undo = said.get("Undo", "")
    return {"counts": counts, "sent": run and sent, "dry_run": not run,
            "undo": undo[:-len(UNDO_SAYS)] if undo.endswith(UNDO_SAYS) else "",
            "finished": said.get("Finished") or said.get("Started", "")}


def bought_in(path: Path) -> int:
    """How many blocks the run of a results workbook bought (its purchase sheets' OK rows)."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True)
    except (OSError, ValueError, zipfile.BadZipFile):
        return 0
    try:
        lines = [r[2] for r in book[SUMMARY].iter_rows(max_row=80, max_col=3, values_only=True)
                 if r and r[0] == "Sheet" and isinstance(r[2], str)] if SUMMARY in book else []
        purchase = {text.split(": read as purchase", 1)[0] for text in lines
                    if ": read as purchase" in text}
        bought = 0
        for name in purchase & set(book.sheetnames):
            rows = book[name].iter_rows(values_only=True)
            header = next((r for _, r in zip(range(50), rows, strict=False) if "Status" in r),
                          ())  # below any title rows the input had
            if header:
                at = header.index("Status")
                bought += sum(1 for r in rows if len(r) > at and r[at] == "OK")
        return bought
    finally:
        book.close()
