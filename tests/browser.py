"""Chromium through Playwright for the browser tests: Debian's Chromium through
`executable_path` (`playwright install` cannot download browsers here), `importer serve` started
as a user starts it, and the few ways the tests reach into Tabulator's grid."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

playwright = pytest.importorskip("playwright.sync_api")
expect, Page = playwright.expect, playwright.Page

ROOT = Path(__file__).resolve().parents[1]
MISTAKES = ROOT / "samples" / "mistakes.xlsx"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# As root in a container Chromium needs --no-sandbox; the rest keep it off this closed network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get "
                                "install chromium; .ci/run installs it)")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": {"width": 1400, "height": 850},
            "accept_downloads": True}


def serve(tmp_path: Path, *extra: str, sandbox: bool = True,
           env: dict[str, str] | None = None) -> Iterator[str]:
    """`importer serve` as a user starts it; yields the address it prints."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "importer", "serve", *(["--sandbox"] if sandbox else []),
         "--no-browser", "--port", "0", "--workspace", str(tmp_path / "workspace"), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **(env or {})})
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        found = re.search(r"http://127\.0\.0\.1:\d+/\?token=[\w-]+", line)
        assert found, f"{line}{proc.stderr.read() if proc.stderr else ''}"
        yield found[0]
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


@pytest.fixture(name="address")
def slow_address(tmp_path: Path) -> Iterator[str]:
    """A served page whose sandbox answers slowly enough to watch a run progress."""
    yield from serve(tmp_path, "--sandbox-latency-ms", "400")


def cell(page: Page, row: int, field: str):  # type: ignore[no-untyped-def]
    return page.locator(f'.tabulator-row:has(.tabulator-cell[tabulator-field="_row"]'
                        f':text-is("{row}")) .tabulator-cell[tabulator-field="{field}"]')


def field(page: Page, title: str) -> str:
    header = page.locator(".tabulator-col", has_text=title).first
    field = header.get_attribute("tabulator-field")
    assert field, title
    return field


def type_into(page: Page, row: int, field: str, value: str) -> None:
    target = cell(page, row, field)
    target.click()
    box = target.locator("input")
    box.fill(value)
    box.press("Enter")


def grid_statuses(page: Page) -> dict[int, str]:
    """Row number -> status of the rows drawn, read at once (once the grid has drawn some: a
    loaded machine draws late, and rows read one by one may be drawn again in between)."""
    expect(page.locator('.tabulator-row [tabulator-field="_row"]').first).to_be_visible()
    found = page.evaluate("""() => [...document.querySelectorAll('.tabulator-row')].map((r) => [
        r.querySelector('[tabulator-field="_row"]').textContent,
        r.querySelector('[tabulator-field="_status"]').textContent.trim()])""")
    return {int(row): status for row, status in found}


def start_forty_purchases(page: Page, address: str, tmp_path: Path) -> None:
    """Upload 40 purchases, send them, and return once the first has gone (the sandbox answers
    each in 300 ms, so the run is still going)."""
    rows = ["PropertySid,NumberBlockSid,AnswerPoint"] + [
        f"PRDEMO0001,NB{100700 + i},0412 345 678" for i in range(40)]
    source = tmp_path / "forty.csv"
    source.write_text("\n".join(rows) + "\n")
    open_file(page, address, source, "VALID 40")
    page.click("#to-run")
    page.click("#run")
    expect(page.locator("#progress-text")).to_contain_text(re.compile(r"[1-9]\d* of 40"))



def screenshot(page: Page, name: str) -> Path:
    """A picture of the page to look at: into IMPORTER_SCREENSHOTS when set, else a temporary
    folder (the README's own pictures are taken only when asked)."""
    folder = Path(os.environ.get("IMPORTER_SCREENSHOTS") or Path(tempfile.gettempdir()) /
                  "importer-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)
    return folder / name


def open_file(page: Page, address: str, path: Path, counts: str) -> None:
    """Open the page, upload `path` as a person chooses a file, and wait for the grid's
    counts to say `counts` (e.g. "INVALID 10")."""
    page.goto(address)
    page.set_input_files("#file", str(path))
    expect(page.locator("#counts")).to_contain_text(counts)
