"""Put it back from the page: the preview and the question of `importer undo`, for a run's
results workbook in its rollout's folder (the Results step, or "Earlier runs of this file").

The preview is `rollback.plan_undo` (a fresh listing says what each block is set to now); a
yes names the counts it was shown, and a plan that changed since (the undo workbook rewritten
by a run, another undo) asks again. Then the undo workbook is opened as a file of the rollout
and run as any file is, with its journal, locks and results: a second put-back sends nothing.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Response, abort, jsonify, request

from importer.rollback import UndoPlan, plan_undo, undo_file
from importer.sending.client import ApiClient
from importer.web.history import workbooks
from importer.web.runs import Target

SHOWN = 10  # settings listed in the preview; the counts say the rest


def preview(plan: UndoPlan, target: Target) -> dict:
    """What putting the run back changes, as the page shows it (every text is text)."""
    return {
        "undo": plan.prepared.path.name, "settings": len(plan.shifts), "blocks": plan.blocks,
        "changed": plan.changed, "bought": plan.bought, "listed": plan.listed,
        "shifts": [{"row": s.row, "block": s.block, "setting": s.setting, "now": s.now,
                    "before": s.before, "since": s.since} for s in plan.shifts[:SHOWN]],
        "kept": [{"row": r, "block": b, "why": w} for r, b, w in plan.kept[:SHOWN]],
        "kept_count": len(plan.kept),
        "question": plan.question(target.credentials),
        "asked": _asked(plan),
    }


def _asked(plan: UndoPlan) -> dict:
    return {"undo": plan.prepared.path.name, "settings": len(plan.shifts),
            "blocks": plan.blocks, "sha256": plan.prepared.sha256}


def register(app: Flask) -> None:
    """Add the routes: the preview (GET) and the put-back (POST, with the yes)."""
    found = app.extensions["importer"]
    workspace, runs, state = found["workspace"], found["runs"], found["state"]

    def plan_for(doc_id: str, name: str) -> tuple[UndoPlan, Target]:
        target: Target | None = state["target"]
        if target is None:
            abort(400, "Give the API credentials first.")
        try:
            folder = workspace.get(doc_id).folder
        except KeyError:
            abort(404, "That file is no longer open here; upload it again.")
        if name not in {p.name for p in workbooks(folder)}:
            abort(404, "That results workbook is no longer here.")
        results = folder / name
        try:
            prepared = workspace.read(undo_file(results))
        except ValueError as exc:  # the undo workbook no longer reads (edited by hand)
            abort(400, str(exc))
        client = ApiClient(target.credentials, timeout=(min(5.0, target.timeout),
                                                        target.timeout),
                           attempts=target.retries)
        try:
            return plan_undo(results, prepared, client), target
        finally:
            client.close()

    @app.get("/api/documents/<doc_id>/history/<name>/undo")
    def undo_preview(doc_id: str, name: str) -> Response:
        plan, target = plan_for(doc_id, name)
        return jsonify(preview(plan, target))

    @app.post("/api/documents/<doc_id>/history/<name>/undo")
    def put_back(doc_id: str, name: str) -> Response:
        plan, target = plan_for(doc_id, name)
        if not plan.shifts:
            abort(409, "Nothing to put back: every block is as it was before that run, or "
                       "its earlier settings are not known.")
        given = (request.get_json(silent=True) or {}).get("confirmed")
        if given != _asked(plan):
            response = jsonify({**preview(plan, target), **({
                "error": "What would be put back changed since you were asked; nothing was "
                         "sent. Here it is again."} if isinstance(given, dict) else {})})
            response.status_code = 409
            return response
        path: Path = plan.prepared.path
        document = workspace.open(path, path.name, plan.prepared)  # checked once, above
        document.use_scope(target.scope)
        run = runs.start(document, False, target)  # Busy (409) while the rollout runs
        return jsonify({"document": document.summary(), "run": run.snapshot()})
