"""The web app: routes over the same library calls as the command line (a thin shell).

Every answer is JSON except the page, the static files and downloads. Bad input is a 400 with
the core's own one-line message; nothing here checks a row or words a status itself.
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, Response, abort, jsonify, render_template, request, send_file
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from importer import config as settings
from importer import excel
from importer.errors import ImporterError
from importer.pipeline import Options
from importer.results.templates import TEMPLATES, write_template
from importer.results.workbook import STATUS_COLOURS
from importer.sending.client import Credentials, check_base_url
from importer.sending.locks import Busy
from importer.text import redact_url, shown
from importer.web import account, export, history, mapping, progress, putback, security
from importer.web.documents import Document, without_paths
from importer.web.finding import check_size, query_from
from importer.web.readas import Reading
from importer.web.runs import Runs, Target
from importer.web.workspace import NeedsMapping, Workspace, with_way_out

MAX_UPLOAD = 200 * 1024 * 1024  # far above any real rollout; the loader has its own caps


@dataclass
class Settings:
    """What `importer serve` was started with."""

    root: Path  # the workspace folder
    target: Target | None  # None: credentials must be typed into the page
    options: Options = field(default_factory=Options)
    timeout: float = 30.0
    retries: int = 5
    # Without a target: the address and AccountSid given or configured, offered in the form.
    offered: dict[str, str] = field(default_factory=dict)


def create_app(settings_: Settings, token: str) -> Flask:
    """The app for one launch; `token` is the secret in the URL the command prints."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_UPLOAD
    sessions = security.install(app, token)
    workspace = Workspace(settings_.root, settings_.options)
    state: dict = {"target": settings_.target, "refused": ""}

    def refused(target: Target, message: str) -> None:
        """The API said 401 during a run: ask for the credentials again, with what it said."""
        if state["target"] is target and not target.sandbox:
            state["target"], state["refused"] = None, message

    runs = Runs(on_refused=refused, on_ended=workspace.run_ended)
    streams = progress.Streams()
    app.extensions["importer"] = {"workspace": workspace, "runs": runs, "state": state,
                                  "streams": streams, "sessions": sessions}
    colours = "".join(f"--{s.value.lower()}-bg: {bg}; --{s.value.lower()}-fg: {fg}; "
                      for s, (bg, fg) in STATUS_COLOURS.items())

    def describe_target() -> dict:
        target = state["target"]
        if target is None:
            offered = {k: v for k, v in settings_.offered.items()  # never a URL's user-info
                       if v and (k != "base_url" or redact_url(v) == v)}
            return {"ready": False, "offered": offered,
                    **({"refused": state["refused"]} if state["refused"] else {})}
        return {"ready": True, "sandbox": target.sandbox,
                "base_url": redact_url(target.credentials.base_url),
                "account_sid": shown(target.credentials.account_sid)}

    def scoped(found: Document) -> Document:
        """The document as runs to the current target would see it (rows done for it)."""
        found.use_scope(state["target"].scope if state["target"] is not None else "")
        return found

    def document(doc_id: str) -> Document:
        try:
            return scoped(workspace.get(doc_id))
        except KeyError:
            abort(404, "That file is no longer open here; upload it again.")

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        if isinstance(exc, RequestEntityTooLarge):
            message = f"The file is larger than {MAX_UPLOAD // 2**20} MB."
        else:
            message = without_paths(exc.description or exc.name, settings_.root)
        response = jsonify({"error": message})
        response.status_code = exc.code or 500
        return response

    @app.errorhandler(ImporterError)
    def _importer_error(exc: ImporterError) -> Response:
        response = jsonify({"error": with_way_out(exc, without_paths(str(exc), settings_.root))})
        response.status_code = 409 if isinstance(exc, Busy) else 400
        return response

    @app.get("/")
    def index() -> str:
        # Never the page's secret: a cookie reaches every local server (security.py).
        return render_template("index.html", templates=sorted(TEMPLATES),
                               launch=sessions.cookie, page_header=security.PAGE_HEADER)

    @app.get("/colours.css")
    def status_colours() -> Response:
        """The results workbook's status colours, as a style sheet (no inline style)."""
        return Response(f":root {{ {colours}}}\n", mimetype="text/css")

    @app.get("/api/state")
    def api_state() -> Response:
        workspace.sweep()
        active = [r.snapshot() for r in runs.runs.values()]
        return jsonify({"target": describe_target(), "recent": workspace.recent(),
                        "documents": [scoped(d).summary()
                                      for d in workspace.documents.values()],
                        "runs": active})

    @app.get("/templates/<name>.xlsx")
    def template(name: str) -> Response:
        if name not in TEMPLATES:
            abort(404, "No such template.")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{name}.xlsx"
            write_template(name, path)
            data = path.read_bytes()
        return _download(data, f"{name}-template.xlsx")

    @app.post("/api/documents")
    def upload() -> Response:
        sent = request.files.get("file")
        if sent is None or not sent.filename:
            abort(400, "Choose a file to upload.")
        try:
            found = workspace.add(sent.filename, sent.stream)
        except NeedsMapping as exc:  # the page asks which column is which
            return jsonify(mapping.describe(exc.pending))
        except ValueError as exc:
            abort(400, str(exc))
        return jsonify(scoped(found).summary())

    @app.post("/api/pending/<pending_id>")
    def map_columns(pending_id: str) -> Response:
        """The person's column mapping for an upload the loader could not read alone."""
        waiting = workspace.pending.get(pending_id)
        if waiting is None:
            abort(404, "That upload is no longer waiting; upload the file again.")
        try:
            sheet, answer = mapping.answer(waiting, request.get_json(silent=True) or {})
            found = workspace.map(pending_id, sheet, answer)
        except NeedsMapping as exc:
            return jsonify(mapping.describe(exc.pending))
        except ValueError as exc:
            abort(400, str(exc))
        return jsonify(found.summary())

    @app.post("/api/documents/<doc_id>/reading")
    def read_again(doc_id: str) -> Response:
        """Read the file another way (encoding, delimiter, sheets, header row), as the CLI's
        reading options do: the document read so replaces it."""
        found = document(doc_id)
        try:
            how = Reading.given(request.get_json(silent=True) or {})
            return jsonify(scoped(workspace.read_again(found, how)).summary())
        except NeedsMapping as exc:  # read so, its columns need saying
            return jsonify(mapping.describe(exc.pending))
        except ValueError as exc:
            abort(400, str(exc))

    @app.post("/api/documents/<doc_id>/columns")
    def change_columns(doc_id: str) -> Response:
        """Read a sheet's columns another way: the mapping form, as the sheet is read now."""
        found = document(doc_id)
        index = (request.get_json(silent=True) or {}).get("sheet", 0)
        if not isinstance(index, int) or not 0 <= index < len(found.checked):
            abort(404, "No such sheet.")
        try:
            return jsonify(mapping.describe(workspace.remap(found, index)))
        except ValueError as exc:
            abort(400, str(exc))

    @app.delete("/api/pending/<pending_id>")
    def drop_pending(pending_id: str) -> Response:
        workspace.drop_pending(pending_id)
        return jsonify({})

    @app.post("/api/recent/<key>")
    def reopen(key: str) -> Response:
        try:
            return jsonify(scoped(workspace.reopen(key)).summary())
        except KeyError:
            abort(404, "That file is no longer in the workspace.")

    @app.get("/api/documents/<doc_id>")
    def summary(doc_id: str) -> Response:
        return jsonify(document(doc_id).summary())

    @app.get("/api/documents/<doc_id>/sheets/<int:index>/rows")
    def rows(doc_id: str, index: int) -> Response:
        found = document(doc_id)
        if not 0 <= index < len(found.checked):
            abort(404, "No such sheet.")
        return jsonify(found.rows(index, _arg("page", 1), _arg("size", 100),
                                  query=query_from(request.args)))

    @app.get("/api/documents/<doc_id>/sheets/<int:index>/next-problem")
    def next_problem(doc_id: str, index: int) -> Response:
        """Where the next bad cell is, among the rows the grid shows (any page)."""
        found = document(doc_id)
        if not 0 <= index < len(found.checked):
            abort(404, "No such sheet.")
        answer = found.next_problem(index, query_from(request.args), _arg("after", None),
                                    _arg("size", 100))
        if answer is None:
            abort(404, "No row shown here has a problem.")
        return jsonify(answer)

    @app.post("/api/documents/<doc_id>/sheets/<int:index>/bulk")
    def bulk(doc_id: str, index: int) -> Response:
        """Many cells as one undoable step: a list of {row, column, value} (a paste, a fill
        down), or a find and replace in one column over every row the query finds."""
        found = document(doc_id)
        if not 0 <= index < len(found.checked):
            abort(404, "No such sheet.")
        body = request.get_json(silent=True) or {}
        try:
            if isinstance(body.get("replace"), dict):
                spec = body["replace"]
                find, with_ = spec.get("find") or "", spec.get("with") or ""
                if not isinstance(find, str) or not isinstance(with_, str):
                    raise TypeError
                query = query_from({str(k): str(v) for k, v in (body.get("query") or {}).items()})
                return jsonify(found.replace(index, str(spec["column"]), find, with_,
                                             bool(spec.get("whole")), query))
            cells = body["cells"]
            if not isinstance(cells, list):
                raise TypeError
            check_size(len(cells))  # refused before a single cell is read
            listed = []
            for c in cells:
                value = c.get("value")
                if value is not None and not isinstance(value, str):
                    raise TypeError
                listed.append((int(c["row"]), str(c["column"]), value or ""))
            return jsonify(found.bulk(index, listed))
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            abort(400, "Those cells cannot be changed.")

    @app.patch("/api/documents/<doc_id>/cells")
    def edit(doc_id: str) -> Response:
        found = document(doc_id)
        body = request.get_json(silent=True) or {}
        try:
            index, row = int(body["sheet"]), int(body["row"])
            column, value = str(body["column"]), body.get("value")
            if value is not None and not isinstance(value, str):
                raise TypeError
            return jsonify(found.edit(index, row, column, value or ""))
        except (KeyError, IndexError, TypeError, ValueError):
            abort(400, "That cell cannot be changed.")

    @app.post("/api/documents/<doc_id>/undo")
    def undo(doc_id: str) -> Response:
        undone = document(doc_id).undo()
        if undone is None:
            abort(409, "Nothing to undo.")
        return jsonify(undone)

    @app.get("/api/documents/<doc_id>/download")
    def download(doc_id: str) -> Response:
        found = document(doc_id)
        path = found.save_edited()  # sent from disk, not read into memory first
        return send_file(path, as_attachment=True, download_name=path.name,
                         mimetype=excel.XLSX_TYPE)

    @app.get("/api/documents/<doc_id>/to-fix")
    def download_to_fix(doc_id: str) -> Response:
        found = document(doc_id)
        path = found.save_needing()
        if path is None:
            abort(409, "No row needs you: every row is valid or done.")
        return send_file(path, as_attachment=True, download_name=path.name,
                         mimetype=excel.XLSX_TYPE)

    @app.post("/api/credentials")
    def credentials() -> Response:
        body = request.get_json(silent=True) or {}
        sid, token_ = str(body.get("account_sid") or ""), str(body.get("auth_token") or "")
        url = str(body.get("base_url") or "") or None
        given = settings.credentials({}, url, sid or None, token_ or None)
        if given is None or not sid or not token_:
            abort(400, "Give the AccountSid and the auth token.")
        check_base_url(given.base_url)  # raises a clear UsageError, without the credentials
        if (why := account.check(given, settings_.timeout)) is not None:
            abort(400, why)
        state["refused"] = ""
        state["target"] = Target(given, settings.scope_of(given), False, settings_.timeout,
                                 settings_.retries)
        return jsonify(describe_target())

    @app.post("/api/documents/<doc_id>/runs")
    def start_run(doc_id: str) -> Response:
        found = document(doc_id)
        target: Target | None = state["target"]
        if target is None:
            abort(400, "Give the API credentials first.")
        body = request.get_json(silent=True) or {}
        dry_run = bool(body.get("dry_run"))

        def asked() -> None:
            """Buying needs a yes to the question about the file as it is now: the yes names
            the version and the count it was shown, and any change since (an edit in another
            tab, a run's results) asks again. Checked under the document's lock, at the start."""
            purchases = found.valid_rows("purchase")
            if not purchases or dry_run or target.sandbox:
                return
            now = {"version": found.version, "count": purchases}
            given = body.get("confirmed")
            if isinstance(given, dict) and given == now:
                return
            raise _Ask(settings.spend_question(purchases, target.credentials), now,
                       changed=isinstance(given, dict))
        try:
            return jsonify(runs.start(found, dry_run, target, asked).snapshot())
        except _Ask as question:
            response = jsonify({"confirm": question.text, "asked": question.now,
                                **({"error": "The file changed since you were asked; nothing "
                                    "was sent. Here is the question again."}
                                   if question.changed else {})})
            response.status_code = 409
            return response

    @app.get("/api/documents/<doc_id>/run")
    def last_run(doc_id: str) -> Response:
        """The file's last run (null: none): the page's progress card and Results belong to
        the file shown, never to the run of another."""
        found = runs.active(document(doc_id))
        return jsonify(found.snapshot() if found else None)

    @app.get("/api/runs/<run_id>")
    def run_state(run_id: str) -> Response:
        return jsonify(_run(runs, run_id).snapshot())

    @app.get("/api/events")
    def events() -> Response:
        return progress.events(runs, streams)

    @app.post("/api/runs/<run_id>/cancel")
    def cancel(run_id: str) -> Response:
        current = _run(runs, run_id)
        current.cancel.set()
        return jsonify(current.snapshot())

    @app.get("/api/runs/<run_id>/results")
    def results(run_id: str) -> Response:
        report = _run(runs, run_id).report
        if report is None or not report.results_path:
            abort(404, "The results are not ready.")
        path = Path(report.results_path)
        return send_file(path, as_attachment=True, download_name=path.name,
                         mimetype=excel.XLSX_TYPE)

    export.register(app)  # "Export the blocks you own" (importer.web.export)
    history.register(app)  # earlier runs of a file (importer.web.history)
    putback.register(app)  # put back what a run changed (importer.web.putback)
    return app


class _Ask(Exception):
    """Purchases need the person's yes to the question about the file as it is now."""

    def __init__(self, text: str, now: dict, changed: bool) -> None:
        super().__init__(text)
        self.text, self.now, self.changed = text, now, changed


_LARGEST = 2**31  # no sheet, page or size is near it; pandas and numpy overflow far above


def _arg(name: str, default: int | None) -> int | None:
    """A whole number from the query string, or `default` where it is missing or not one;
    a number beyond any sheet is a 400 like other bad requests, not a 500 from numpy."""
    number = request.args.get(name, default, type=int)
    if number is not None and not -_LARGEST < number < _LARGEST:
        abort(400, f"{name} is out of range.")
    return number


def _run(runs: Runs, run_id: str):  # type: ignore[no-untyped-def]
    try:
        return runs.get(run_id)
    except KeyError:
        abort(404, "No such run.")


def _download(data: bytes, name: str) -> Response:
    return send_file(io.BytesIO(data), as_attachment=True, download_name=name,
                     mimetype=excel.XLSX_TYPE)


def sandbox_target(base_url: str, account_sid: str, auth_token: str, instance: object,
                   timeout: float, retries: int) -> Target:
    """Runs to a built-in sandbox; `instance` names its state (SandboxServer.instance), so
    what a rehearsal did never vouches for another sandbox, or for a reset one."""
    credentials = Credentials(base_url, account_sid, auth_token)
    return Target(credentials, f"sandbox:{instance}:{account_sid}", True, timeout, retries)
