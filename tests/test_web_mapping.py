"""The page's words and the column mapping, with Flask's test client against the real app: no
server path, no command-line flag, no "sheet" for a CSV in anything the page gets; a file whose
columns the loader cannot tell is kept aside and read with the person's mapping, by the same
loader, which the edited download then no longer needs."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from flask.testing import FlaskClient

from importer.reading.loading import load
from importer.sandbox import SandboxServer
from importer.web import create_app
from importer.web.app import sandbox_target
from tests.test_web import SAME_ORIGIN, TOKEN, _logged_in, _settings, _wait_done
from tests.util import write_xlsx

pytestmark = pytest.mark.usefixtures("fast_settling")  # conftest: the floor scaled to these lags

UNKNOWN = "Property,Block,Phone number,Notes\nPRDEMO0001,NB100001,0412 345 678,first\n" \
          "PRDEMO0001,NB100002,0412 345 679,second\n"
AMBIGUOUS = "PropertySid,NumberBlockSid,Campaign\nPRDEMO0001,NB090001,Spring\n"


@pytest.fixture(name="client")
def sandbox_client(tmp_path: Path) -> Iterator[FlaskClient]:
    """The page's client, runs against the real sandbox."""
    with SandboxServer(db_path=str(tmp_path / "sandbox.sqlite")) as server:
        target = sandbox_target(server.base_url, server.account_sid, server.auth_token,
                                tmp_path / "sandbox.sqlite", 5.0, 2)
        yield _logged_in(create_app(_settings(tmp_path, target), TOKEN))


def _send(client: FlaskClient, name: str, data: bytes) -> tuple[int, dict]:
    response = client.post("/api/documents", headers=SAME_ORIGIN, data={
        "file": (io.BytesIO(data), name)})
    return response.status_code, response.json


def _plain(text: str, root: Path, csv: bool = True) -> None:
    """What the page shows: no folder of the server, no flag, no 'sheet' for a CSV."""
    assert str(root) not in text and "/rollouts/" not in text and "incoming" not in text
    assert "--" not in text, text
    if csv:
        assert "sheet" not in text.lower(), text


def _map(client: FlaskClient, mapping: dict, operation: str, columns: dict[int, str]) -> dict:
    response = client.post(f"/api/pending/{mapping['id']}", headers=SAME_ORIGIN,
                           json={"operation": operation, "header_row": mapping["header_row"],
                                 "columns": {str(p): f for p, f in columns.items()}})
    assert response.status_code == 200, response.json
    return response.json


def _root(client: FlaskClient) -> Path:
    return client.application.extensions["importer"]["workspace"].root


def test_unknown_headers_ask_which_column_is_which(client: FlaskClient) -> None:
    code, body = _send(client, "unknown.csv", UNKNOWN.encode())
    assert code == 200 and "mapping" in body
    mapping = body["mapping"]
    _plain(mapping["message"], _root(client))
    assert mapping["message"].startswith("unknown.csv: cannot tell whether this file is for "
                                         "purchase or configure")
    assert "such as AnswerPoint (purchase) or RoutingMethod (configure)" in mapping["message"]
    assert mapping["message"].endswith("choose it below, and say which column is which.")
    assert mapping["sheet"] is None and mapping["header_row"] == 1
    assert [c["header"] for c in mapping["columns"]] == ["Property", "Block", "Phone number",
                                                         "Notes"]
    assert mapping["columns"][2]["values"] == ["0412 345 678", "0412 345 679"]
    ops = {op["name"]: op for op in mapping["operations"]}
    assert set(ops) == {"purchase", "configure"} and mapping["operation"] is None
    # The guesses are the loader's: its aliases, then the column's kind ("phone number").
    assert ops["purchase"]["guesses"] == {"0": "PropertySid", "1": "NumberBlockSid",
                                          "2": "AnswerPoint"}
    assert ops["configure"]["guesses"]["2"] == "EndpointNumber"
    # The choices are the operation spec's columns, required ones marked.
    fields = {f["name"]: f for f in ops["purchase"]["fields"]}
    assert fields["AnswerPoint"]["required"] and fields["PropertySid"]["one_of"]
    assert "RoutingMethod" not in fields
    # Nothing of the upload is kept in a rollout folder until it loads.
    assert not (_root(client) / "rollouts").exists()


def test_the_mapping_goes_through_the_loader_and_into_the_download(
        client: FlaskClient, tmp_path: Path) -> None:
    _, body = _send(client, "unknown.csv", UNKNOWN.encode())
    doc = _map(client, body["mapping"], "purchase",
               {0: "PropertySid", 1: "NumberBlockSid", 2: "AnswerPoint", 3: ""})
    sheet = doc["sheets"][0]
    assert sheet["operation"] == "purchase" and sheet["counts"] == {"VALID": 2}
    assert sheet["renamed"] == [["Property", "PropertySid"], ["Block", "NumberBlockSid"],
                                ["Phone number", "AnswerPoint"]]
    assert [c["name"] for c in sheet["columns"]] == ["PropertySid", "NumberBlockSid",
                                                     "AnswerPoint", None]
    # A re-read (rows let go, read again from the workspace copy) applies the mapping again.
    document = client.application.extensions["importer"]["workspace"].get(doc["id"])
    document.unload()
    assert document.summary()["sheets"][0]["counts"] == {"VALID": 2}
    response = client.get(f"/api/documents/{doc['id']}/download")
    path = tmp_path / "edited.xlsx"
    path.write_bytes(response.data)
    ws = openpyxl.load_workbook(path).worksheets[0]
    assert [c.value for c in ws[1]] == ["PropertySid", "NumberBlockSid", "AnswerPoint", "Notes"]
    (read,) = load(path)  # as the command line reads it: no mapping needed
    assert read.operation.name == "purchase" and read.renamed == []
    assert read.data["AnswerPoint"].tolist() == ["0412 345 678", "0412 345 679"]


def test_a_mapping_still_missing_a_required_column_asks_again(client: FlaskClient) -> None:
    _, body = _send(client, "unknown.csv", UNKNOWN.encode())
    again = _map(client, body["mapping"], "purchase", {0: "PropertySid", 1: "NumberBlockSid"})
    mapping = again["mapping"]
    _plain(mapping["message"], _root(client))
    assert "no AnswerPoint column; purchase needs it" in mapping["message"]
    assert mapping["operation"] == "purchase"  # chosen: not asked again
    doc = _map(client, mapping, "purchase", {0: "PropertySid", 1: "NumberBlockSid",
                                             2: "AnswerPoint"})
    assert doc["sheets"][0]["counts"] == {"VALID": 2}


def test_a_mapped_column_is_checked_by_the_same_rules(client: FlaskClient) -> None:
    data = "Property,Block,Phone number\nPRDEMO0001,NB100001,12345\n"
    _, body = _send(client, "bad.csv", data.encode())
    doc = _map(client, body["mapping"], "purchase",
               {0: "PropertySid", 1: "NumberBlockSid", 2: "AnswerPoint"})
    assert doc["sheets"][0]["counts"] == {"INVALID": 1}
    rows = client.get(f"/api/documents/{doc['id']}/sheets/0/rows").json["data"]
    assert "not a valid Australian answering point" in rows[0]["_message"]


def test_an_ambiguous_file_asks_for_the_operation_and_the_download_keeps_it(
        client: FlaskClient, tmp_path: Path) -> None:
    _, body = _send(client, "tags.csv", AMBIGUOUS.encode())
    mapping = body["mapping"]
    assert mapping["operation"] is None and {o["name"] for o in mapping["operations"]} == {
        "purchase", "configure"}
    ops = {op["name"]: op for op in mapping["operations"]}
    assert ops["configure"]["guesses"] == {"0": "PropertySid", "1": "NumberBlockSid",
                                           "2": "Campaign"}
    doc = _map(client, mapping, "configure", {0: "PropertySid", 1: "NumberBlockSid",
                                              2: "Campaign"})
    assert doc["sheets"][0]["operation"] == "configure"
    path = tmp_path / "edited.xlsx"
    path.write_bytes(client.get(f"/api/documents/{doc['id']}/download").data)
    (read,) = load(path)  # the sheet is named for the operation chosen
    assert read.name == "Configure" and read.operation.name == "configure"


def test_a_bad_answer_is_refused_in_plain_words(client: FlaskClient) -> None:
    _, body = _send(client, "unknown.csv", UNKNOWN.encode())
    pending = body["mapping"]["id"]
    for answer, words in [({"operation": "delete", "columns": {}}, "purchase or configure"),
                          ({"operation": "purchase", "columns": {"9": "AnswerPoint"}},
                           "not one of this file's columns")]:
        response = client.post(f"/api/pending/{pending}", headers=SAME_ORIGIN, json=answer)
        assert response.status_code == 400 and words in response.json["error"]
    response = client.post(f"/api/pending/{pending}", headers=SAME_ORIGIN, json={
        "operation": "purchase", "columns": {"2": "RoutingMethod"}})
    assert response.status_code == 200  # asked again, saying why
    assert "purchase has no RoutingMethod column" in response.json["mapping"]["message"]
    assert client.delete(f"/api/pending/{response.json['mapping']['id']}",
                         headers=SAME_ORIGIN).status_code == 200
    assert not any((_root(client) / "incoming").iterdir())  # given up: nothing stays


@pytest.mark.parametrize(("name", "data", "words"), [
    ("notes.xlsx", b"just some text, not a workbook\n", "it is a text (CSV) file"),
    ("empty.csv", b"", "empty"),
    ("words.csv", b"just,some,words\n1,2,3\n", "no header row naming known columns"),
    ("header.csv", b"NumberBlockSid,AnswerPoint,PropertySid\n", "no data rows"),
])
def test_refusals_name_the_upload_not_the_server(client: FlaskClient, name: str, data: bytes,
                                                 words: str) -> None:
    code, body = _send(client, name, data)
    message = body["mapping"]["message"] if code == 200 else body["error"]
    assert code in (200, 400) and words in message
    _plain(message, _root(client), csv=name.endswith(".csv"))
    assert name in message
    if words in ("empty", "no data rows"):  # what to do, in the page's words
        assert message.endswith("; add the rows to send (a template above has every column), "
                                "save, and upload it again.")


def test_only_hidden_sheets_say_what_to_do_in_excel(client: FlaskClient, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "hidden.xlsx", {
        "Notes": [["just notes"]],
        "Old": [["PropertySid", "NumberBlockSid", "AnswerPoint"], ["P1", "NB1", "0412345678"]]},
        hidden=("Old",))
    code, body = _send(client, "hidden.xlsx", path.read_bytes())
    assert code == 400
    _plain(body["error"], _root(client), csv=False)
    assert body["error"].endswith("unhide it in Excel (right-click a sheet tab, Unhide), save, "
                                  "and upload the file again.")


def test_the_summary_names_the_file_uploaded(client: FlaskClient, tmp_path: Path) -> None:
    _, body = _send(client, "unknown.csv", UNKNOWN.encode())
    doc = _map(client, body["mapping"], "purchase",
               {0: "PropertySid", 1: "NumberBlockSid", 2: "AnswerPoint"})
    run = client.post(f"/api/documents/{doc['id']}/runs", headers=SAME_ORIGIN,
                      json={"dry_run": True}).json
    final = _wait_done(client, run["id"])
    counts = {k: n for k, n in final["counts"].items() if n}
    assert counts == {"VALID": 2} and final["skipped_not_done"] == 0
    path = tmp_path / "results.xlsx"
    path.write_bytes(client.get(f"/api/runs/{run['id']}/results").data)
    summary = openpyxl.load_workbook(path)["Summary"]
    lines = {r[0]: r[2] for r in summary.iter_rows(values_only=True) if r[0]}
    # The upload's own name; the edited copy the page keeps is no business of the Summary.
    assert lines["File"] == "unknown.csv"
    assert lines["Header row"] == "row 1, its columns named by hand (given)"


def test_the_header_can_be_read_from_another_row(client: FlaskClient) -> None:
    data = "Spring rollout,March\nProp,Blk,Phone\nPRDEMO0001,NB100001,0412 345 678\n"
    _, body = _send(client, "titled.csv", data.encode())
    mapping = body["mapping"]
    assert mapping["header_row"] == 1 and mapping["columns"][0]["header"] == "Spring rollout"
    # A row that cannot be the header is said plainly, and the upload keeps waiting for a
    # better answer (it was let go: "upload the file again").
    wrong = client.post(f"/api/pending/{mapping['id']}", headers=SAME_ORIGIN,
                        json={"header_row": 99})
    assert wrong.status_code == 400 and "no row 99" in wrong.json["error"]
    response = client.post(f"/api/pending/{mapping['id']}", headers=SAME_ORIGIN,
                           json={"header_row": 2})
    mapping = response.json["mapping"]
    assert mapping["header_row"] == 2
    assert [c["header"] for c in mapping["columns"]] == ["Prop", "Blk", "Phone"]
    assert mapping["columns"][1]["values"] == ["NB100001"]
    _plain(mapping["message"], _root(client))
    stale = client.post(f"/api/pending/{mapping['id']}", headers=SAME_ORIGIN, json={
        "operation": "purchase", "header_row": 1, "columns": {}})
    assert stale.status_code == 400 and "Read the header from that row first" in \
        stale.json["error"]
    doc = _map(client, mapping, "purchase", {0: "PropertySid", 1: "NumberBlockSid",
                                             2: "AnswerPoint"})
    assert doc["sheets"][0]["counts"] == {"VALID": 1}
    rows = client.get(f"/api/documents/{doc['id']}/sheets/0/rows").json["data"]
    assert [r["_row"] for r in rows] == [3]


def test_an_earlier_mapped_file_reopens_with_its_mapping(client: FlaskClient) -> None:
    _, body = _send(client, "unknown.csv", UNKNOWN.encode())
    _map(client, body["mapping"], "purchase",
         {0: "PropertySid", 1: "NumberBlockSid", 2: "AnswerPoint"})
    (recent,) = client.get("/api/state").json["recent"]
    assert recent["name"] == "unknown.csv"  # the mapping kept beside it is not an upload
    again = client.post(f"/api/recent/{recent['key']}", headers=SAME_ORIGIN, json={})
    assert again.status_code == 200, again.json
    assert again.json["sheets"][0]["counts"] == {"VALID": 2}
    assert again.json["sheets"][0]["operation"] == "purchase"


def test_uploads_left_waiting_are_let_go(client: FlaskClient) -> None:
    workspace = client.application.extensions["importer"]["workspace"]
    _, body = _send(client, "unknown.csv", UNKNOWN.encode())
    pending = workspace.pending[body["mapping"]["id"]]
    pending.made -= 7200  # as if the tab had been closed two hours ago
    client.get("/api/state")
    assert not workspace.pending and not pending.staged.parent.exists()


def test_a_files_columns_can_be_read_another_way(client: FlaskClient) -> None:
    _, body = _send(client, "unknown.csv", UNKNOWN.encode())
    first = _map(client, body["mapping"], "purchase", {0: "PropertySid", 1: "NumberBlockSid",
                                                       2: "AnswerPoint", 3: "Campaign"})
    response = client.post(f"/api/documents/{first['id']}/columns", headers=SAME_ORIGIN,
                           json={"sheet": 0})
    mapping = response.json["mapping"]
    # Offered as it is read now, the other operation still there to choose.
    assert mapping["reading"] == "purchase" and mapping["replaces"] == first["id"]
    ops = {op["name"]: op for op in mapping["operations"]}
    assert ops["purchase"]["guesses"] == {"0": "PropertySid", "1": "NumberBlockSid",
                                          "2": "AnswerPoint", "3": "Campaign"}
    again = _map(client, mapping, "purchase", {0: "PropertySid", 1: "NumberBlockSid",
                                               2: "AnswerPoint", 3: ""})
    assert [c["name"] for c in again["sheets"][0]["columns"]] == [
        "PropertySid", "NumberBlockSid", "AnswerPoint", None]
    assert client.get(f"/api/documents/{first['id']}").status_code == 404  # replaced
    (recent,) = client.get("/api/state").json["recent"]
    reopened = client.post(f"/api/recent/{recent['key']}", headers=SAME_ORIGIN, json={}).json
    assert reopened["sheets"][0]["columns"][3]["name"] is None  # the new reading is kept


def test_columns_are_not_read_another_way_under_changes(client: FlaskClient) -> None:
    _, body = _send(client, "unknown.csv", UNKNOWN.encode())
    doc = _map(client, body["mapping"], "purchase", {0: "PropertySid", 1: "NumberBlockSid",
                                                     2: "AnswerPoint"})
    client.patch(f"/api/documents/{doc['id']}/cells", headers=SAME_ORIGIN,
                 json={"sheet": 0, "row": 2, "column": "c3", "value": "changed"})
    response = client.post(f"/api/documents/{doc['id']}/columns", headers=SAME_ORIGIN,
                           json={"sheet": 0})
    assert response.status_code == 400 and "Download as .xlsx" in response.json["error"]


def test_the_results_workbook_of_a_mapped_file_is_read_with_the_same_mapping(
        client: FlaskClient, tmp_path: Path) -> None:
    """The loop a person follows: a file with their own headers is mapped and sent; its
    results workbook, fixed in Excel and uploaded back, is read with the same columns (by
    header: the Status columns moved them), not asked again, and carries on the rollout."""
    bad = UNKNOWN.replace("0412 345 679", "12")
    _, body = _send(client, "own.csv", bad.encode())
    doc = _map(client, body["mapping"], "purchase",
               {0: "PropertySid", 1: "NumberBlockSid", 2: "AnswerPoint", 3: ""})
    run = client.post(f"/api/documents/{doc['id']}/runs", headers=SAME_ORIGIN, json={})
    counts = _wait_done(client, run.json["id"])["counts"]
    assert {k: n for k, n in counts.items() if n} == {"OK": 1, "INVALID": 1}
    results = tmp_path / "own.results.xlsx"
    results.write_bytes(client.get(f"/api/runs/{run.json['id']}/results").data)
    book = openpyxl.load_workbook(results)
    ws = book.worksheets[0]
    headers = [c.value for c in ws[1]]
    assert headers.index("Phone number") != 2  # Status and Message moved it
    ws.cell(3, headers.index("Phone number") + 1, "0412 345 679")  # the fix, in Excel
    book.save(results)

    code, again = _send(client, "own.results.xlsx", results.read_bytes())
    assert code == 200 and "mapping" not in again, again
    assert again["sheets"][0]["operation"] == "purchase"
    rows = client.get(f"/api/documents/{again['id']}/sheets/0/rows").json["data"]
    assert [r["_status"] for r in rows] == ["SKIPPED", "VALID"], rows  # the first was bought
    run = client.post(f"/api/documents/{again['id']}/runs", headers=SAME_ORIGIN, json={})
    counts = _wait_done(client, run.json["id"])["counts"]
    assert {k: n for k, n in counts.items() if n} == {"SKIPPED": 1, "OK": 1}

    # Another file of the rollout whose headers are not those is asked about, as before.
    _, other = _send(client, "own.csv", b"Prop,Blk\nPRDEMO0001,NB100003\n")
    assert "mapping" in other
