"""`importer validate` end to end against the bare I/O floor, in one process run.

Ours: importer.cli.main(["validate", FILE, "--out", OUT]), exactly what the command does.
Floor: pandas.read_excel(engine="calamine", dtype=str) of the same file, then an openpyxl
write-only workbook holding the same cells as our results workbook: every input cell, the five
result headers, Status and Message per row, a fill (and a comment) on every cell an issue names,
a styled Status cell per row, plus the Summary and Errors sheets. Which cells are styled and what
the comments say is taken from one untimed run of ours. The two alternate, `--repeat` rounds.

    python bench/validate_e2e.py --rows 100000 --repeat 3
"""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pandas as pd
from common import alternate, arguments, environment, purchase_rows, ratio_line, timed, write_xlsx
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

TARGET = 0.5  # issue 28 (was 1.25)
RESULT_HEADERS = ("Status", "Message", "HTTP Status", "Error Code", "Submitted At")


@dataclass
class Plan:
    """What our results workbook holds beyond the input cells, by sheet row (0-based)."""

    header_row: int
    status: dict[int, tuple[str, str]] = field(default_factory=dict)  # row -> (status, message)
    marks: dict[int, list[tuple[int, bool, str]]] = field(default_factory=dict)  # (col, error, why)
    errors_rows: list[tuple] = field(default_factory=list)
    summary_rows: int = 0


def plan_from_ours(path: Path, out: Path) -> Plan:
    """Run ours once (untimed) and note every extra cell, style and comment it writes."""
    from importer.pipeline import Options, prepare, validate
    from importer.report import Severity

    prepared = prepare(path, Options(out=out))
    report = validate(prepared)
    (checked,) = prepared.checked
    sheet = checked.sheet
    (result,) = report.sheets
    plan = Plan(sheet.header_row)
    first_status = sheet.raw.shape[1]
    for row, outcome in zip(sheet.data.index, result.outcomes, strict=True):
        plan.status[row - 1] = (outcome.status.value, outcome.message)
    for issue in checked.issues:
        if issue.row is not None:
            col = sheet.columns.get(issue.column or "", first_status)
            plan.marks.setdefault(issue.row - 1, []).append(
                (col, issue.severity is Severity.ERROR, issue.message))
        plan.errors_rows.append((sheet.name, issue.row, issue.column or "", issue.value,
                                 issue.severity.value, issue.code, issue.message))
    plan.summary_rows = 20 + len(report.counts)
    return plan


def floor(path: Path, out: Path, plan: Plan) -> tuple[float, float]:
    """Read with calamine, write the same cells with openpyxl write-only; (read s, write s)."""
    start = time.perf_counter()
    frames = pd.read_excel(path, sheet_name=None, engine="calamine", dtype=str,
                           keep_default_na=False, na_values=[""], header=None)
    read = time.perf_counter() - start
    book = openpyxl.Workbook(write_only=True)
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    result_fill = PatternFill("solid", fgColor="FCE4D6")
    error_fill = PatternFill("solid", fgColor="FF9999")
    warning_fill = PatternFill("solid", fgColor="FFEB84")
    bold = Font(bold=True)
    status_styles = {"VALID": (PatternFill("solid", fgColor="E2EFDA"),
                               Font(bold=True, color="375623")),
                     "INVALID": (PatternFill("solid", fgColor="FFC7CE"),
                                 Font(bold=True, color="9C0006"))}
    for name, raw in frames.items():
        ws = book.create_sheet(name)
        width = raw.shape[1]

        for r, values in enumerate(raw.to_numpy(dtype=object)):
            row: list = [v if isinstance(v, str) else None for v in values]
            if r == plan.header_row:
                row = [styled(ws, v, header_fill, bold) for v in row]
                row += [styled(ws, h, result_fill, bold) for h in RESULT_HEADERS]
            elif r in plan.status:
                status, message = plan.status[r]
                row += [styled(ws, status, *status_styles[status]), message]
                for col, error, why in plan.marks.get(r, ()):
                    row[col] = styled(ws, row[col] if isinstance(row[col], str) else None,
                                      error_fill if error else warning_fill, comment=why)
            ws.append(row)
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{openpyxl.utils.get_column_letter(width + 5)}{len(raw)}"
    summary = book.create_sheet("Summary")
    for i in range(plan.summary_rows):
        summary.append([styled(summary, f"Key {i}", None, bold), f"value {i}"])
    errors = book.create_sheet("Errors")
    errors.append([styled(errors, h, None, bold)
                   for h in ("Sheet", "Row", "Column", "Value", "Severity", "Code", "Message")])
    for item in plan.errors_rows:
        errors.append(list(item))
    book.save(out)
    return read, time.perf_counter() - start - read


def styled(ws, value: str | None, fill: PatternFill | None,  # type: ignore[no-untyped-def]
           font: Font | None = None, comment: str | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    if fill is not None:
        cell.fill = fill
    if font is not None:
        cell.font = font
    if comment is not None:
        cell.comment = Comment(comment, "importer", height=96, width=240)
    return cell


def ours(path: Path, out: Path) -> None:
    from importer.checking.rules import clear_phone_cache
    from importer.cli import main as importer_main

    clear_phone_cache()  # each `importer validate` is a fresh process: start cold
    with contextlib.redirect_stdout(io.StringIO()):
        code = importer_main(["validate", str(path), "--out", str(out)])
    if code not in (0, 1):  # 1 = some rows INVALID, as intended
        raise SystemExit(f"importer validate exited {code}")


def breakdown(path: Path, out: Path) -> str:
    """One extra run of ours, phase by phase (load, check, outcomes + results workbook)."""
    import hashlib

    from importer.checking.rules import clear_phone_cache
    from importer.checking.schemas import check
    from importer.pipeline import Options, Prepared, validate
    from importer.reading.loading import load
    from importer.sending.submit import now

    clear_phone_cache()  # as in a fresh process
    t_load, sheets = timed(lambda: load(path))
    t_check, checked = timed(lambda: [check(s) for s in sheets])
    prepared = Prepared(path, hashlib.sha256(path.read_bytes()).hexdigest(), now(), checked,
                        Options(out=out), out, out.with_suffix(".journal.sqlite"))
    t_write, _ = timed(lambda: validate(prepared))
    return f"ours by phase: load {t_load:.2f} s, check {t_check:.2f} s, outcomes + workbook " \
           f"{t_write:.2f} s"


def main() -> int:
    parser = arguments(__doc__, 100_000)
    parser.add_argument("--dir", type=Path, help="where to write the files (default: a temp dir)")
    args = parser.parse_args()
    print(environment())
    with tempfile.TemporaryDirectory(prefix="bench-validate-", dir=args.dir) as tmp:
        tmp_path = Path(tmp)
        path = write_xlsx(tmp_path / "purchase.xlsx", purchase_rows(args.rows))
        plan = plan_from_ours(path, tmp_path / "plan.results.xlsx")
        comments = sum(len(m) for m in plan.marks.values())
        print(f"{args.rows:,} rows x 20 columns; results: {len(plan.status):,} status cells, "
              f"{comments:,} marked cells with comments, {len(plan.errors_rows):,} Errors rows")
        parts: list[tuple[float, float]] = []
        n = iter(range(10**6))
        timings = alternate(
            args.repeat,
            ours=lambda: ours(path, tmp_path / f"ours-{next(n)}.results.xlsx"),
            floor=lambda: parts.append(floor(path, tmp_path / f"floor-{next(n)}.xlsx", plan)),
        )
        print(breakdown(path, tmp_path / "breakdown.results.xlsx"))
    read = sorted(p[0] for p in parts)[len(parts) // 2]
    write = sorted(p[1] for p in parts)[len(parts) // 2]
    print(f"ours: {timings['ours']}")
    print(f"floor: {timings['floor']} (read median {read:.2f} s, write median {write:.2f} s)")
    print(ratio_line("validate e2e", timings["ours"].median, "floor",
                     timings["floor"].median, TARGET))
    return 0


if __name__ == "__main__":
    sys.exit(main())
