"""Results workbooks for the layout tests: validate through the real pipeline, or a run whose
outcomes are made here (every status, no network), and inputs with any sheet name at all."""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.sax.saxutils import quoteattr

from openpyxl.worksheet.worksheet import Worksheet

from importer.checking.schemas import check
from importer.pipeline import Options, prepare, validate
from importer.reading.loading import load
from importer.report import Outcome, RunReport, SheetResult, Status
from importer.results.files import rollout_stem
from importer.results.workbook import write_results
from tests.util import write_xlsx

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


def sample_inputs(*suffixes: str) -> list[Path]:
    """The samples themselves, not what the README's quick start leaves beside them (its
    results and undo workbooks)."""
    return sorted(p for p in SAMPLES.iterdir()
                  if p.suffix in (suffixes or (".xlsx", ".csv")) and rollout_stem(p) == p.stem)

STARTED, FINISHED = "2026-11-23T11:23:54+11:00", "2026-11-23T11:25:12+11:00"

# One of each status a sent row can end with, cycled over the valid rows.
SENT = [
    Outcome(Status.OK, "Accepted.", 200, "", "2026-11-23T11:24:01+11:00"),
    Outcome(Status.REJECTED, "Property PROTHER0001 is not yours.", 403, "FORBIDDEN",
            "2026-11-23T11:24:02+11:00"),
    Outcome(Status.FAILED, "Server error (still failing after retries)", 503, "",
            "2026-11-23T11:24:03+11:00"),
    Outcome(Status.UNKNOWN, "May have been bought; check it in the portal.", None, "",
            "2026-11-23T11:24:04+11:00"),
    Outcome(Status.SKIPPED, "Already applied on 22 Nov 2026 16:02; not sent again.", done=True),
    Outcome(Status.VALID, "Would be sent."),
    Outcome(Status.REJECTED, "Number block not available", 400, "NUMBER_BLOCK_NOT_AVAILABLE",
            "2026-11-23T11:24:05+11:00"),
]


def validated(source: Path, out: Path) -> Path:
    """`importer validate` through the pipeline (no network): the results workbook's path."""
    validate(prepare(source, Options(out=out)))
    return out


def ran(source: Path, out: Path, notes: tuple[str, ...] = ("Read this first.",)) -> RunReport:
    """A run's results workbook without a network: INVALID rows as checked, SENT cycled over
    the others."""
    checked = [check(s) for s in load(source)]
    report = RunReport(input_path=str(source), input_sha256="ab" * 32, started_at=STARTED,
                       finished_at=FINISHED, base_url="https://api.example.test", mode="run",
                       results_path=str(out), journal_path="/tmp/x.journal.sqlite",
                       tool_version="9.9.9", notes=list(notes),
                       issues=[i for c in checked for i in c.issues])
    sent = 0
    for c in checked:
        outcomes = []
        for row in c.sheet.data.index:
            if row in c.invalid:
                o = Outcome(Status.INVALID, "Fix the red cells.")
            else:
                o, sent = SENT[sent % len(SENT)], sent + 1
            outcomes.append(Outcome(o.status, o.message, o.http_status, o.error_code,
                                    o.submitted_at, o.done))
        report.sheets.append(SheetResult(c.sheet.name, c.sheet.operation.name, outcomes,
                                         [int(r) for r in c.sheet.data.index]))
    report.count()
    write_results(out, report, checked)
    return report


def xlsx_named(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    """An .xlsx whose sheets have exactly these names, even ones Excel and openpyxl refuse
    (as hand-made or converted files can have them): written under stand-in names, then
    renamed in xl/workbook.xml."""
    stand_in = {f"S{i}": name for i, name in enumerate(sheets)}
    draft = write_xlsx(path.with_suffix(".draft.xlsx"),
                       {k: sheets[v] for k, v in stand_in.items()})
    with zipfile.ZipFile(draft) as zin, zipfile.ZipFile(path, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "xl/workbook.xml":
                for k, name in stand_in.items():
                    data = data.replace(f'name="{k}"'.encode(),
                                        f"name={quoteattr(name)}".encode())
            zout.writestr(item, data)
    draft.unlink()
    return path


def printed(ws: Worksheet) -> tuple[object, ...]:
    """How a sheet prints: orientation, A4, fitted (to how many pages across, how many down),
    the rows and columns on every page (1 across is the file format's default: left out)."""
    setup = ws.page_setup
    return (setup.orientation, setup.paperSize, ws.sheet_properties.pageSetUpPr.fitToPage,
            setup.fitToWidth or 1, setup.fitToHeight, ws.print_title_rows, ws.print_title_cols)
