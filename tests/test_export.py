"""`importer export`, then `importer run` of the edited file: only what changed is sent.

Against the real sandbox over HTTP; files edited and saved by openpyxl and by LibreOffice, as a
person would; requests counted by the sandbox itself.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest
import requests
from openpyxl.utils import get_column_letter

from importer.checking import edits
from importer.checking.schemas import check
from importer.pipeline import Options, prepare
from importer.reading import exported
from importer.reading.loading import load
from importer.report import Outcome, Severity, Status
from importer.results.edited import write_edited
from importer.sandbox import SandboxServer
from tests.libreoffice import convert
from tests.util import cli, page_secret, sheet_rows
from tests.workbook_util import printed

PROPERTY = "PRDEMO0001"  # owns NB090000-NB090099 in the seed
HEADERS = ["AccountSid", "PropertySid", "NumberBlockSid *", "RoutingMethod", "EndpointNumber",
           "Flow", "Application", "Recording", "Source", "Medium", "Campaign", "Content",
           *exported.REFERENCE_HEADERS, exported.RECORD_HEADER]


def _configure(server: SandboxServer, sid: str, **body: str) -> None:
    answer = requests.post(f"{server.base_url}/v2/numberblocks/{sid}",
                           json={"PropertySid": PROPERTY, **body},
                           auth=(server.account_sid, server.auth_token), timeout=10)
    assert answer.json() == {"ResponseStatus": {"Message": "OK"}}


def _requests(server: SandboxServer) -> dict[str, int]:
    return requests.get(f"{server.base_url}/_sandbox/stats", timeout=10).json()["Requests"]


def _by_block(path: Path) -> dict[str, dict[str, object]]:
    return {str(r["NumberBlockSid *"]): r for r in sheet_rows(path, "Configure")}


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _export(capsys: pytest.CaptureFixture[str], *args: object) -> Path:
    code, out, err = cli(capsys, "export", *args, "--json")
    assert code == 0, (out, err)
    assert isinstance(out, dict)
    return Path(str(out["path"]))


def test_export_is_a_configure_sheet_of_the_owned_blocks(
        api_env: SandboxServer, here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _configure(api_env, "NB090001", RoutingMethod="endpoint", EndpointNumber="+61412345678",
               Recording="enabled", Source="google", Campaign="=HYPERLINK(\"x\")")
    code, out, _ = cli(capsys, "export", "--property", PROPERTY, "--json")
    assert code == 0
    assert isinstance(out, dict) and out["count"] == 100
    path = Path(str(out["path"]))
    assert path == here / f"{PROPERTY}-blocks.xlsx"
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Configure", "Instructions"]
    ws = book["Configure"]
    assert [c.value for c in ws[1]] == HEADERS
    assert ws.column_dimensions["P"].hidden  # the record
    assert ws.column_dimensions["C"].number_format == "@"  # ids stay text
    lists = {str(v.sqref).split(":")[0]: v.formula1 for v in ws.data_validations.dataValidation
             if v.type == "list"}
    assert lists["D2"] == '"endpoint,flow,application"'
    assert lists["H2"] == '"enabled,disabled"'
    rows = _by_block(path)
    assert len(rows) == 100
    row = rows["NB090001"]
    assert (row["PropertySid"], row["RoutingMethod"], row["EndpointNumber"], row["Recording"],
            row["Source"]) == (PROPERTY, "endpoint", "+61412345678", "enabled", "google")
    assert row["Campaign"] == '=HYPERLINK("x")'  # the API's text is text, never a formula
    assert row["NumberPattern (read-only)"] == "+6139090001X"
    assert rows["NB090002"]["RoutingMethod"] is None
    assert "owned on" in str(book["Instructions"]["A4"].value)
    # A fresh export, validated: nothing to send, nothing "ignored".
    code, out, _ = cli(capsys, "validate", path, "--json")
    assert code == 0 and isinstance(out, dict)
    assert out["counts"]["SKIPPED"] == 100 and out["warnings"] == 0
    # The default name is never reused.
    assert _export(capsys, "--property", PROPERTY) == here / f"{PROPERTY}-blocks-2.xlsx"


def _record_hidden(path: Path, sheet: str = "Configure") -> bool:
    ws = openpyxl.load_workbook(path)[sheet]
    header = [c.value for c in ws[1]]
    assert not any(d.height for r, d in ws.row_dimensions.items() if r > 1)  # none tall for it
    return ws.column_dimensions[get_column_letter(header.index(exported.RECORD_HEADER) + 1)].hidden


def test_the_record_is_hidden_in_every_workbook_written_with_it(
        api_env: SandboxServer, here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 30 item 11: hidden in the export only; the results workbook and the page's
    downloads showed it (and wrapped every row to two lines for it)."""
    path = _export(capsys, "--property", PROPERTY)
    assert _record_hidden(path)
    code, out, _ = cli(capsys, "validate", path, "--json")
    assert code == 0 and isinstance(out, dict)
    assert _record_hidden(Path(str(out["results_path"])))
    checked = [check(s) for s in load(path)]
    write_edited(here / "edited.xlsx", checked)
    assert _record_hidden(here / "edited.xlsx")
    only = [{r: Outcome(Status.REJECTED, "Refused.") for r in c.sheet.data.index[:3]}
            for c in checked]
    write_edited(here / "to-fix.xlsx", checked, only)
    assert _record_hidden(here / "to-fix.xlsx")


def test_an_export_prints_as_the_results_workbook(
        api_env: SandboxServer, here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 30 item 11: an export printed portrait, 4 columns a page, the header on the first
    page only; now landscape, fitted across, the header and the ids on every page."""
    book = openpyxl.load_workbook(_export(capsys, "--property", PROPERTY))
    assert printed(book["Configure"])[:3] == ("landscape", 9, True)
    assert printed(book["Configure"])[4:] == (0, "$1:$1", "$A:$C")
    assert book["Configure"].freeze_panes == "D2"
    assert printed(book["Instructions"])[:5] == ("landscape", 9, True, 1, 0)


def test_a_run_sends_only_what_changed_and_a_rerun_nothing(
        api_env: SandboxServer, here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _configure(api_env, "NB090003", RoutingMethod="endpoint", EndpointNumber="+61412345678",
               Campaign="spring")
    path = _export(capsys, "--property", PROPERTY)
    book = openpyxl.load_workbook(path)
    ws = book["Configure"]
    at = {str(ws.cell(r, 3).value): r for r in range(2, ws.max_row + 1)}
    ws.cell(at["NB090010"], 9).value = "bing"  # Source: changed
    ws.cell(at["NB090003"], 11).value = None  # Campaign: emptied
    ws.cell(at["NB090020"], 9).value = "  "  # spaces only: still empty, unchanged
    ws.append([None, "PRDEMO0002", "NB100000", None, None, None, None, None, "typed"])  # by hand
    ws.move_range(f"A{at['NB090010']}:P{at['NB090010']}", rows=ws.max_row + 1 - at["NB090010"])
    edited = here / "edited.xlsx"
    book.save(edited)
    requests.post(f"{api_env.base_url}/v2/Properties/PRDEMO0002/NumberBlocks",
                  json={"NumberBlockSid": "NB100000", "AnswerPoint": "+61298765432"},
                  params={"NumberBlockSid": "NB100000"},
                  auth=(api_env.account_sid, api_env.auth_token), timeout=10)
    before = _requests(api_env)["configure"]
    code, out, _ = cli(capsys, "run", edited, "--json")
    assert isinstance(out, dict)
    assert code == 0, out
    assert _requests(api_env)["configure"] - before == 3
    assert out["counts"]["OK"] == 3 and out["counts"]["SKIPPED"] == 98
    results = Path(str(out["results_path"]))
    rows = _by_block(results)
    assert rows["NB090010"]["Status"] == "OK" and rows["NB100000"]["Status"] == "OK"
    assert rows["NB090003"]["Status"] == "OK"
    assert str(rows["NB090003"]["Message"]).count("Campaign was emptied") == 1
    assert rows["NB090020"]["Status"] == "SKIPPED"
    assert str(rows["NB090050"]["Message"]).startswith("Not sent: unchanged since the export of")
    view = requests.get(f"{api_env.base_url}/_sandbox/blocks/NB090003", timeout=10).json()
    assert view["Campaign"] == "spring"  # the empty cell did not clear it
    errors = sheet_rows(results, "Errors")
    assert [e["Code"] for e in errors if e.get("Code") == "emptied"] == ["emptied"]
    # The same file again, and its results workbook: nothing new is sent.
    for again in (edited, results):
        code, out, _ = cli(capsys, "run", again, "--json")
        assert code == 0 and isinstance(out, dict)
        assert out["counts"]["SKIPPED"] == 101
    assert _requests(api_env)["configure"] - before == 3


def test_a_cell_emptied_in_the_page_warns_as_one_emptied_in_the_file(
        api_env: SandboxServer, here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 30, item 2: one check. The page's edits go through edits.set_cell: emptying an
    exported setting there gives the warning `importer validate` gives for the same file, and
    typing the value back takes it away."""
    _configure(api_env, "NB090007", Source="onlyhere", Campaign="spring")
    path = _export(capsys, "--property", PROPERTY, "--text", "onlyhere")
    book = openpyxl.load_workbook(path)
    book["Configure"].cell(2, 9).value = None  # Source, in Excel
    emptied = here / "emptied.xlsx"
    book.save(emptied)
    in_file = prepare(emptied, Options()).checked[0]
    assert [(i.row, i.column, i.code, i.severity) for i in in_file.issues] == [
        (2, "Source", "emptied", Severity.WARNING)]

    checked = prepare(path, Options()).checked[0]
    assert checked.issues == []
    position = checked.sheet.columns["Source"]
    checked = edits.set_cell(checked, 2, position, None)[0]
    assert checked.issues == in_file.issues
    assert "Source was emptied since the export" in checked.issues[0].message
    assert checked.invalid == frozenset()
    assert edits.set_cell(checked, 2, position, "onlyhere")[0].issues == []


@pytest.mark.parametrize("program", ["openpyxl", "libreoffice"])
def test_the_record_survives_a_save(program: str, api_env: SandboxServer, here: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    _configure(api_env, "NB090004", RoutingMethod="flow", Flow="FL12", EndpointNumber="0298765432",
               Content="12")
    path = _export(capsys, "--property", PROPERTY, "--text", "9090")
    if program == "openpyxl":
        saved = here / "saved" / path.name
        saved.parent.mkdir()
        book = openpyxl.load_workbook(path)
        book.save(saved)
    else:
        copy = here / "copy" / path.name
        copy.parent.mkdir()
        shutil.copy(path, copy)
        (saved,) = convert([copy], "xlsx", here / "saved")
    before = _requests(api_env)["configure"]
    code, out, _ = cli(capsys, "run", saved, "--json")
    assert code == 0 and isinstance(out, dict), out
    assert out["counts"]["SKIPPED"] == len(_by_block(saved)) and out["warnings"] == 0
    assert _requests(api_env)["configure"] == before


def test_filters_sort_and_an_account(api_env: SandboxServer, here: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    _configure(api_env, "NB090005", Source="autumnsale")
    path = _export(capsys, "--property", PROPERTY, "--text", "autumnsale")
    assert list(_by_block(path)) == ["NB090005"]
    path = _export(capsys, "--account", "ACDEMO0001", "--sort", "Name", "--desc", "-o", "a.xlsx")
    rows = sheet_rows(path, "Configure")
    names = [str(r["Name (read-only)"]) for r in rows]
    assert names == sorted(names, key=str.casefold, reverse=True) and len(rows) == 100
    assert {r["AccountSid"] for r in rows} == {"ACDEMO0001"}
    assert {r["PropertySid"] for r in rows} == {None}
    code, out, _ = cli(capsys, "export", "--property", PROPERTY, "--inactive", "--json")
    assert code == 0 and isinstance(out, dict) and out["count"] == 0


def test_a_listing_without_settings_leaves_the_cells_empty(
        sandbox: SandboxServer, here: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    _configure(sandbox, "NB090006", Source="google")
    sandbox.knobs.listing_settings = False
    monkeypatch.setenv("IMPORTER_AUTH_TOKEN", sandbox.auth_token)
    code, out, err = cli(capsys, "export", "--property", PROPERTY, "--base-url",
                         sandbox.base_url, "--account-sid", sandbox.account_sid, "--json")
    assert code == 0 and isinstance(out, dict)
    assert "no routing, recording or tag settings" in err
    assert _by_block(Path(str(out["path"])))["NB090006"]["Source"] is None


@pytest.mark.parametrize(("args", "code", "said"), [
    (["--property", "PRNOPE0001"], 2, "would not list the blocks of property PRNOPE0001 (400"),
    (["--property", "PROTHER0001"], 2, "(403 FORBIDDEN"),
    (["--account", "ACNOPE0001"], 2, "ACCOUNT_NOT_FOUND"),
    (["--property", "PR/../x"], 2, "is not a Sid"),
    (["--property", PROPERTY, "--account", "ACDEMO0001"], 2, "give one of"),
    (["--property", PROPERTY, "-o", "blocks.csv"], 2, "name it .xlsx"),
    (["--property", PROPERTY, "-o", "taken.xlsx"], 2, "already exists and was not replaced"),
    (["--property", PROPERTY, "-o", "missing/x.xlsx"], 2, "does not exist"),
])
def test_errors_are_one_line_and_write_nothing(
        args: list[str], code: int, said: str, api_env: SandboxServer, here: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    (here / "taken.xlsx").write_bytes(b"mine")
    got, out, err = cli(capsys, "export", *args, "--json")
    assert got == code and isinstance(out, dict) and said in str(out["error"]), out
    assert err.count("\n") == 1
    assert sorted(p.name for p in here.iterdir()) == ["taken.xlsx"]
    assert (here / "taken.xlsx").read_bytes() == b"mine"


@pytest.mark.parametrize("fault", ["shift", "bad_item", "html"])
def test_an_incomplete_listing_writes_nothing(fault: str, api_env: SandboxServer, here: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    api_env.knobs.listing_fault = fault
    api_env.knobs.page_size_cap = 30
    code, out, _ = cli(capsys, "export", "--property", PROPERTY, "--json")
    assert code == 3 and isinstance(out, dict)
    assert "could not be listed completely" in str(out["error"])
    assert list(here.iterdir()) == []


def test_refused_credentials(api_env: SandboxServer, here: Path,
                             monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("IMPORTER_AUTH_TOKEN", "wrong-token")
    code, out, err = cli(capsys, "export", "--property", PROPERTY)
    assert code == 3 and "refused the credentials (401" in err and "wrong-token" not in err
    assert list(here.iterdir()) == []


def test_overwrite_and_the_sandbox_flag(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "export", "--property", "PRNOPE0001", "--sandbox")
    assert code == 2 and "PROPERTY_NOT_FOUND" in err
    assert list(here.iterdir()) == []  # not even the sandbox's state
    (here / "mine.xlsx").write_bytes(b"old")
    path = _export(capsys, "--property", PROPERTY, "--sandbox", "-o", "mine.xlsx", "--overwrite")
    assert path.resolve() == here / "mine.xlsx" and len(_by_block(path)) == 100
    # `run --sandbox` of that file uses the same sandbox state: the export's blocks are there.
    code, out, _ = cli(capsys, "run", path, "--sandbox", "--json")
    assert code == 0 and isinstance(out, dict) and out["counts"]["SKIPPED"] == 100


def test_an_unchanged_row_with_problems_is_skipped_and_says_so(
        api_env: SandboxServer, here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _configure(api_env, "NB090007", RoutingMethod="endpoint", EndpointNumber="+61412345678")
    path = _export(capsys, "--property", PROPERTY)
    before = _requests(api_env)["configure"]
    code, out, _ = cli(capsys, "run", path, "--allowed-prefixes", "02", "--json")
    assert code == 0 and isinstance(out, dict), out
    assert out["counts"]["SKIPPED"] == 100 and out["issues"] == 1
    row = _by_block(Path(str(out["results_path"])))["NB090007"]
    assert row["Status"] == "SKIPPED" and "It has problems (in red)" in str(row["Message"])
    assert _requests(api_env)["configure"] == before


def test_more_blocks_than_a_sheet_holds_is_said_with_each_shells_way_out(
        api_env: SandboxServer, here: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The library says what is wrong; the command line adds its flags, the page its field
    (no flag in the page). The property owns 100 blocks; a sheet of 50 rows is too small."""
    from importer import excel
    from importer.web import Settings, create_app
    from importer.web.app import sandbox_target

    monkeypatch.setattr(excel, "ROWS", 50)
    code, out, _ = cli(capsys, "export", "--property", PROPERTY, "--json")
    assert code == 2 and isinstance(out, dict)
    assert "more than an Excel sheet holds; nothing was written; export some at a time " \
           "(--text, --active or --inactive)" in str(out["error"])
    assert list(here.iterdir()) == []

    target = sandbox_target(api_env.base_url, api_env.account_sid, api_env.auth_token,
                            here / "unused.sqlite", 5.0, 2)
    app = create_app(Settings(here / "workspace", target), "t0ken-0123456789abcdef")
    c = app.test_client()
    secret = page_secret(c.get("/?token=t0ken-0123456789abcdef").headers["Location"])
    answer = c.post("/api/exports", json={"scope": "property", "sid": PROPERTY},
                    headers={"Sec-Fetch-Site": "same-origin", "X-Importer-Page": secret})
    assert answer.status_code == 400
    said = answer.json["error"]
    assert "more than an Excel sheet holds" in said and "Only blocks matching" in said
    assert "--" not in said


def test_a_rehearsal_remembers_export_run_export_and_a_reset_forgets(
        here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 30 item 6: run, export and serve use one sandbox per state folder (each file had
    a sandbox of its own: the second export showed nothing of the run)."""
    first = _export(capsys, "--property", PROPERTY, "--sandbox", "-o", "blocks.xlsx")
    book = openpyxl.load_workbook(first)
    ws = book["Configure"]
    header = [c.value for c in ws[1]]
    ws.cell(2, header.index("Campaign") + 1).value = "rehearsed"
    block = ws.cell(2, header.index("NumberBlockSid *") + 1).value
    book.save(here / "edited.xlsx")
    code, report, _ = cli(capsys, "run", here / "edited.xlsx", "--sandbox", "--json")
    assert code == 0 and report["counts"]["OK"] == 1
    again = _export(capsys, "--property", PROPERTY, "--sandbox", "-o", "again.xlsx")
    rows = {r["NumberBlockSid *"]: r for r in sheet_rows(again, "Configure")}
    assert rows[block]["Campaign"] == "rehearsed"
    code, _, err = cli(capsys, "sandbox", "--reset")
    assert code == 0
    fresh = _export(capsys, "--property", PROPERTY, "--sandbox", "-o", "fresh.xlsx")
    rows = {r["NumberBlockSid *"]: r for r in sheet_rows(fresh, "Configure")}
    assert rows[block]["Campaign"] != "rehearsed"
    # The journal's "applied" was about the sandbox before the reset: the row is sent again.
    code, report, _ = cli(capsys, "run", here / "edited.xlsx", "--sandbox", "--json")
    assert code == 0 and report["counts"]["OK"] == 1


def test_an_export_comes_in_number_block_sid_order(api_env: SandboxServer, here: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 30 item 10: it came in the API's Id order (NB090073, NB090018, ...)."""
    path = _export(capsys, "--property", PROPERTY)
    sids = [r["NumberBlockSid *"] for r in sheet_rows(path, "Configure")]
    assert sids == sorted(sids) and len(sids) > 10
