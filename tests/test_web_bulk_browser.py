"""Issue 19, item 5, in Chromium: the search box, Next problem, drop-downs, fill down, find and
replace, and a block pasted as Excel puts it on the clipboard, each re-checked by the server
and undone in one click; file text stays text throughout."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from importer.sandbox import SandboxServer
from tests.browser import (  # noqa: F401  (the Chromium fixtures)
    MISTAKES,
    browser_context_args,
    browser_type_launch_args,
    cell,
    field,
    grid_statuses,
    needs_chromium,
    screenshot,
    serve,
)

playwright = pytest.importorskip("playwright.sync_api")
expect, Page = playwright.expect, playwright.Page

pytestmark = needs_chromium
EXCEL_BLOCK = "0412 345 001\r\n0412 345 002\r\n0412 345 003\r\n"  # three cells of a column
MARKUP = "<img src=x onerror=window.__pwned=1>"


def _open(page: Page, address: str, path: Path = MISTAKES) -> None:
    page.goto(address)
    page.set_input_files("#file", str(path))
    expect(page.locator("#counts .chip").first).to_be_visible()


def _paste(page: Page, text: str) -> None:
    """A paste event as Chromium fires it for Ctrl+V, with the clipboard's text."""
    page.evaluate("""(text) => {
        const data = new DataTransfer();
        data.setData("text/plain", text);
        (document.activeElement || document.body).dispatchEvent(new ClipboardEvent("paste",
            { clipboardData: data, bubbles: true, cancelable: true }));
    }""", text)


def test_the_search_box_narrows_the_grid_to_matching_rows(page: Page, tmp_path: Path) -> None:
    for address in serve(tmp_path):
        _open(page, address)
        expect(page.locator(".tabulator-row")).to_have_count(16)
        page.fill("#search", "nb100505")
        expect(page.locator(".tabulator-row")).to_have_count(1)
        expect(cell(page, 7, "_status")).to_have_text("INVALID")
        page.fill("#search", MARKUP)
        expect(page.locator(".tabulator-row")).to_have_count(0)
        page.fill("#search", "")
        expect(page.locator(".tabulator-row")).to_have_count(16)
        assert page.evaluate("window.__pwned") is None


def test_next_problem_scrolls_the_bad_cell_into_view_and_focuses_it(page: Page,
                                                                   tmp_path: Path) -> None:
    page.set_viewport_size({"width": 1024, "height": 700})
    for address in serve(tmp_path):
        _open(page, address)
        master = field(page, "MasterMode")
        target = cell(page, 11, master)
        expect(target).not_to_be_in_viewport()  # far to the right
        bar = page.locator("#message-bar")
        for _ in range(8):  # rows 4 to 11: the eighth bad row, each click after the last's move
            before = bar.inner_text()
            page.click("#next-problem")
            expect(bar).to_contain_text("Row ")
            expect(bar).not_to_have_text(before)
        expect(page.locator("#message-bar")).to_contain_text("Row 11: 'ten' is not a whole number")
        expect(target).to_be_in_viewport()
        focused = page.evaluate("""() => { const c = document.activeElement.closest(
            '.tabulator-cell'); return c && [c.getAttribute('tabulator-field'),
            c.parentElement.querySelector('[tabulator-field="_row"]').textContent]; }""")
        assert focused == [master, "11"]
        # Typing goes straight into the bad cell: the row turns VALID.
        page.keyboard.press("Control+A")
        page.keyboard.type("10")
        page.keyboard.press("Enter")
        expect(cell(page, 11, "_status")).to_have_text("VALID")


def test_a_yes_no_column_offers_its_values_and_a_pick_turns_the_row_valid(
        page: Page, tmp_path: Path) -> None:
    for address in serve(tmp_path):
        _open(page, address)
        recording = field(page, "CallRecordingEnabled")
        cell(page, 10, recording).click()
        items = page.locator(".tabulator-edit-list .tabulator-edit-list-item")
        expect(items).to_have_text(["(empty)", "maybe", "TRUE", "FALSE"])  # the cell's own too
        items.filter(has_text=re.compile("^TRUE$")).click()
        expect(cell(page, 10, "_status")).to_have_text("VALID")
        expect(cell(page, 10, recording)).to_have_text("TRUE")


def test_a_block_pasted_from_excel_fixes_the_rows_and_one_undo_reverts_it(
        page: Page, tmp_path: Path) -> None:
    for address in serve(tmp_path):
        _open(page, address)
        phone = field(page, "AnswerPoint")
        assert {grid_statuses(page)[r] for r in (7, 8, 9)} == {"INVALID"}
        cell(page, 7, phone).click()  # the paste starts here (its editor is open)
        _paste(page, EXCEL_BLOCK)
        for row, value in ((7, "0412 345 001"), (8, "0412 345 002"), (9, "0412 345 003")):
            expect(cell(page, row, "_status")).to_have_text("VALID")
            expect(cell(page, row, phone)).to_have_text(value)
        expect(page.locator("#message-bar")).to_contain_text("Pasted 3 cells")
        expect(page.locator("#counts")).to_contain_text("VALID 9")
        page.click("#undo")
        for row in (7, 8, 9):
            expect(cell(page, row, "_status")).to_have_text("INVALID")
        expect(cell(page, 8, phone)).to_have_text("4.12E+08")
        expect(page.locator("#undo")).to_be_disabled()


def test_a_two_column_block_lands_across_columns(page: Page, tmp_path: Path) -> None:
    for address in serve(tmp_path):
        _open(page, address)
        phone, recording = field(page, "AnswerPoint"), field(page, "CallRecordingEnabled")
        cell(page, 9, phone).click()
        _paste(page, '0412 345 009\tTRUE\r\n"0412 345 010"\tno\r\n')
        expect(cell(page, 9, "_status")).to_have_text("VALID")
        expect(cell(page, 10, "_status")).to_have_text("VALID")
        expect(cell(page, 10, recording)).to_have_text("no")


def test_fill_down_copies_a_cell_to_the_shift_clicked_range(page: Page,
                                                            tmp_path: Path) -> None:
    for address in serve(tmp_path):
        _open(page, address)
        phone = field(page, "AnswerPoint")
        cell(page, 2, phone).click()
        page.keyboard.press("Escape")
        cell(page, 9, phone).click(modifiers=["Shift"])
        expect(cell(page, 5, phone)).to_have_class(re.compile(r"\bcell-range\b"))
        page.click("#fill-down")
        expect(page.locator("#message-bar")).to_contain_text("Filled 7 cells")
        for row in (7, 8, 9):
            expect(cell(page, row, "_status")).to_have_text("VALID")
            expect(cell(page, row, phone)).to_have_text("0412 345 678")


def test_find_and_replace_and_a_problem_group_with_markup_in_the_file(
        page: Page, tmp_path: Path) -> None:
    source = tmp_path / "markup.csv"
    source.write_text("PropertySid,NumberBlockSid,AnswerPoint,CallRecordingEnabled\n" + "".join(
        f"PRDEMO0001,NB{300000 + i},0412 345 678,{MARKUP if i % 2 else 'TRUE'}\n"
        for i in range(6)))
    for address in serve(tmp_path):
        _open(page, address, source)
        page.click("#groups-title")
        group = page.locator("#groups li").first
        expect(group.locator(".group-count")).to_have_text("3 ×")
        expect(group.locator(".group-reason")).to_contain_text(f"'{MARKUP}' is not a yes/no")
        group.get_by_role("button", name="Show these rows").click()
        expect(page.locator(".tabulator-row")).to_have_count(3)
        expect(page.locator("#filter-note")).to_be_visible()

        page.click("#replace-open")
        page.select_option("#replace-column", label="CallRecordingEnabled")
        page.fill("#replace-form [name=find]", MARKUP)
        page.fill("#replace-form [name=with]", "yes")
        page.check("#replace-form [name=whole]")
        page.click("#replace-form button[value=go]")
        expect(page.locator("#message-bar")).to_contain_text("Replaced in 3 cells")
        expect(page.locator("#counts")).to_contain_text("VALID 6")
        expect(page.locator("#groups-box")).to_be_hidden()
        page.click("#clear-filter")
        expect(page.locator(".tabulator-row")).to_have_count(6)
        assert page.evaluate("window.__pwned") is None
        assert page.locator("#grid img, #groups img").count() == 0


def test_a_paste_after_switching_sheets_asks_for_a_cell_and_changes_nothing(
        page: Page, tmp_path: Path) -> None:
    """The clicked cell was in the other sheet's grid (same row numbers, same column names)."""
    for address in serve(tmp_path):
        _open(page, address)
        cell(page, 7, field(page, "AnswerPoint")).click()
        page.keyboard.press("Escape")
        page.locator("#sheet-tabs .tab").nth(1).click()
        expect(page.locator("#sheet-tabs .tab.current")).to_contain_text("Configure")
        before = page.locator("#counts").inner_text()
        page.locator("#message-bar").click()  # focus off the grid, as after a tab click
        _paste(page, EXCEL_BLOCK)
        expect(page.locator("#message-bar")).to_contain_text("Click the cell where the pasted")
        assert page.locator("#counts").inner_text() == before
        expect(page.locator("#undo")).to_be_disabled()


def test_a_click_on_a_title_sorts_and_the_boxes_under_titles_filter(page: Page,
                                                                   tmp_path: Path) -> None:
    for address in serve(tmp_path):
        _open(page, address)
        block = field(page, "NumberBlockSid")
        title = page.locator(f'.tabulator-col[tabulator-field="{block}"] .tabulator-col-title')
        title.click()  # ascending: empty cells last, as Excel sorts
        title.click()  # descending
        first = page.locator(f'.tabulator-row .tabulator-cell[tabulator-field="{block}"]').first
        expect(first).to_have_text("NB999999")
        rows = page.locator('.tabulator-row .tabulator-cell[tabulator-field="_row"]')
        expect(rows.last).to_have_text("4")  # the empty NumberBlockSid, last either way
        phone = field(page, "AnswerPoint")
        box = page.locator(f'.tabulator-col[tabulator-field="{phone}"] input')
        box.press_sequentially("e+08")  # as typed: the grid filters on each key
        expect(page.locator(".tabulator-row")).to_have_count(1)
        expect(cell(page, 8, "_status")).to_have_text("INVALID")
        box.fill("")
        box.press("Enter")
        expect(page.locator(".tabulator-row")).to_have_count(16)
        page.locator('.tabulator-col[tabulator-field="_status"] input').click()
        page.locator(".tabulator-edit-list-item", has_text=re.compile("^VALID$")).click()
        expect(page.locator(".tabulator-row")).to_have_count(6)


def test_a_replace_over_many_rows_and_its_undo_show_on_screen(page: Page, tmp_path: Path) -> None:
    """More than 500 rows changed at once come back as "reload": the rows on screen are asked
    for again, after the replace and after its one-click undo alike."""
    source = tmp_path / "many.csv"
    source.write_text("PropertySid,NumberBlockSid,AnswerPoint,CallRecordingEnabled\n" + "".join(
        f"PRDEMO0001,NB{310000 + i},0412 345 678,maybe\n" for i in range(700)))
    for address in serve(tmp_path):
        _open(page, address, source)
        expect(page.locator("#counts")).to_contain_text("INVALID 700")
        recording = field(page, "CallRecordingEnabled")
        page.click("#replace-open")
        page.select_option("#replace-column", label="CallRecordingEnabled")
        page.fill("#replace-form [name=find]", "maybe")
        page.fill("#replace-form [name=with]", "yes")
        page.check("#replace-form [name=whole]")
        page.click("#replace-form button[value=go]")
        expect(page.locator("#counts")).to_contain_text("VALID 700")
        expect(cell(page, 2, recording)).to_have_text("yes")
        expect(cell(page, 2, "_status")).to_have_text("VALID")

        page.click("#undo")
        expect(page.locator("#counts")).to_contain_text("INVALID 700")
        expect(cell(page, 2, recording)).to_have_text("maybe")
        expect(cell(page, 2, "_status")).to_have_text("INVALID")


def _copy(page: Page, text: str) -> None:
    """Put `text` on the clipboard, as a copy in Excel does (the paste is then a real Ctrl+V)."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.evaluate("(text) => navigator.clipboard.writeText(text)", text)


def test_a_paste_starts_at_the_focused_cell_however_it_got_there(page: Page,
                                                                 tmp_path: Path) -> None:
    """Issue 30, item 1: a click, then a real Ctrl+V; then clicks and arrow keys, and the paste
    lands where the focus is (row 9), never at a cell clicked earlier; the page says where."""
    for address in serve(tmp_path):
        _open(page, address)
        phone = field(page, "AnswerPoint")
        before = {r: cell(page, r, phone).inner_text() for r in range(2, 12)}
        _copy(page, "0412 345 001\r\n0412 345 002\r\n")
        cell(page, 7, phone).click()
        page.keyboard.press("Control+V")
        expect(page.locator("#message-bar")).to_contain_text(
            "Pasted 2 cells into AnswerPoint, rows 7-8")
        expect(cell(page, 8, phone)).to_have_text("0412 345 002")
        page.click("#undo")
        expect(cell(page, 8, phone)).to_have_text(before[8])

        cell(page, 3, phone).click()
        page.keyboard.press("Escape")
        cell(page, 7, phone).click()
        page.keyboard.press("Escape")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")
        expect(cell(page, 9, phone)).to_be_focused()
        page.keyboard.press("Control+V")
        expect(page.locator("#message-bar")).to_contain_text(
            "Pasted 2 cells into AnswerPoint, rows 9-10")
        expect(cell(page, 9, phone)).to_have_text("0412 345 001")
        expect(cell(page, 10, phone)).to_have_text("0412 345 002")
        for row in (3, 7, 8, 11):
            expect(cell(page, row, phone)).to_have_text(before[row])


def test_fill_down_copies_the_focused_cell_not_one_clicked_before(page: Page,
                                                                  tmp_path: Path) -> None:
    for address in serve(tmp_path):
        _open(page, address)
        phone = field(page, "AnswerPoint")
        before = {r: cell(page, r, phone).inner_text() for r in range(2, 7)}
        cell(page, 2, phone).click()
        page.keyboard.press("Escape")
        page.keyboard.press("ArrowDown")  # on row 3 now: its value is the one to copy
        cell(page, 5, phone).click(modifiers=["Shift"])
        page.click("#fill-down")
        expect(page.locator("#message-bar")).to_contain_text("Filled 2 cells in AnswerPoint, "
                                                             "rows 4-5")
        for row in (4, 5):
            expect(cell(page, row, phone)).to_have_text(before[3])
        expect(cell(page, 2, phone)).to_have_text(before[2])
        expect(cell(page, 6, phone)).to_have_text(before[6])


def test_a_yes_given_before_another_tab_changed_the_file_is_asked_again(
        page: Page, tmp_path: Path) -> None:
    """Issue 29, item 2, in Chromium against an API that really sells (a sandbox run as a
    live API): tab 1 is asked about 2 purchases, tab 2 fixes 10 more rows, tab 1's "Yes, buy
    them" is refused and the question comes back with 12; its yes buys the 12."""
    rows = ["PropertySid,NumberBlockSid,AnswerPoint"] + [
        f"PRDEMO0001,NB{100950 + i},{'0412 345 678' if i < 2 else '0412 345'}"
        for i in range(12)]
    source = tmp_path / "twelve.csv"
    source.write_text("\n".join(rows) + "\n")
    with SandboxServer(db_path=str(tmp_path / "api.sqlite")) as live:
        env = {"IMPORTER_BASE_URL": live.base_url, "IMPORTER_ACCOUNT_SID": live.account_sid,
               "IMPORTER_AUTH_TOKEN": live.auth_token, "IMPORTER_CONFIG": str(tmp_path / "no")}
        for address in serve(tmp_path, sandbox=False, env=env):
            _open(page, address, source)
            expect(page.locator("#counts")).to_contain_text("INVALID 10")
            page.click("#to-run")
            page.click("#run")
            expect(page.locator("#confirm-text")).to_contain_text("BUY up to 2 number blocks")

            other = page.context.new_page()
            other.goto(address.split("?")[0])
            phone = field(other, "AnswerPoint")
            _copy(other, "\r\n".join(["0412 345 679"] * 10) + "\r\n")
            cell(other, 4, phone).click()
            other.keyboard.press("Escape")
            other.keyboard.press("Control+V")
            expect(other.locator("#message-bar")).to_contain_text(
                "Pasted 10 cells into AnswerPoint, rows 4-13")
            expect(other.locator("#counts")).to_contain_text("VALID 12")

            page.bring_to_front()
            page.click("#confirm-yes")
            expect(page.locator("#confirm-changed")).to_have_text(
                "The file changed since you were asked; nothing was sent. Here is the "
                "question again.")
            expect(page.locator("#confirm-text")).to_contain_text("BUY up to 12 number blocks")
            assert live.purchase_counts() == {}
            page.set_viewport_size({"width": 1024, "height": 700})
            screenshot(page, "web-buy-asked-again.png")
            page.click("#confirm-yes")
            expect(page.locator("#final-counts")).to_contain_text("OK 12", timeout=30_000)
            assert sum(live.purchase_counts().values()) == 12
