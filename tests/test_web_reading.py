"""Issue 30, item 12: the page reads a file another way, as `importer run` does with
--encoding, --delimiter, --sheet and --header-row: checked as the CLI checks them, the file
read so replacing the one shown, and kept beside the upload so a reopened file reads the same."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from importer.web import create_app
from tests.test_web import SAME_ORIGIN, TOKEN, _logged_in, _settings, _upload
from tests.workbook_util import SAMPLES


@pytest.fixture
def client(tmp_path: Path) -> FlaskClient:
    return _logged_in(create_app(_settings(tmp_path, None), TOKEN))


def _read(client: FlaskClient, doc: dict, **how: object):  # type: ignore[no-untyped-def]
    return client.post(f"/api/documents/{doc['id']}/reading", headers=SAME_ORIGIN, json=how)


def test_a_workbook_read_for_one_sheet_and_reopened_so(client: FlaskClient,
                                                       tmp_path: Path) -> None:
    doc = _upload(client, SAMPLES / "rollout.xlsx")
    assert [s["name"] for s in doc["sheets"]] == ["Purchase", "Configure"]
    assert [n for n, _ in doc["reading"]["sheets"]][:2] == ["Purchase", "Configure"]
    missing = _read(client, doc, sheets=["Nope"])
    assert missing.status_code == 400 and "Nope" in missing.json["error"]
    assert "Traceback" not in missing.get_data(True)
    csv_only = _read(client, doc, encoding="cp1252")
    assert csv_only.status_code == 400 and "CSV" in csv_only.json["error"]
    one = _read(client, doc, sheets=["Configure"])
    assert one.status_code == 200, one.json
    assert [s["name"] for s in one.json["sheets"]] == ["Configure"]
    assert client.get(f"/api/documents/{doc['id']}").status_code == 404  # replaced

    again = _logged_in(create_app(_settings(tmp_path, None), TOKEN))  # a restart
    (recent,) = again.get("/api/state").json["recent"]
    reopened = again.post(f"/api/recent/{recent['key']}", headers=SAME_ORIGIN, json={}).json
    assert [s["name"] for s in reopened["sheets"]] == ["Configure"]


def test_a_csv_read_with_the_encoding_and_delimiter_given(client: FlaskClient) -> None:
    text = ("PropertySid;NumberBlockSid;AnswerPoint;Campaign\n"
            "PRDEMO0001;NB100601;0412345678;Café\n")
    doc = client.post("/api/documents", headers=SAME_ORIGIN, data={
        "file": (io.BytesIO(text.encode("cp1252")), "semi.csv")}).json
    assert ["Delimiter", ";", False] in doc["reading"]["how"]
    for bad, said in ({"encoding": "klingon"}, "not an encoding"), (
            {"delimiter": "ab"}, "one character"), ({"header_row": 0}, "row number"), (
            {"header_row": 10**20}, "row number"), ({"sheets": "x"}, "by name"):
        answer = _read(client, doc, **bad)
        assert answer.status_code == 400 and said in answer.json["error"], (bad, answer.json)
    latin = _read(client, doc, encoding="latin-1", delimiter="semicolon").json
    assert any(w == "Encoding" and g for w, _, g in latin["reading"]["how"])
    assert ["Delimiter", ";", True] in latin["reading"]["how"]
    rows = client.get(f"/api/documents/{latin['id']}/sheets/0/rows?page=1&size=10").json
    assert "Café" in rows["data"][0].values()
    # Read with the wrong delimiter, its columns cannot be told: the page asks which is which.
    comma = _read(client, latin, delimiter="comma").json
    assert comma.get("mapping"), comma


def test_a_file_changed_in_the_page_is_not_read_again(client: FlaskClient) -> None:
    doc = _upload(client)
    edited = client.patch(f"/api/documents/{doc['id']}/cells", headers=SAME_ORIGIN, json={
        "sheet": 0, "row": 2, "column": doc["sheets"][0]["columns"][0]["field"], "value": "x"})
    assert edited.status_code == 200
    answer = _read(client, doc, header_row=1)
    assert answer.status_code == 400 and "changes made in this page" in answer.json["error"]
