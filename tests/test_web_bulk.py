"""Issue 19, item 5, through the real app (Flask's test client): search, sort and filters over a
2,000-row file, problems grouped by reason, next problem, and bulk changes (a paste, a find
and replace over every row) re-checked by the core and undone in one step."""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient

from importer.web import create_app, finding
from tests.test_web import SAME_ORIGIN, TOKEN, _logged_in, _settings

pytestmark = pytest.mark.usefixtures("fast_settling")  # conftest: the floor scaled to these lags

ROWS = 2000
SOURCES = ("google", "bing", "Facebook", "")


def _line(i: int) -> str:
    phone = "12" if i % 10 == 3 else "0412 345 678"
    recording = "maybe" if i % 7 == 5 else ("TRUE" if i % 2 else "FALSE")
    return f"PRDEMO0001,NB{200000 + i},{phone},{recording},{SOURCES[i % 4]},C{i % 13}"


@pytest.fixture
def client(tmp_path: Path) -> FlaskClient:
    return _logged_in(create_app(_settings(tmp_path, None), TOKEN))


@pytest.fixture
def doc(client: FlaskClient) -> dict:
    text = "\n".join(["PropertySid,NumberBlockSid,AnswerPoint,CallRecordingEnabled,Source,"
                      "Campaign", *(_line(i) for i in range(ROWS))]) + "\n"
    response = client.post("/api/documents", headers=SAME_ORIGIN, data={
        "file": (io.BytesIO(text.encode()), "big.csv")})
    assert response.status_code == 200, response.json
    return response.json


def _fields(doc: dict) -> dict[str, str]:
    return {c["name"]: c["field"] for c in doc["sheets"][0]["columns"]}


def _get(client: FlaskClient, doc: dict, size: int = 500, page: int = 1, **params: str) -> dict:
    query = urlencode({"page": page, "size": size, **params})
    response = client.get(f"/api/documents/{doc['id']}/sheets/0/rows?{query}")
    assert response.status_code == 200, response.json
    return response.json


def _all_rows(client: FlaskClient, doc: dict, **params: str) -> list[dict]:
    first = _get(client, doc, **params)
    rows = first["data"]
    for page in range(2, first["last_page"] + 1):
        rows += _get(client, doc, page=page, **params)["data"]
    assert len(rows) == first["last_row"]
    return rows


def _excel(i: int) -> int:
    return i + 2  # data line i is Excel row i + 2 (the header is row 1)


def _bulk(client: FlaskClient, doc: dict, body: dict):  # type: ignore[no-untyped-def]
    return client.post(f"/api/documents/{doc['id']}/sheets/0/bulk", headers=SAME_ORIGIN,
                       json=body)


def test_search_finds_text_in_any_cell_without_regard_to_case(client: FlaskClient,
                                                              doc: dict) -> None:
    found = _all_rows(client, doc, search="FACEBOOK")
    assert {r["_row"] for r in found} == {_excel(i) for i in range(ROWS) if i % 4 == 2}
    block = _all_rows(client, doc, search="nb201234")
    assert [r["_row"] for r in block] == [_excel(1234)]
    assert _get(client, doc, search="<img src=x onerror=alert(1)>")["last_row"] == 0


def test_sort_by_any_column_both_ways_empty_cells_last(client: FlaskClient, doc: dict) -> None:
    source = _fields(doc)["Source"]
    up = _all_rows(client, doc, **{"sort[0][field]": source, "sort[0][dir]": "asc"})
    values = [r[source] for r in up]
    filled = [v for v in values if v]
    assert filled == sorted(filled, key=str.casefold) and values[len(filled):] == [""] * 500
    down = _get(client, doc, **{"sort[0][field]": source, "sort[0][dir]": "desc"})["data"]
    assert {r[source] for r in down} == {"google"}
    # Ties keep the file's order; the row number sorts as a number.
    assert [r["_row"] for r in down[:3]] == [_excel(0), _excel(4), _excel(8)]
    last = _get(client, doc, size=3, **{"sort[0][field]": "_row", "sort[0][dir]": "desc"})
    assert [r["_row"] for r in last["data"]] == [_excel(ROWS - 1), _excel(ROWS - 2),
                                                  _excel(ROWS - 3)]
    bad_first = _get(client, doc, size=5, **{"sort[0][field]": "_status", "sort[0][dir]": "asc"})
    assert {r["_status"] for r in bad_first["data"]} == {"INVALID"}


def test_filters_by_column_value_and_status_combine(client: FlaskClient, doc: dict) -> None:
    fields = _fields(doc)
    invalid = {_excel(i) for i in range(ROWS) if i % 10 == 3 or i % 7 == 5}
    by_status = _all_rows(client, doc, **{"filter[0][field]": "_status",
                                          "filter[0][type]": "=", "filter[0][value]": "INVALID"})
    assert {r["_row"] for r in by_status} == invalid
    both = _all_rows(client, doc, **{
        "filter[0][field]": "_status", "filter[0][type]": "=", "filter[0][value]": "INVALID",
        "filter[1][field]": fields["Campaign"], "filter[1][type]": "like",
        "filter[1][value]": "c12"})
    assert {r["_row"] for r in both} == {r for r in invalid if (r - 2) % 13 == 12}
    assert len(both) > 10


def test_problems_are_grouped_by_reason_and_a_group_shows_its_rows(client: FlaskClient,
                                                                   doc: dict) -> None:
    groups = {(g["column"], g["code"]): g for g in doc["sheets"][0]["groups"]}
    phone = groups[("AnswerPoint", "invalid_phone")]
    assert phone["count"] == ROWS // 10 and phone["level"] == "error"
    # The same message on every row is the reason itself, with its count.
    assert "'12' is not a valid Australian answering point" in phone["reason"]
    recording = groups[("CallRecordingEnabled", "not_allowed_value")]
    assert recording["count"] == len([i for i in range(ROWS) if i % 7 == 5])
    shown = _all_rows(client, doc, problem=phone["key"])
    assert {r["_row"] for r in shown} == {_excel(i) for i in range(ROWS) if i % 10 == 3}
    assert all("AnswerPoint" in r["_message"] or "answering point" in r["_message"]
               for r in shown)


def test_groups_with_different_messages_say_the_code_and_one_example() -> None:
    from importer.report import Issue
    issues = [Issue("S", 2, "NumberBlockSid", "NB1", "duplicate", "NB1 already appears in row 9."),
              Issue("S", 3, "NumberBlockSid", "NB2", "duplicate", "NB2 already appears in row 8.")]
    (group,) = finding.groups(issues, {})
    assert group["count"] == 2 and group["reason"] == "NumberBlockSid: duplicate"
    assert group["example"] == "NB1 already appears in row 9."


def test_next_problem_goes_to_the_next_bad_cell_on_any_page(client: FlaskClient,
                                                            doc: dict) -> None:
    url = f"/api/documents/{doc['id']}/sheets/0/next-problem"
    first = client.get(f"{url}?size=100").json
    assert first["row"] == _excel(3) and first["page"] == 1
    assert first["field"] == _fields(doc)["AnswerPoint"]
    later = client.get(f"{url}?size=100&after={_excel(1990)}").json
    assert later["row"] == _excel(1993) and later["page"] == 20  # line 1993 of 2,000
    wrapped = client.get(f"{url}?size=100&after={_excel(1999)}").json
    assert wrapped["row"] == _excel(3)  # from the top again
    assert client.get(f"{url}?search=NB200000").status_code == 404  # a valid row only


def test_a_paste_is_rechecked_and_undone_in_one_step_also_after_a_reread(
        client: FlaskClient, doc: dict) -> None:
    fields = _fields(doc)
    before = _all_rows(client, doc)
    tsv = "0412 345 001\tTRUE\r\n0412 345 002\tno\r\n"  # as Excel puts it on the clipboard
    block = [line.split("\t") for line in tsv.split("\r\n") if line]
    cells = [{"row": _excel(3 + k), "column": f, "value": v}
             for k, values in enumerate(block)
             for f, v in zip([fields["AnswerPoint"], fields["CallRecordingEnabled"]], values,
                             strict=True)]
    response = _bulk(client, doc, {"cells": cells})
    assert response.status_code == 200, response.json
    changed = {r["_row"]: r for r in response.json["rows"]}
    assert changed[_excel(3)]["_status"] == "VALID" and changed[_excel(4)]["_status"] == "VALID"
    assert changed[_excel(4)][fields["CallRecordingEnabled"]] == "no"
    # Line 3's recording already said TRUE: 3 cells changed, in one step.
    assert response.json["count"] == 3 and response.json["edits"] == 1
    after = _all_rows(client, doc)

    # Let the rows go: read again from disk, the step replayed, the same rows.
    client.application.extensions["importer"]["workspace"].get(doc["id"]).unload()
    assert _all_rows(client, doc) == after

    undone = client.post(f"/api/documents/{doc['id']}/undo", headers=SAME_ORIGIN, json={})
    assert undone.status_code == 200 and undone.json["edits"] == 0
    assert _all_rows(client, doc) == before
    assert client.post(f"/api/documents/{doc['id']}/undo", headers=SAME_ORIGIN,
                       json={}).status_code == 409


def test_find_and_replace_changes_every_matching_row_not_only_a_page(client: FlaskClient,
                                                                     doc: dict) -> None:
    fields = _fields(doc)
    response = _bulk(client, doc, {"replace": {"column": fields["AnswerPoint"], "find": "12",
                                               "with": "0412 345 999", "whole": True}})
    assert response.status_code == 200, response.json
    assert response.json["count"] == ROWS // 10 and response.json["edits"] == 1
    rows = _all_rows(client, doc)
    assert all(r[fields["AnswerPoint"]] != "12" for r in rows)
    fixed = [r for r in rows if r[fields["AnswerPoint"]] == "0412 345 999"]
    assert len(fixed) == ROWS // 10 and {r["_row"] for r in fixed} == {
        _excel(i) for i in range(ROWS) if i % 10 == 3}
    assert all(r["_status"] == "VALID" for r in fixed if (r["_row"] - 2) % 7 != 5)
    assert not any(g["code"] == "invalid_phone" for g in response.json["sheet"]["groups"])

    # Inside cells, without regard to case, limited to the rows a search finds.
    part = _bulk(client, doc, {"replace": {"column": fields["Source"], "find": "OOGLE",
                                           "with": "oogle-ads"}, "query": {"search": "NB20000"}})
    assert part.json["count"] == 3  # NB200000, NB200004, NB200008 of NB20000x
    assert {r[fields["Source"]] for r in _all_rows(client, doc, search="google")} == {
        "google", "google-ads"}
    assert client.post(f"/api/documents/{doc['id']}/undo", headers=SAME_ORIGIN,
                       json={}).json["edits"] == 1


def test_bulk_changes_are_refused_while_the_file_is_being_run(client: FlaskClient,
                                                              doc: dict) -> None:
    found = client.application.extensions["importer"]["workspace"].get(doc["id"])
    fields = _fields(doc)
    found.busy = True
    cells = [{"row": 5, "column": fields["AnswerPoint"], "value": "0412 345 678"}]
    assert _bulk(client, doc, {"cells": cells}).status_code == 409
    replace = {"replace": {"column": fields["Source"], "find": "bing", "with": "x"}}
    refused = _bulk(client, doc, replace)
    assert refused.status_code == 409 and "being run" in refused.json["error"]
    found.busy = False
    assert _bulk(client, doc, replace).status_code == 200


def test_a_change_too_big_for_one_step_is_refused_with_what_to_do(client: FlaskClient,
                                                                  doc: dict,
                                                                  monkeypatch) -> None:
    fields = _fields(doc)
    monkeypatch.setattr(finding, "MAX_BULK", 100)
    cells = [{"row": _excel(i), "column": fields["Source"], "value": "x"} for i in range(101)]
    refused = _bulk(client, doc, {"cells": cells})
    assert refused.status_code == 400
    assert "101 cells" in refused.json["error"] and "at most 100" in refused.json["error"]
    everything = _bulk(client, doc, {"replace": {"column": fields["Source"], "find": "",
                                                 "with": "x", "whole": True}})
    assert everything.status_code == 400 and "500 cells" in everything.json["error"]
    assert _get(client, doc, search="x", size=1)["last_row"] == 0  # nothing changed
    assert _bulk(client, doc, {"cells": cells[:100]}).status_code == 200


@pytest.mark.parametrize("body", [{"cells": [{"row": 99999, "column": "c0", "value": "x"}]},
                                  {"cells": [{"row": 2, "column": "c99", "value": "x"}]},
                                  {"cells": [{"row": 2, "column": "c0", "value": 5}]},
                                  {"cells": "c0"}, {"replace": {"column": "c0", "find": ""}},
                                  {}])
def test_bad_bulk_bodies_change_nothing(client: FlaskClient, doc: dict, body: dict) -> None:
    response = _bulk(client, doc, body)
    assert response.status_code == 400 and response.json["error"]
    assert client.get(f"/api/documents/{doc['id']}").json["edits"] == 0


def test_search_and_sort_combine_page_by_page(client: FlaskClient, doc: dict) -> None:
    campaign = _fields(doc)["Campaign"]
    params = {"search": "goo", "sort[0][field]": campaign, "sort[0][dir]": "desc"}
    first, second = (_get(client, doc, size=100, page=n, **params) for n in (1, 2))
    assert first["last_row"] == ROWS // 4 and first["last_page"] == 5
    shown = [r[campaign] for r in first["data"] + second["data"]]
    assert shown == sorted(shown, key=str.casefold, reverse=True)
    assert shown[0] == "C9" and {r["_row"] for r in first["data"]}.isdisjoint(
        r["_row"] for r in second["data"])


def test_set_cells_agrees_with_one_set_cell_after_another() -> None:
    """The core's bulk change is the typed edits' change: same cells, same issues."""
    from importer import pipeline
    from importer.checking import edits
    from tests.test_web import MISTAKES

    one, many = (pipeline.prepare(MISTAKES, pipeline.Options()).checked[0] for _ in range(2))
    cols = one.sheet.columns
    changes = [(4, cols["NumberBlockSid"], "NB100500"), (13, cols["NumberBlockSid"], "NB1"),
               (8, cols["AnswerPoint"], " 0412 345 678 "), (10, cols["CallRecordingEnabled"], ""),
               (12, cols["GroupType"], "1"), (3, cols["Source"], "<b>x</b>")]
    for row, pos, value in changes:
        one = edits.set_cell(one, row, pos, value)[0]
    many, befores, _ = edits.set_cells(many, changes)
    assert [(i.row, i.column, i.code, i.message) for i in many.issues] == [
        (i.row, i.column, i.code, i.message) for i in one.issues]
    assert many.invalid == one.invalid
    assert many.sheet.raw.equals(one.sheet.raw) and many.sheet.data.equals(one.sheet.data)
    assert befores[0] is None and befores[2] == "4.12E+08"


def test_a_runs_refusals_are_grouped_by_the_apis_code_and_filterable(client: FlaskClient,
                                                                     doc: dict) -> None:
    """After a run: "490 x belongs to a different property" is the API's code with its count."""
    from importer.report import Outcome, RunReport, SheetResult, Status

    found = client.application.extensions["importer"]["workspace"].get(doc["id"])
    refused = {_excel(i) for i in range(0, ROWS, 4)}
    outcomes = {r: Outcome(Status.REJECTED, "The number block belongs to a different property.",
                           403, "NUMBER_BELONGS_TO_DIFFERENT_PROPERTY") for r in refused}
    outcomes[_excel(1)] = Outcome(Status.OK, "OK", 200)
    found.take_results(RunReport("big.csv", "", "", sheets=[SheetResult(
        "big", "purchase", list(outcomes.values()), list(outcomes))]))
    sheet = client.get(f"/api/documents/{doc['id']}").json["sheets"][0]
    group = next(g for g in sheet["groups"] if g["code"] == "NUMBER_BELONGS_TO_DIFFERENT_PROPERTY")
    assert group["count"] == len(refused) == 500
    assert group["reason"] == "The number block belongs to a different property."
    assert {r["_row"] for r in _all_rows(client, doc, problem=group["key"])} == refused
    rejected = _all_rows(client, doc, **{"filter[0][field]": "_status",
                                         "filter[0][value]": "REJECTED"})
    assert {r["_row"] for r in rejected} == refused
    # A refused row's check issues are not counted twice: it is in its run's group only.
    phone = next(g for g in sheet["groups"] if g["code"] == "invalid_phone")
    assert phone["count"] == len({_excel(i) for i in range(ROWS) if i % 10 == 3} - refused)


def test_after_a_run_invalid_rows_keep_their_checks_reasons() -> None:
    from importer.report import Issue, Outcome, Status

    issues = [Issue("S", 2, "AnswerPoint", "12", "invalid_phone", "'12' is not valid."),
              Issue("S", 3, "AnswerPoint", "12", "invalid_phone", "'12' is not valid.")]
    results = {2: Outcome(Status.INVALID, "'12' is not valid."),
               3: Outcome(Status.REJECTED, "No.", 400, "FORBIDDEN")}
    listed = {g["key"]: g["count"] for g in finding.groups(issues, results)}
    assert listed == {"check:invalid_phone:AnswerPoint": 1, "run:REJECTED:FORBIDDEN": 1}
