"""Issue 27, item 4, in Chromium against an API that really configures (a sandbox run as a live
API): the Results step of a configure run offers "Put back what this run changed" with the
preview of `importer undo` (the count, the first settings now -> before, the block someone
changed since) and its question; Cancel sends nothing; yes puts every block back field by field;
"Earlier runs of this file" offers it for the run again, and a second put-back sends nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from importer.sandbox import SandboxServer
from tests.browser import (  # noqa: F401  (the Chromium fixtures)
    browser_context_args,
    browser_type_launch_args,
    needs_chromium,
    open_file,
    screenshot,
    serve,
)
from tests.test_reliability import stats
from tests.test_undo import BLOCKS, _rollout, _state
from tests.util import cli

playwright = pytest.importorskip("playwright.sync_api")
expect, Page = playwright.expect, playwright.Page

pytestmark = needs_chromium
SIX = BLOCKS[:6]


def test_put_back_from_the_results_step_and_from_earlier_runs(
        page: Page, tmp_path: Path, api_env: SandboxServer,
        capsys: pytest.CaptureFixture[str]) -> None:
    cli(capsys, "run", _rollout(tmp_path / "first.xlsx", "spring", SIX), "--json")
    before = _state(api_env, SIX)
    autumn = _rollout(tmp_path / "autumn.xlsx", "autumn", SIX)
    for address in serve(tmp_path, sandbox=False):
        open_file(page, address, autumn, "VALID 6")
        page.click("#to-run")
        page.click("#run")
        expect(page.locator("#final-counts")).to_contain_text("OK 6")
        assert _state(api_env, SIX) != before
        someone = requests.post(f"{api_env.base_url}/v2/numberblocks/{SIX[1]}",
                                json={"AccountSid": "ACDEMO0001", "Campaign": "<b>someone</b>"},
                                auth=(api_env.account_sid, api_env.auth_token), timeout=5)
        assert someone.status_code == 200

        # The preview, then Cancel: nothing is sent.
        expect(page.locator("#put-back")).to_be_visible()
        sent = stats(api_env)["configure"]
        page.click("#put-back")
        dialog = page.locator("#put-back-dialog")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("of 6 blocks will go back to what they were before")
        expect(dialog).to_contain_text(f"{SIX[0]} · Campaign: “autumn-0” → “spring-0”")
        expect(dialog).to_contain_text("changed since this run: Campaign is now "
                                       "'<b>someone</b>'")  # text, never markup
        assert dialog.locator("b").count() == 0
        expect(dialog).to_contain_text("1 setting was changed by someone since that run")
        expect(dialog).to_contain_text("This will put back")
        screenshot(page, "put-back-preview.png")
        dialog.get_by_role("button", name="Cancel").click()
        expect(page.locator("#results-status")).to_have_text("Nothing was put back.")
        assert stats(api_env)["configure"] == sent

        # Yes: the undo workbook runs as a file of this rollout; every block is as before.
        page.click("#put-back")
        dialog.get_by_role("button", name="Put them back").click()
        expect(page.locator("#doc-name")).to_contain_text("autumn.undo.xlsx")
        expect(page.locator("#step-results")).to_be_visible()
        expect(page.locator("#final-counts")).to_contain_text("OK 6")
        assert _state(api_env, SIX) == before

        # Earlier runs offer it for each run that changed something; a second put-back of the
        # first run sends nothing new (its journal).
        page.locator(".steps [data-step=run]").click()
        runs = page.locator("#history li")
        expect(runs).to_have_count(2)
        first = runs.filter(has_text="autumn.results.xlsx")
        first.get_by_role("button", name="Put back what this run changed").click()
        expect(dialog).to_be_visible()
        sent = stats(api_env)["configure"]
        dialog.get_by_role("button", name="Put them back").click()
        expect(page.locator("#step-results")).to_be_visible()
        expect(page.locator("#final-counts")).to_contain_text("SKIPPED 6")
        assert stats(api_env)["configure"] == sent
        assert _state(api_env, SIX) == before
        screenshot(page, "put-back-again.png")
