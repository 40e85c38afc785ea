"""Issue 19, item 6, in Chromium: after a run, "Download only the rows that need you" gives the
rows to fix with their status and message, and the Send step lists the file's earlier runs with
their counts and results workbooks."""

from __future__ import annotations

import os
import re
from pathlib import Path

import openpyxl
import pytest

from tests.browser import (  # noqa: F401  (the Chromium fixtures)
    MISTAKES,
    browser_context_args,
    browser_type_launch_args,
    needs_chromium,
    open_file,
    serve,
)

playwright = pytest.importorskip("playwright.sync_api")
expect, Page = playwright.expect, playwright.Page

pytestmark = needs_chromium


def test_rows_that_need_you_and_earlier_runs(page: Page, tmp_path: Path) -> None:
    shots = Path(os.environ.get("IMPORTER_SCREENSHOTS") or tmp_path)
    for address in serve(tmp_path):
        open_file(page, address, MISTAKES, "INVALID 10")
        expect(page.locator("#to-fix")).to_be_visible()  # invalid rows already need you
        page.click("#to-run")
        expect(page.locator("#history-card")).to_be_hidden()  # no run yet
        page.click("#dry-run")
        expect(page.locator("#step-results")).to_be_visible()
        page.locator(".steps [data-step=run]").click()
        page.click("#run")
        expect(page.locator("#final-counts")).to_contain_text("OK 5")

        with page.expect_download() as download:
            page.click("#results-to-fix")
        assert download.value.suggested_filename == "mistakes.to-fix.xlsx"
        saved = tmp_path / "to-fix.xlsx"
        download.value.save_as(saved)
        rows = list(openpyxl.load_workbook(saved)["Purchase"].iter_rows(values_only=True))
        at = rows[0].index("Status")  # beside the ids, as in the results workbook
        assert rows[0][at + 1] == "Message"
        assert {r[at] for r in rows[1:]} <= {"INVALID", "REJECTED", "FAILED", "UNKNOWN",
                                             "SKIPPED"}
        assert "OK" not in {r[at] for r in rows[1:]} and len(rows) > 1

        page.locator(".steps [data-step=run]").click()
        # The progress line counts as the results do: rows fine, rows that need you.
        expect(page.locator("#progress-text")).to_contain_text(re.compile(
            r"(\d+) of \1 rows · \d+ fine · [1-9]\d* need you"))
        items = page.locator("#history li")
        expect(items).to_have_count(2)
        expect(items.nth(0)).to_contain_text("mistakes.results-2.xlsx")
        expect(items.nth(0)).to_contain_text("OK 5")
        expect(items.nth(1)).to_contain_text("dry run, nothing sent")
        page.screenshot(path=str(shots / "earlier-runs.png"), full_page=True)
        with page.expect_download() as earlier:
            items.nth(1).get_by_role("link").click()
        assert earlier.value.suggested_filename == "mistakes.results.xlsx"
