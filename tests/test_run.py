"""End to end: the CLI entry point against the sandbox over HTTP, results read with openpyxl."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
import requests

from importer.sandbox import SandboxServer
from tests.util import CONFIGURE_HEADER, PURCHASE_HEADER, cli, sheet_rows, write_xlsx

RED, YELLOW = "FFFF9999", "FFFFEB84"


def rollout(path: Path) -> Path:
    return write_xlsx(path, {
        "Purchase": [
            PURCHASE_HEADER,
            ["PRDEMO0001", "NB100000", "0412 345 678", "Spring"],
            ["PRDEMO0001", "NB100001", 412345679, "Spring"],
            ["PRDEMO0001", "NB100002", "123", "Spring"],  # invalid phone
            ["PROTHER0001", "NB100003", "0298765432", "Spring"],  # someone else's property
        ],
        "Configure": [
            CONFIGURE_HEADER,
            ["ACDEMO0001", "NB100000", "endpoint", "02 9876 5432", None, "APP", "enabled", "S"],
            ["ACDEMO0001", "NB100001", "flow", "0398765432", "FL1", None, None, None],
            ["ACDEMO0001", "NB100002", "application", None, None, "APP1", None, None],
            ["ACDEMO0001", "NB090000", "application", None, None, "APP1", "disabled", None],
        ],
    })


def test_run_writes_an_annotated_results_workbook(tmp_path: Path, api_env: SandboxServer,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    source = rollout(tmp_path / "rollout.xlsx")
    code, summary, _ = cli(capsys, "run", source, "--yes", "--json")
    assert code == 1
    assert summary["counts"] == {"OK": 5, "INVALID": 1, "REJECTED": 1, "FAILED": 0,
                                 "UNKNOWN": 0, "SKIPPED": 1, "VALID": 0}
    results = Path(summary["results_path"])
    assert results == tmp_path / "rollout.results.xlsx"

    purchase = sheet_rows(results, "Purchase")
    assert [r["Status"] for r in purchase] == ["OK", "OK", "INVALID", "REJECTED"]
    assert purchase[3]["Error Code"] == "FORBIDDEN" and purchase[3]["HTTP Status"] == 403
    configure = sheet_rows(results, "Configure")
    assert [r["Status"] for r in configure] == ["OK", "OK", "SKIPPED", "OK"]
    assert "its purchase (sheet 'Purchase' row 4)" in configure[2]["Message"]
    assert "does not use Application" in configure[0]["Message"]

    book = openpyxl.load_workbook(results)
    ws = book["Purchase"]
    assert ws.freeze_panes == "E2" and ws.auto_filter.ref  # ids, Status, Message frozen
    assert ws["E4"].fill.fgColor.rgb == RED and "Australian" in ws["E4"].comment.text
    assert ws["B3"].data_type == "s" and ws["F3"].data_type == "s"
    assert book["Configure"]["H2"].fill.fgColor.rgb == YELLOW
    assert book["Configure"]["C2"].fill.fgColor.rgb == "FFC6EFCE"  # OK is green
    summary_sheet = {r[0]: r[1] if r[1] is not None else r[2]
                     for r in book["Summary"].iter_rows(values_only=True) if r[0]}
    assert summary_sheet["OK"] == 5 and summary_sheet["INVALID"] == 1
    assert summary_sheet["API"] == api_env.base_url
    assert summary_sheet["Dry run"] == "no"
    sent = summary["counts"]["OK"]  # the REJECTED row was not sent: its listing was refused
    assert summary["sent"] == sent
    assert summary_sheet["Sent"].startswith(f"{sent} rows were sent to the API")
    assert len(summary_sheet["Input SHA-256"]) == 64
    errors = list(book["Errors"].iter_rows(values_only=True))
    assert ("Purchase", 4, "AnswerPoint", "123", "error", "invalid_phone") in [e[:6] for e in
                                                                               errors]
    assert any(e[5] == "FORBIDDEN" for e in errors)

    blocks = requests.get(f"{api_env.base_url}/_sandbox/blocks/NB100000", timeout=5).json()
    assert "+61298765432" in str(blocks) and "APP" not in str(blocks)


def test_results_workbook_fed_back_skips_what_is_done(tmp_path: Path, api_env: SandboxServer,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    source = rollout(tmp_path / "rollout.xlsx")
    cli(capsys, "run", source, "--yes", "--json")
    results = tmp_path / "rollout.results.xlsx"
    # The user fixes the bad phone in the results workbook and runs that file.
    book = openpyxl.load_workbook(results)
    book["Purchase"]["E4"] = "0412 000 111"  # AnswerPoint, after Status and Message
    book.save(results)
    before = requests.get(f"{api_env.base_url}/_sandbox/stats", timeout=5).json()["Requests"]
    code, summary, _ = cli(capsys, "run", results, "--yes", "--json")
    assert summary["results_path"].endswith("rollout.results-2.xlsx")
    purchase = sheet_rows(Path(summary["results_path"]), "Purchase")
    assert [r["Status"] for r in purchase] == ["SKIPPED", "SKIPPED", "OK", "REJECTED"]
    assert "Already bought by an earlier run" in purchase[0]["Message"]
    configure = sheet_rows(Path(summary["results_path"]), "Configure")
    assert [r["Status"] for r in configure] == ["SKIPPED", "SKIPPED", "OK", "SKIPPED"]
    after = requests.get(f"{api_env.base_url}/_sandbox/stats", timeout=5).json()["Requests"]
    # Only the fixed row: the other property's listing is refused (403), so its row is not sent.
    assert after["purchase"] - before["purchase"] == 1
    assert after["configure"] - before["configure"] == 1
    assert code == 1  # the rejected row is still not OK
    counts = requests.get(f"{api_env.base_url}/_sandbox/purchases", timeout=5).json()
    assert set(counts["Purchases"].values()) == {1}


def test_the_pages_downloads_of_a_rollout_are_that_rollout(
        tmp_path: Path, api_env: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    """`x.edited.xlsx` and `x.to-fix.xlsx` (the web page's downloads) carry on the rollout `x`:
    its journal, its numbered results workbooks; rows done are not sent again."""
    source = rollout(tmp_path / "rollout.xlsx")
    cli(capsys, "run", source, "--yes", "--json")
    for n, name in enumerate(["rollout.edited.xlsx", "rollout.results.to-fix.xlsx"], 2):
        copy = tmp_path / name
        copy.write_bytes(source.read_bytes())
        _, summary, _ = cli(capsys, "run", copy, "--yes", "--json")
        assert summary["results_path"].endswith(f"rollout.results-{n}.xlsx")
        assert Path(summary["journal_path"]).name == "rollout.journal.sqlite", summary
        purchase = sheet_rows(Path(summary["results_path"]), "Purchase")
        assert "Already bought by an earlier run" in purchase[0]["Message"]
    counts = requests.get(f"{api_env.base_url}/_sandbox/purchases", timeout=5).json()
    assert set(counts["Purchases"].values()) == {1}


def test_cells_that_look_like_formulas_stay_text(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "f.csv"
    values = ['=HYPERLINK("http://evil")', "+SUM(1)", "-2+3", "@cmd"]
    path.write_text("PropertySid,NumberBlockSid,AnswerPoint,Campaign\n" + "".join(
        f'PRDEMO0001,NB10030{i},0412345678,"{v.replace(chr(34), chr(34) * 2)}"\n'
        for i, v in enumerate(values)))
    code, summary, _ = cli(capsys, "validate", path, "--json")
    ws = openpyxl.load_workbook(summary["results_path"])["f"]
    cells = [ws.cell(row=r, column=6) for r in range(2, 6)]  # Campaign, after Status, Message
    assert [c.value for c in cells] == values
    assert all(c.data_type == "s" for c in cells)


def test_validate_needs_no_network(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMPORTER_BASE_URL", "http://192.0.2.1:9")  # would hang if contacted
    monkeypatch.delenv("IMPORTER_AUTH_TOKEN", raising=False)
    source = rollout(tmp_path / "rollout.xlsx")
    code, summary, _ = cli(capsys, "validate", source, "--json")
    assert code == 1
    assert summary["counts"]["VALID"] == 7 and summary["counts"]["INVALID"] == 1
    assert summary["mode"] == "validate"
    statuses = [r["Status"] for r in sheet_rows(Path(summary["results_path"]), "Configure")]
    assert statuses == ["VALID"] * 4


def test_all_good_rows_exit_0_and_a_rerun_sends_nothing_but_listings(
        tmp_path: Path, api_env: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_xlsx(tmp_path / "p.xlsx", {"Purchase": [
        PURCHASE_HEADER, *[["PRDEMO0002", f"NB1001{i:02}", "0412345678", "C"] for i in range(5)]]})
    code, summary, _ = cli(capsys, "run", source, "--yes", "--json")
    assert code == 0 and summary["counts"]["OK"] == 5
    before = requests.get(f"{api_env.base_url}/_sandbox/stats", timeout=5).json()["Requests"]
    code, summary, _ = cli(capsys, "run", source, "--yes", "--json")
    assert code == 0 and summary["counts"]["SKIPPED"] == 5
    after = requests.get(f"{api_env.base_url}/_sandbox/stats", timeout=5).json()["Requests"]
    assert after["purchase"] == before["purchase"] and after["configure"] == before["configure"]


def test_block_already_owned_is_skipped_not_bought(tmp_path: Path, api_env: SandboxServer,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    first = write_xlsx(tmp_path / "a.xlsx", {"Purchase": [
        PURCHASE_HEADER, ["PRDEMO0001", "NB100200", "0412345678", "A"]]})
    cli(capsys, "run", first, "--yes", "--json")
    other = write_xlsx(tmp_path / "b.xlsx", {"Purchase": [  # another file: no journal entry
        PURCHASE_HEADER, ["PRDEMO0001", "NB100200", "0412345678", "B"]]})
    code, summary, _ = cli(capsys, "run", other, "--yes", "--json")
    assert code == 0
    (row,) = sheet_rows(Path(summary["results_path"]), "Purchase")
    assert row["Status"] == "SKIPPED" and "Already bought on" in row["Message"]
    assert "by a.xlsx" in row["Message"]  # this machine saw it bought
    assert api_env.purchase_counts()["NB100200"] == 1


def test_dry_run_sends_nothing(tmp_path: Path, api_env: SandboxServer,
                               capsys: pytest.CaptureFixture[str]) -> None:
    source = rollout(tmp_path / "rollout.xlsx")
    code, summary, _ = cli(capsys, "run", source, "--dry-run", "--json")
    # 5: the other customer's property refuses the listing (403), so its row is REJECTED.
    assert summary["counts"]["VALID"] == 5 and summary["mode"] == "dry-run"
    assert summary["counts"]["REJECTED"] == 1
    stats = requests.get(f"{api_env.base_url}/_sandbox/stats", timeout=5).json()["Requests"]
    assert stats["purchase"] == 0 and stats["configure"] == 0


def test_purchases_need_confirmation_without_a_terminal(
        tmp_path: Path, api_env: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    source = rollout(tmp_path / "rollout.xlsx")
    code, out, err = cli(capsys, "run", source)
    assert code == 2
    assert "BUY up to 3 number blocks" in err and "--yes" in err
    assert api_env.purchase_counts() == {}


def test_wrong_credentials_abort_with_exit_3(tmp_path: Path, api_env: SandboxServer,
                                             capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMPORTER_AUTH_TOKEN", "wrong-token-123")
    source = write_xlsx(tmp_path / "c.xlsx", {"Configure": [
        CONFIGURE_HEADER, *[["ACDEMO0001", f"NB0900{i:02}", "application", None, None, "A",
                             None, None] for i in range(4)]]})
    code, summary, err = cli(capsys, "run", source, "--json")
    assert code == 3
    assert "refused the credentials" in summary["aborted"]
    rows = sheet_rows(Path(summary["results_path"]), "Configure")
    # The listing taken first (the blocks' settings, for the undo workbook) was refused:
    # nothing was sent.
    assert summary["sent"] == 0 and summary["undo_path"] is None
    assert [r["Status"] for r in rows] == ["SKIPPED"] * 4
    assert all("run stopped" in r["Message"] for r in rows)
    assert "wrong-token-123" not in str(summary) + err


def test_a_refused_token_summary_says_nothing_was_sent(
        tmp_path: Path, api_env: SandboxServer, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 30 item 3: the listing before buying is refused (401), so no row is sent; every
    line of the Summary follows from that (it said "the valid rows were sent to the API")."""
    monkeypatch.setenv("IMPORTER_AUTH_TOKEN", "wrong-token-123")
    code, summary, _ = cli(capsys, "run", rollout(tmp_path / "p.xlsx"), "--yes", "--json")
    assert code == 3 and summary["sent"] == 0
    book = openpyxl.load_workbook(summary["results_path"])
    said = {r[0]: r[2] for r in book["Summary"].iter_rows(values_only=True) if r[0]}
    assert said["Dry run"] == "no"
    assert said["Sent"] == "nothing: no row was sent to the API"
    assert "refused the credentials" in said["Aborted"]
    assert api_env.purchase_counts() == {}
    statuses = {r["Status"] for r in sheet_rows(Path(summary["results_path"]), "Purchase")}
    assert statuses <= {"SKIPPED", "INVALID"}


def test_readonly_credentials_are_refused_row_by_row_then_stop(
        tmp_path: Path, api_env: SandboxServer, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """No documented code says "these credentials may not write"; a wall of 403s stops the run."""
    from importer.sandbox import READONLY_ACCOUNT_SID, READONLY_AUTH_TOKEN
    monkeypatch.setenv("IMPORTER_ACCOUNT_SID", READONLY_ACCOUNT_SID)
    monkeypatch.setenv("IMPORTER_AUTH_TOKEN", READONLY_AUTH_TOKEN)
    source = write_xlsx(tmp_path / "c.xlsx", {"Configure": [
        CONFIGURE_HEADER, *[["ACDEMO0001", f"NB0900{i:02}", "application", None, None, "A",
                             None, None] for i in range(4)]]})
    code, summary, _ = cli(capsys, "run", source, "--json", "--max-consecutive-failures", "3")
    assert code == 3 and "refused" in summary["aborted"]
    rows = sheet_rows(Path(summary["results_path"]), "Configure")
    assert [r["Status"] for r in rows] == ["REJECTED"] * 3 + ["SKIPPED"]
    assert {r["HTTP Status"] for r in rows[:3]} == {403}


@pytest.mark.parametrize(("content", "message"), [
    (None, "file not found"),
    (b"", "the file is empty"),
    (b"%PDF-1.4 binary\x00\x01\x02" * 50, "not a spreadsheet"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptedPackage".encode("utf-16-le") + b"\0" * 600,
     "password-protected"),
    (b"just,some,words\n1,2,3\n", "no header row naming known columns"),
    (b"NumberBlockSid,AnswerPoint,PropertySid\n", "has a header but no data rows"),
    (b"AnswerPoint,PropertySid\n0412345678,P1\n", "no NumberBlockSid column"),
    (b"NumberBlockSid,Campaign\nNB1,x\n", "cannot tell whether this file is for purchase or"),
])
def test_unusable_input_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              content: bytes | None, message: str) -> None:
    suffix = ".xlsx" if content and content.startswith(b"\xd0") else ".csv"
    path = tmp_path / f"input{suffix}"
    if content is not None:
        path.write_bytes(content)
    code, out, err = cli(capsys, "validate", path)
    assert code == 2
    assert message in err and str(path) in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_operation_flag_and_unknown_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            ) -> None:
    path = tmp_path / "tags.csv"
    path.write_text("NumberBlockSid,AccountSid,Campaign,My Notes\nNB090001,ACDEMO0001,x,hello\n")
    code, summary, _ = cli(capsys, "validate", path, "--operation", "configure", "--json")
    assert code == 0 and summary["warnings"] == 1
    errors = list(openpyxl.load_workbook(summary["results_path"])["Errors"].iter_rows(
        values_only=True))
    assert errors[1][2] == "My Notes" and errors[1][5] == "ignored_column"


def test_plain_http_off_loopback_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMPORTER_BASE_URL", "http://api.example.com")
    monkeypatch.setenv("IMPORTER_ACCOUNT_SID", "AC1")
    monkeypatch.setenv("IMPORTER_AUTH_TOKEN", "secret-token-xyz")
    source = rollout(tmp_path / "rollout.xlsx")
    code, out, err = cli(capsys, "run", source, "--yes")
    assert code == 2 and "plain http" in err and "secret-token-xyz" not in err


def test_out_into_a_missing_folder_is_a_usage_error(tmp_path: Path, api_env: SandboxServer,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    source = rollout(tmp_path / "rollout.xlsx")
    code, out, err = cli(capsys, "run", source, "--yes", "--out", tmp_path / "nope" / "r.xlsx")
    assert code == 2 and "does not exist" in err
    assert api_env.purchase_counts() == {}


def test_results_file_that_cannot_be_written_goes_beside_it(
        tmp_path: Path, api_env: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    source = rollout(tmp_path / "rollout.xlsx")
    (tmp_path / "rollout.results.xlsx").mkdir()  # as good as a file locked by Excel
    code, summary, _ = cli(capsys, "run", source, "--yes", "--json")
    results = Path(summary["results_path"])
    assert results.parent == tmp_path and results.name.startswith("rollout.results-")
    assert [r["Status"] for r in sheet_rows(results, "Purchase")][:2] == ["OK", "OK"]


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "--help")[0] == 0
    code, out, _ = cli(capsys, "--version")
    assert code == 0 and "0.1.0" in out
    assert cli(capsys, "frobnicate")[0] == 2


def test_a_real_password_protected_workbook(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Encrypted the way Excel does it (ECMA-376 agile encryption), not a hand-made header."""
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = rollout(tmp_path / "plain.xlsx")
    locked = tmp_path / "locked.xlsx"
    with plain.open("rb") as src, locked.open("wb") as out:
        OOXMLFile(src).encrypt("s3cret", out)
    code, out, err = cli(capsys, "validate", locked)
    assert code == 2 and "password-protected" in err and str(locked) in err


def test_config_file_gives_credentials_and_allowed_prefixes(
        tmp_path: Path, sandbox: SandboxServer, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("IMPORTER_BASE_URL", "IMPORTER_ACCOUNT_SID", "IMPORTER_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "importer.toml"
    config.write_text(f'base_url = "{sandbox.base_url}"\naccount_sid = "{sandbox.account_sid}"\n'
                      f'auth_token = "{sandbox.auth_token}"\nallowed_prefixes = ["02", "03"]\n')
    source = write_xlsx(tmp_path / "p.xlsx", {"Purchase": [
        PURCHASE_HEADER, ["PRDEMO0001", "NB100400", "02 9876 5432", "A"],
        ["PRDEMO0001", "NB100401", "0412 345 678", "A"]]})
    code, summary, _ = cli(capsys, "run", source, "--yes", "--json", "--config", config)
    assert summary["counts"]["OK"] == 1 and summary["counts"]["INVALID"] == 1
    rows = sheet_rows(Path(summary["results_path"]), "Purchase")
    assert "prefix" in rows[1]["Message"]
    # The flag beats the file.
    code, summary, _ = cli(capsys, "validate", source, "--json", "--config", config,
                           "--allowed-prefixes", "04")
    assert summary["counts"] == {**summary["counts"], "VALID": 1, "INVALID": 1}
    rows = sheet_rows(Path(summary["results_path"]), "Purchase")
    assert [r["Status"] for r in rows] == ["INVALID", "VALID"]
    assert sandbox.auth_token not in str(summary)


def test_missing_config_file_named_on_the_command_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = rollout(tmp_path / "rollout.xlsx")
    code, out, err = cli(capsys, "validate", source, "--config", tmp_path / "nope.toml")
    assert code == 2 and "config file not found" in err


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    import subprocess
    import sys
    args = [sys.executable, "-m", "importer", "validate", str(tmp_path / "missing.csv")]
    plain = subprocess.run(args, capture_output=True, text=True, check=False)
    debug = subprocess.run([*args, "--debug"], capture_output=True, text=True, check=False)
    assert plain.returncode == 2 and "Traceback" not in plain.stderr
    assert debug.returncode == 2 and "Traceback" in debug.stderr and "InputError" in debug.stderr


def test_a_given_account_sid_without_a_token_is_told_the_token_is_missing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 30 item 11: "no credentials: set IMPORTER_ACCOUNT_SID..." although it was given."""
    for name in ("IMPORTER_ACCOUNT_SID", "IMPORTER_AUTH_TOKEN", "IMPORTER_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IMPORTER_CONFIG", "/nonexistent/importer-test-config.toml")
    code, _, err = cli(capsys, "run", rollout(tmp_path / "r.xlsx"), "--account-sid",
                       "ACDEMO0001", "--yes")
    assert code == 2
    assert "no auth token for AccountSid ACDEMO0001: set IMPORTER_AUTH_TOKEN" in err
    assert "IMPORTER_ACCOUNT_SID" not in err
