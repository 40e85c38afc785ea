"""The web app's "Export the blocks you own": the same `importer.export` call as the command,
the workbook then opened in the grid as an uploaded document, its .xlsx offered for download.

Each export gets a name of its own (`<SID>-blocks-<time>.xlsx`): a rollout folder and journal
per export, as `importer export` takes the next free name.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from flask import Flask, Response, abort, jsonify, request, send_file

from importer import excel
from importer.export import SCOPES, Request, export_blocks, target_path
from importer.sending.client import ApiClient


def register(app: Flask) -> None:
    """Add the export's routes to the app (unsafe ones pass the app's security checks)."""
    shared = app.extensions["importer"]
    workspace, state = shared["workspace"], shared["state"]

    @app.post("/api/exports")
    def export_owned() -> Response:
        target = state["target"]
        if target is None:
            abort(400, "Give the API credentials first.")
        body = request.get_json(silent=True) or {}
        scope = SCOPES.get(str(body.get("scope") or ""))
        sid = str(body.get("sid") or "").strip()
        if scope is None or not sid:
            abort(400, "Choose a property or an account, and give its Sid.")
        text = str(body.get("text") or "").strip() or None
        wanted = Request(scope, sid, text=text)
        with tempfile.TemporaryDirectory() as folder:
            name = f"{sid}-blocks-{time.strftime('%Y%m%d-%H%M%S')}.xlsx"
            path = target_path(wanted, Path(folder) / name, False, Path(folder))
            client = ApiClient(target.credentials, timeout=(min(5.0, target.timeout),
                                                            target.timeout),
                               attempts=target.retries)
            try:  # an ImporterError is the app's to show, with the page's way out
                done = export_blocks(client, wanted, path)
            finally:
                client.close()
            with done.path.open("rb") as stream:
                try:
                    document = workspace.add(name, stream)
                except ValueError as exc:
                    abort(400, str(exc))
        return jsonify({"document": document.summary(), "count": done.count,
                        "notes": done.notes, "download": f"/api/exports/{document.id}.xlsx"})

    @app.get("/api/exports/<doc_id>.xlsx")
    def exported_file(doc_id: str) -> Response:
        try:
            document = workspace.get(doc_id)
        except KeyError:
            abort(404, "That file is no longer open here; export it again.")
        return send_file(document.path, as_attachment=True, download_name=document.name,
                         mimetype=excel.XLSX_TYPE)
