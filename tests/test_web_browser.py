"""The user's path through `importer serve` in a real browser: Debian's Chromium driven by
Playwright (pytest-playwright) through `executable_path`, against `importer serve --sandbox`
started as a user starts it. The two screenshots in the README are taken here, so they show the
page as it is: into a temporary folder, or into docs/screenshots only when asked
(`IMPORTER_SCREENSHOTS=docs/screenshots .venv/bin/python -m pytest tests/test_web_browser.py`)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import openpyxl

from tests.browser import (  # noqa: F401  (the Chromium fixtures)
    MISTAKES,
    ROOT,
    Page,
    browser_context_args,
    browser_type_launch_args,
    cell,
    expect,
    field,
    grid_statuses,
    needs_chromium,
    serve,
    slow_address,
    start_forty_purchases,
    type_into,
)
from tests.util import sheet_rows

pytestmark = needs_chromium


def test_upload_fix_run_and_download_in_the_browser(page: Page, address: str,
                                                    tmp_path: Path) -> None:
    shots = Path(os.environ.get("IMPORTER_SCREENSHOTS") or tmp_path / "screenshots")
    page.goto(address)
    assert "token" not in page.url  # swapped for a cookie and taken out of the address bar

    # A blank template, from the first step.
    with page.expect_download() as template:
        page.get_by_role("link", name="Purchase template").click()
    template.value.save_as(tmp_path / "template.xlsx")
    assert "Purchase" in openpyxl.load_workbook(tmp_path / "template.xlsx").sheetnames

    # Upload: every sheet, every value as the text the sheet holds, red cells with messages.
    page.set_input_files("#file", str(MISTAKES))
    expect(page.locator("#sheet-tabs .tab")).to_have_count(2)
    expect(page.locator("#counts")).to_contain_text("VALID 6")
    expect(page.locator("#counts")).to_contain_text("INVALID 10")
    phone = field(page, "AnswerPoint")
    expect(cell(page, 3, phone)).to_have_text("412345678")  # a number cell, kept as written
    scientific = cell(page, 8, phone)
    expect(scientific).to_have_class(re.compile("cell-error"))
    assert "scientific notation" in (scientific.get_attribute("title") or "")
    assert page.locator(".cell-error").count() >= 8
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "web-grid.png"))
    scientific.click()
    expect(page.locator("#message-bar")).to_contain_text("Row 8: Excel turned this into "
                                                         "scientific notation")
    page.keyboard.press("Escape")

    # Only the rows with problems; fix one and watch it pass; undo; fix it again.
    page.check("#problems-only")
    expect(page.locator(".tabulator-row")).to_have_count(10)
    type_into(page, 7, phone, "0412 345 777")
    expect(cell(page, 7, "_status")).to_have_text("VALID")
    expect(page.locator("#counts")).to_contain_text("VALID 7")
    page.click("#undo")
    expect(cell(page, 7, "_status")).to_have_text("INVALID")
    expect(page.locator("#counts")).to_contain_text("INVALID 10")
    type_into(page, 7, phone, "0412 345 777")
    expect(cell(page, 7, "_status")).to_have_text("VALID")

    # Send against the sandbox: progress while it runs, and the run outlives the tab.
    page.click("#to-run")
    expect(page.locator("#run-plan")).to_contain_text("7 purchases and 6 configure rows will "
                                                      "be sent")
    page.click("#run")
    expect(page.locator("#progress-text")).to_contain_text(re.compile(r"\d+ of 13 rows"))
    expect(page.locator("#progress-title")).to_have_text("Sending…")
    page.click('.steps [data-step="review"]')  # nothing can be changed while it is sent
    expect(page.locator("#undo")).to_be_disabled()
    cell(page, 4, phone).click()
    expect(cell(page, 4, phone).locator("input")).to_have_count(0)
    page.close()
    page = page.context.new_page()
    page.goto(address.split("?")[0])
    expect(page.locator("#progress-card")).to_be_visible()
    expect(page.locator("#progress-text")).to_contain_text(re.compile(r"\d+ of 13 rows"))
    expect(page.locator("#step-results")).to_be_visible(timeout=60_000)
    expect(page.locator("#final-counts")).to_contain_text("OK")

    # The results workbook says what the page says.
    with page.expect_download() as results:
        page.click("#results-link")
    path = tmp_path / "results.xlsx"
    results.value.save_as(path)
    page.click("#back-to-review")
    expect(cell(page, 2, "_status")).to_have_text("OK")
    shown = grid_statuses(page)
    written = {row: r["Status"] for row, r in enumerate(sheet_rows(path, "Purchase"), 2)}
    assert shown == written and len(written) == 16
    assert written[7] == "OK"  # the fixed row went out
    page.screenshot(path=str(shots / "web-finished.png"))


def test_cancel_finishes_the_row_in_flight_and_says_what_was_not_sent(
        page: Page, tmp_path: Path) -> None:
    for address in serve(tmp_path, "--sandbox-latency-ms", "300"):
        start_forty_purchases(page, address, tmp_path)
        page.click("#cancel")
        expect(page.locator("#step-results")).to_be_visible(timeout=60_000)
        expect(page.locator("#final-title")).to_contain_text("Stopped")
        counts = page.locator("#final-counts").inner_text()
        ok = int(re.search(r"OK (\d+)", counts)[1])
        skipped = int(re.search(r"SKIPPED (\d+)", counts)[1])
        assert ok >= 1 and skipped >= 1 and ok + skipped == 40
        # Issue 30, item 4: the card says Stopped, with the rows reached, not "40 of 40".
        page.click("button[data-step=run]")
        expect(page.locator("#progress-title")).to_have_text("Stopped")
        expect(page.locator("#progress-text")).to_have_text(
            f"{ok} of 40 rows reached · {ok} fine · 0 need you · {skipped} not sent (the run "
            "stopped first)")
        assert page.locator("#progress-bar").get_attribute("value") == str(ok)

        # The card belongs to its file: another file opened shows none, then its own run.
        page.click("button[data-step=start]")
        page.set_input_files("#file", str(MISTAKES))
        expect(page.locator("#doc-name")).to_have_text("mistakes.xlsx")
        page.click("button[data-step=run]")
        expect(page.locator("#progress-card")).to_be_hidden()
        expect(page.locator("button[data-step=results]")).to_be_disabled()
        page.click("#dry-run")
        expect(page.locator("#final-title")).to_have_text("Dry run done: nothing was sent")
        page.click("button[data-step=run]")
        expect(page.locator("#progress-title")).to_have_text("Finished")
        expect(page.locator("#progress-text")).to_contain_text(re.compile(r"^\d+ of \d+ rows · "))
        expect(page.locator("#progress-text")).not_to_contain_text("40")
        # A page opened again shows the file last opened with its own last run.
        page.goto(address.split("?")[0])
        expect(page.locator("#doc-name")).to_have_text("mistakes.xlsx")
        expect(page.locator("#step-review")).to_be_visible()
        page.click("button[data-step=run]")
        expect(page.locator("#progress-title")).to_have_text("Finished")
        expect(page.locator("#progress-text")).not_to_contain_text("40")


def test_a_file_dropped_on_the_page_is_checked(page: Page, tmp_path: Path) -> None:
    for address in serve(tmp_path):
        page.goto(address)
        dropped = page.evaluate_handle(
            """([name, bytes]) => {
                const transfer = new DataTransfer();
                transfer.items.add(new File([new Uint8Array(bytes)], name));
                return transfer;
            }""", ["mistakes.xlsx", list(MISTAKES.read_bytes())])
        page.dispatch_event("#drop", "dragover", {"dataTransfer": dropped})
        expect(page.locator("#drop")).to_have_class(re.compile("over"))
        page.dispatch_event("#drop", "drop", {"dataTransfer": dropped})
        expect(page.locator("#counts")).to_contain_text("INVALID 10")
        expect(page.locator("#doc-name")).to_have_text("mistakes.xlsx")


def test_a_copy_carried_on_with_during_a_run_shows_what_it_bought(page: Page,
                                                                  tmp_path: Path) -> None:
    """Issue 29, item 5: another tab opens the same file ("Carry on with an earlier file")
    while it is sent; when the run ends, that tab shows the rows as done and offers none."""
    for address in serve(tmp_path, "--sandbox-latency-ms", "400"):
        start_forty_purchases(page, address, tmp_path)
        tab = page.context.new_page()
        tab.goto(address.split("?")[0])
        tab.click("button[data-step=start]")
        tab.locator("#recent button", has_text="forty.csv").click()
        expect(tab.locator("#doc-name")).to_have_text("forty.csv")
        expect(page.locator("#step-results")).to_be_visible(timeout=60_000)
        expect(tab.locator("#message-bar")).to_contain_text(
            "A run of another copy of this file has ended", timeout=20_000)
        expect(tab.locator("#counts")).to_have_text(re.compile(r"^\s*SKIPPED 40\s*$"))
        tab.click("button[data-step=run]")
        expect(tab.locator("#run-plan")).to_have_text("No valid rows to send.")


def test_the_page_words_counts_and_times_as_people_do(page: Page, tmp_path: Path) -> None:
    """Issue 30, item 11: the header says "Sandbox", not its internal address; the typed
    credentials are said to be kept in memory until the server stops; times left read "1 min",
    not "1 min 0 s"; Check & fix says the file is being sent while it is."""
    for address in serve(tmp_path, "--sandbox-latency-ms", "300"):
        page.goto(address)
        expect(page.locator("#target")).to_contain_text("Sandbox")
        expect(page.locator("#target")).not_to_contain_text("127.0.0.1")
        expect(page.locator("#credentials-card")).to_contain_text(
            "Kept in memory until importer serve stops")
        assert page.evaluate("[60, 59.6, 61, 125, 7].map(seconds)") == [
            "1 min", "1 min", "1 min 1 s", "2 min 5 s", "7 s"]
        # One of two SKIPPED rows still to send: its badge is a part, not a second total.
        page.evaluate("nextSteps({dry_run: false, counts: {OK: 3, VALID: 0, INVALID: 0, "
                      "REJECTED: 0, FAILED: 0, UNKNOWN: 0, SKIPPED: 2}, skipped_not_done: 1, "
                      "skipped_blocked: [], skipped_blocked_count: 0})")
        expect(page.locator("#next-steps .chip")).to_have_text("SKIPPED 1 of 2")
        start_forty_purchases(page, address, tmp_path)
        page.click("button[data-step=review]")
        expect(page.locator("#run-note")).to_be_visible()
        expect(page.locator("#run-note")).to_contain_text(re.compile(r"Being sent now \(\d+ of 40"))
        page.click("button[data-step=run]")
        page.click("#cancel")
        expect(page.locator("#step-results")).to_be_visible(timeout=60_000)
        page.click("button[data-step=review]")
        expect(page.locator("#run-note")).to_be_hidden()
