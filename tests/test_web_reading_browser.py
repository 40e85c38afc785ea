"""Issue 30, item 12, in Chromium: "Change how the file is read" offers the CLI's reading
options where the file was read (encoding and delimiter for a CSV, the sheets of a workbook, the
header row), says how it was read, and the file read so replaces the one shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import (  # noqa: F401  (the Chromium fixtures)
    browser_context_args,
    browser_type_launch_args,
    needs_chromium,
    open_file,
    screenshot,
    serve,
)
from tests.util import CONFIGURE_HEADER, PURCHASE_HEADER, write_xlsx

playwright = pytest.importorskip("playwright.sync_api")
expect, Page = playwright.expect, playwright.Page

pytestmark = needs_chromium


def test_a_workbook_and_a_csv_read_another_way(page: Page, tmp_path: Path) -> None:
    book = write_xlsx(tmp_path / "two.xlsx", {
        "Purchase": [PURCHASE_HEADER, ["PRDEMO0001", "NB100701", "0412345678", "c"]],
        "<b>Configure<b>": [CONFIGURE_HEADER, ["ACDEMO0001", "NB090001", "endpoint",
                                                "0298765432", None, None, "enabled", "c"]]})
    csv = tmp_path / "semi.csv"
    csv.write_bytes("PropertySid;NumberBlockSid;AnswerPoint;Campaign\n"
                    "PRDEMO0001;NB100702;0412345678;Caf\u00e9\n".encode("cp1252"))
    for address in serve(tmp_path):
        open_file(page, address, book, "VALID 1")
        expect(page.locator("#sheet-tabs [role=tab]")).to_have_count(2)
        page.click("#change-reading")
        dialog = page.locator("#reading-dialog")
        expect(dialog).to_be_visible()
        expect(page.locator("#reading-csv")).to_be_hidden()
        assert dialog.locator("b").count() == 0  # a sheet's name is text
        dialog.get_by_label("<b>Configure<b>", exact=False).check()
        screenshot(page, "reading-workbook.png")
        dialog.get_by_role("button", name="Read it so").click()
        expect(dialog).to_be_hidden()
        expect(page.locator("#sheet-tabs [role=tab]")).to_have_count(1)
        expect(page.locator("#sheet-tabs")).to_contain_text("<b>Configure<b>")
        expect(page.locator("#message-bar")).to_contain_text("Read again as you said")

        page.click("button[data-step=start]")
        page.set_input_files("#file", str(csv))
        expect(page.locator("#doc-name")).to_have_text("semi.csv")
        page.click("#change-reading")
        expect(page.locator("#reading-now")).to_contain_text("Delimiter: ; (guessed)")
        expect(page.locator("#reading-sheets")).to_be_hidden()
        dialog.locator("input[name=header_row]").fill("50")
        dialog.get_by_role("button", name="Read it so").click()
        expect(page.locator("#reading-status")).not_to_have_text("Reading it again…")
        expect(dialog).to_be_visible()  # refused: it stays, saying why
        expect(page.locator("#reading-status")).to_contain_text("row 50")
        dialog.locator("input[name=header_row]").fill("")
        dialog.locator("select[name=encoding]").select_option("cp1252")
        dialog.get_by_role("button", name="Read it so").click()
        expect(dialog).to_be_hidden()
        expect(page.locator("#grid")).to_contain_text("Caf\u00e9")
        page.click("#change-reading")
        expect(page.locator("#reading-now")).to_contain_text("(as you said)")
        dialog.get_by_role("button", name="Cancel").click()
