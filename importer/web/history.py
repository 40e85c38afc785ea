"""Earlier runs of a file: each results workbook kept in its rollout's folder, with when it ran
and what its Summary counted, to open again. Read from the workbooks themselves, so the list
survives the server and says what the files say (there is no second record to go stale).
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Response, abort, jsonify, send_file

from importer import excel
from importer.results.summary import read_summary

SHOWN = 20  # the newest; older ones stay in the workspace folder


def workbooks(folder: Path, shown: int = SHOWN) -> list[Path]:
    """The results workbooks of the rollout in `folder`, newest first (at most `shown`)."""
    return sorted((p for p in folder.glob("*.results*.xlsx") if p.is_file()),
                  key=lambda p: -p.stat().st_mtime)[:shown]


def earlier_runs(folder: Path, shown: int = SHOWN) -> list[dict]:
    """The results workbooks of the rollout in `folder`, newest first, with their counts."""
    runs = []
    for path in workbooks(folder, shown):
        said = read_summary(path)
        if said is not None:
            runs.append({"name": path.name, **said})
    return runs


def register(app: Flask) -> None:
    """Add the routes: the list, and each workbook in it (by name, only from the list)."""
    workspace = app.extensions["importer"]["workspace"]

    def folder_of(doc_id: str) -> Path:
        try:
            return workspace.get(doc_id).folder
        except KeyError:
            abort(404, "That file is no longer open here; upload it again.")

    @app.get("/api/documents/<doc_id>/history")
    def history(doc_id: str) -> Response:
        return jsonify(earlier_runs(folder_of(doc_id)))

    @app.get("/api/documents/<doc_id>/history/<name>")
    def earlier_results(doc_id: str, name: str) -> Response:
        folder = folder_of(doc_id)
        if name not in {p.name for p in workbooks(folder)}:  # only those, not a summary read
            abort(404, "That results workbook is no longer here.")
        return send_file(folder / name, as_attachment=True, download_name=name,
                         mimetype=excel.XLSX_TYPE)
