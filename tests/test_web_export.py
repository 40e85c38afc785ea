""""Export the blocks you own" in `importer serve`, in a real browser (Debian's Chromium through
Playwright): the export opens in the grid, its .xlsx downloads, and a run sends only the row
changed in the page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from importer.reading import exported
from tests.browser import (  # noqa: F401  (the browser fixtures, shared)
    browser_context_args,
    browser_type_launch_args,
    cell,
    field,
    needs_chromium,
    serve,
    type_into,
)
from tests.util import cli, sheet_rows

playwright = pytest.importorskip("playwright.sync_api")
expect, Page = playwright.expect, playwright.Page

pytestmark = needs_chromium


@pytest.fixture
def address(tmp_path: Path) -> Iterator[str]:
    yield from serve(tmp_path)


def test_export_edit_and_send_only_the_change(page: Page, address: str, tmp_path: Path) -> None:
    page.goto(address)
    form = page.locator("#export")

    # A property the API does not know: one plain line, nothing opened.
    form.locator("input[name=sid]").fill("PRNOPE0001")
    form.get_by_role("button", name="Export the blocks you own").click()
    expect(page.locator("#export-status")).to_contain_text(
        "would not list the blocks of property PRNOPE0001")
    expect(page.locator("#step-start")).to_be_visible()

    form.locator("input[name=sid]").fill("PRDEMO0001")
    form.get_by_role("button", name="Export the blocks you own").click()
    expect(page.locator("#sheet-tabs .tab")).to_have_text(["Configure (configure, 100 rows)"])
    expect(page.locator("#message-bar")).to_contain_text("100 blocks exported")

    with page.expect_download() as download:
        page.locator("#download-export").click()
    saved = tmp_path / "export.xlsx"
    download.value.save_as(saved)
    assert download.value.suggested_filename.startswith("PRDEMO0001-blocks-")
    ws = openpyxl.load_workbook(saved)["Configure"]
    assert ws.cell(1, 16).value == exported.RECORD_HEADER and ws.column_dimensions["P"].hidden
    assert len(sheet_rows(saved, "Configure")) == 100

    # Unchanged since the export: shown as a run treats them, not as "would be sent".
    expect(page.locator("#counts")).to_contain_text("SKIPPED 100")
    expect(cell(page, 2, "_status")).to_have_text("SKIPPED")
    source = field(page, "Source")
    type_into(page, 2, source, "spring-radio")
    expect(cell(page, 2, "_status")).to_have_text("VALID")
    page.click("#to-run")
    expect(page.locator("#run-plan")).to_contain_text("1 configure row will be sent")
    page.click("#run")
    expect(page.locator("#final-counts")).to_contain_text("OK 1")
    expect(page.locator("#final-counts")).to_contain_text("SKIPPED 99")
    with page.expect_download() as results:
        page.locator("#results-link").click()
    path = tmp_path / "results.xlsx"
    results.value.save_as(path)
    rows = sheet_rows(path, "Configure")
    assert [r["Status"] for r in rows].count("OK") == 1
    assert rows[0]["Source"] == "spring-radio" and rows[0]["Status"] == "OK"
    assert str(rows[1]["Message"]).startswith("Not sent: unchanged since the export of")


def test_a_cell_emptied_in_the_page_turns_yellow_and_says_so(
        page: Page, address: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 30, item 2: emptying an exported setting in the page warns at the edit, as
    `importer validate` does for the file; typing it back takes the warning away."""
    # A rehearsal gave the block a Source (one sandbox per state folder, the page's too).
    tags = tmp_path / "tags.csv"
    tags.write_text("PropertySid,NumberBlockSid,Source\nPRDEMO0001,NB090000,google\n")
    code, out, _ = cli(capsys, "run", tags, "--operation", "configure", "--sandbox", "--yes",
                       "--json")
    assert code == 0, out
    page.goto(address)
    form = page.locator("#export")
    form.locator("input[name=sid]").fill("PRDEMO0001")
    form.get_by_role("button", name="Export the blocks you own").click()
    expect(page.locator("#message-bar")).to_contain_text("100 blocks exported")
    page.fill("#search", "NB090000")
    expect(page.locator(".tabulator-row")).to_have_count(1)
    row = int(page.locator('.tabulator-row [tabulator-field="_row"]').inner_text())
    source = field(page, "Source")
    expect(cell(page, row, source)).to_have_text("google")
    type_into(page, row, source, "")
    expect(page.locator("#message-bar")).to_contain_text(
        "Source was emptied since the export; an empty cell is not sent")
    expect(cell(page, row, source)).to_have_class(re.compile(r"\bcell-warning\b"))
    expect(cell(page, row, "_status")).to_have_text("VALID")
    page.click("#to-run")
    expect(page.locator("#run-plan")).to_contain_text("1 configure row will be sent")
    page.click("button[data-step=review]")
    type_into(page, row, source, "google")
    expect(cell(page, row, source)).not_to_have_class(re.compile(r"\bcell-warning\b"))
