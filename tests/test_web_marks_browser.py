"""Issue 19, items 1 and 2, in Chromium: after every edit and undo the grid shows exactly the
server's marks and messages, in whichever sheet the change was; a wrong token can be corrected
in the page."""

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
    needs_chromium,
    open_file,
    serve,
    type_into,
)

playwright = pytest.importorskip("playwright.sync_api")
expect, Page = playwright.expect, playwright.Page

pytestmark = needs_chromium
RED = re.compile(r"\bcell-error\b")


def test_marks_follow_every_edit_and_undo(page: Page, tmp_path: Path) -> None:
    for address in serve(tmp_path):
        open_file(page, address, MISTAKES, "INVALID 10")
        phone = field(page, "AnswerPoint")

        # A fix: the row turns VALID and its red mark and hover text go at once.
        scientific = cell(page, 8, phone)
        expect(scientific).to_have_class(RED)
        type_into(page, 8, phone, "0412 345 888")
        expect(cell(page, 8, "_status")).to_have_text("VALID")
        expect(scientific).not_to_have_class(RED)
        assert scientific.get_attribute("title") is None

        # A mistake: the row turns INVALID and the cell is red with the reason.
        good = cell(page, 2, phone)
        expect(good).not_to_have_class(RED)
        type_into(page, 2, phone, "12")
        expect(cell(page, 2, "_status")).to_have_text("INVALID")
        expect(good).to_have_class(RED)
        assert good.get_attribute("title")

        # Undo from another sheet: the sheet of the edit is shown, with its marks restored.
        page.locator("#sheet-tabs .tab").nth(1).click()
        expect(page.locator("#message-bar")).not_to_contain_text("Row 2")
        configure = page.locator("#counts").inner_text()
        page.click("#undo")
        expect(page.locator("#sheet-tabs .tab.current")).to_contain_text("Purchase")
        expect(cell(page, 2, "_status")).to_have_text("VALID")
        expect(cell(page, 2, phone)).not_to_have_class(RED)
        expect(cell(page, 8, "_status")).to_have_text("VALID")
        page.locator("#sheet-tabs .tab").nth(1).click()
        expect(page.locator("#sheet-tabs .tab.current")).to_contain_text("Configure")
        assert page.locator("#counts").inner_text() == configure
        page.locator("#sheet-tabs .tab").nth(0).click()
        page.click("#undo")
        expect(cell(page, 8, "_status")).to_have_text("INVALID")
        expect(cell(page, 8, phone)).to_have_class(RED)
        assert "scientific notation" in (cell(page, 8, phone).get_attribute("title") or "")


def test_a_wrong_token_can_be_corrected_in_the_page(page: Page, tmp_path: Path) -> None:
    """Issue 19, item 2: a 401 during a run brings the form back with what the API said; "Use
    these" checks a token before taking it; the rows were not sent, so sending again works."""
    source = tmp_path / "five.csv"
    source.write_text("PropertySid,NumberBlockSid,AnswerPoint\n" + "".join(
        f"PRDEMO0001,NB{100750 + i},0412 345 678\n" for i in range(5)))
    with SandboxServer(db_path=str(tmp_path / "api.sqlite")) as api:
        env = {"IMPORTER_BASE_URL": api.base_url, "IMPORTER_ACCOUNT_SID": api.account_sid,
               "IMPORTER_AUTH_TOKEN": "wrong-token", "IMPORTER_CONFIG": str(tmp_path / "no")}
        for address in serve(tmp_path, sandbox=False, env=env):
            page.goto(address)
            expect(page.locator("#target")).to_contain_text("Live API")
            expect(page.locator("#change-account")).to_be_visible()
            page.set_input_files("#file", str(source))
            expect(page.locator("#counts")).to_contain_text("VALID 5")

            def send() -> None:
                page.click("#to-run")
                page.click("#run")
                page.click("#confirm-yes")

            send()
            expect(page.locator("#credentials-card")).to_be_visible(timeout=60_000)
            expect(page.locator("#credentials-status")).to_contain_text("401")
            expect(page.locator("#change-account")).to_be_hidden()
            assert sum(api.purchase_requests().values()) == 0

            form = page.locator("#credentials")
            form.locator("[name=auth_token]").fill("still-wrong")
            form.locator("button[type=submit]").click()
            expect(page.locator("#credentials-status")).to_contain_text("refused these "
                                                                        "credentials (401")
            expect(page.locator("#credentials-card")).to_be_visible()
            form.locator("[name=auth_token]").fill(api.auth_token)
            form.locator("button[type=submit]").click()
            expect(page.locator("#credentials-card")).to_be_hidden()
            expect(page.locator("#target")).to_contain_text(api.account_sid)

            page.locator(".steps [data-step=review]").click()
            send()
            expect(page.locator("#final-counts")).to_contain_text("OK 5", timeout=60_000)
            assert api.purchase_requests() == {f"NB{100750 + i}": 1 for i in range(5)}

            page.click("#change-account")  # another account: the form, the SID filled in
            expect(page.locator("#credentials-card")).to_be_visible()
            expect(form.locator("[name=account_sid]")).to_have_value(api.account_sid)
