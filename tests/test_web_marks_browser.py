"""Issue 19, item 1, in Chromium: after every edit and undo the grid shows exactly the server's
marks and messages for the rows it touched, in whichever sheet the change was."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.test_web_browser import (  # noqa: F401  (the Chromium fixtures)
    CHROMIUM,
    MISTAKES,
    _cell,
    _field,
    _serve,
    _type_into,
    browser_context_args,
    browser_type_launch_args,
)

playwright = pytest.importorskip("playwright.sync_api")
expect, Page = playwright.expect, playwright.Page

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
RED = re.compile(r"\bcell-error\b")


def test_marks_follow_every_edit_and_undo(page: Page, tmp_path: Path) -> None:
    for address in _serve(tmp_path):
        page.goto(address)
        page.set_input_files("#file", str(MISTAKES))
        expect(page.locator("#counts")).to_contain_text("INVALID 10")
        phone = _field(page, "AnswerPoint")

        # A fix: the row turns VALID and its red mark and hover text go at once.
        scientific = _cell(page, 8, phone)
        expect(scientific).to_have_class(RED)
        _type_into(page, 8, phone, "0412 345 888")
        expect(_cell(page, 8, "_status")).to_have_text("VALID")
        expect(scientific).not_to_have_class(RED)
        assert scientific.get_attribute("title") is None

        # A mistake: the row turns INVALID and the cell is red with the reason.
        good = _cell(page, 2, phone)
        expect(good).not_to_have_class(RED)
        _type_into(page, 2, phone, "12")
        expect(_cell(page, 2, "_status")).to_have_text("INVALID")
        expect(good).to_have_class(RED)
        assert good.get_attribute("title")

        # Undo from another sheet: the sheet of the edit is shown, with its marks restored.
        page.locator("#sheet-tabs .tab").nth(1).click()
        expect(page.locator("#message-bar")).not_to_contain_text("Row 2")
        configure = page.locator("#counts").inner_text()
        page.click("#undo")
        expect(page.locator("#sheet-tabs .tab.current")).to_contain_text("Purchase")
        expect(_cell(page, 2, "_status")).to_have_text("VALID")
        expect(_cell(page, 2, phone)).not_to_have_class(RED)
        expect(_cell(page, 8, "_status")).to_have_text("VALID")
        page.locator("#sheet-tabs .tab").nth(1).click()
        expect(page.locator("#sheet-tabs .tab.current")).to_contain_text("Configure")
        assert page.locator("#counts").inner_text() == configure
        page.locator("#sheet-tabs .tab").nth(0).click()
        page.click("#undo")
        expect(_cell(page, 8, "_status")).to_have_text("INVALID")
        expect(_cell(page, 8, phone)).to_have_class(RED)
        assert "scientific notation" in (_cell(page, 8, phone).get_attribute("title") or "")
