"""Shared pieces of the benchmarks: realistic sheets, timing, memory, and the environment.

The sheets are what a rollout looks like in Excel: header on row 1, text and number cells mixed
(Excel stores typed-in digits such as GroupType or a phone number without its leading zero as
numbers), answering points drawn from a pool of a few thousand distinct numbers written in every
usual way, and about 5% of rows broken in one of the ways validation must catch.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import xlsxwriter

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:  # `python bench/x.py` from a checkout without installing
    sys.path.insert(0, str(HERE.parent))

# 20 of purchase's 24 columns (all but AccountSid, EnableRules, PortInProgress, Ported).
PURCHASE_COLUMNS = (
    "PropertySid", "NumberBlockSid", "AnswerPoint", "CallRecordingEnabled", "CallWhisperEnabled",
    "CallWhisperPath", "Source", "Medium", "Campaign", "Content", "Description", "GroupName",
    "GroupType", "Preamble", "RoutingAction", "ProgrammableVoiceUrl", "MasterMode", "Diaplan",
    "CallWrapUpEnabled", "Active",
)
CONFIGURE_COLUMNS = (
    "PropertySid", "NumberBlockSid", "RoutingMethod", "EndpointNumber", "Flow", "Application",
    "Recording", "Source", "Medium", "Campaign", "Content",
)
PROPERTIES = ("PRDEMO0001", "PRDEMO0002", "PRDEMO0003", "PRDEMO0004", "PRDEMO0005")
SOURCES = ("google", "facebook", "bing", "instagram", "linkedin", "newsletter", "radio", "print")
MEDIUMS = ("cpc", "organic", "social", "email", "display", "referral")
BOOLS = ("TRUE", "FALSE", "yes", "no", "Y", "N", "1", "0")
FAULTS = ("bad_phone", "bad_enum", "missing_required", "scientific", "duplicate")
INVALID_SHARE = 0.05
PHONE_POOL = 4000


# --- data ---------------------------------------------------------------------------------------

def phone_pool(size: int, rng: random.Random) -> list[str]:
    """Distinct valid Australian answering points (national digits), checked with phonenumbers."""
    from importer.checking.rules import parse_phone

    makers = (
        lambda: f"04{rng.randint(0, 39):02d}{rng.randint(0, 999999):06d}",  # mobiles 0400-0439
        lambda: f"02{rng.choice('89')}{rng.randint(0, 9999999):07d}",  # Sydney
        lambda: f"03{rng.choice('89')}{rng.randint(0, 9999999):07d}",  # Melbourne
        lambda: f"073{rng.randint(0, 9999999):07d}",  # Brisbane
        lambda: f"089{rng.randint(0, 9999999):07d}",  # Perth
        lambda: f"1300{rng.randint(100000, 999999)}",
        lambda: f"1800{rng.randint(100000, 999999)}",
    )
    weights = (50, 14, 12, 8, 6, 6, 4)
    pool: dict[str, None] = {}
    while len(pool) < size:
        digits = rng.choices(makers, weights)[0]()
        if digits not in pool and parse_phone(digits) is not None:
            pool[digits] = None
    return list(pool)


def written(digits: str, rng: random.Random) -> str | int:
    """One number the way people (and Excel) write it; an int is a number cell."""
    if digits.startswith("04"):
        styles = (f"{digits[:4]} {digits[4:7]} {digits[7:]}", f"+61 {digits[1:4]} {digits[4:7]} "
                  f"{digits[7:]}", f"61{digits[1:]}", digits, int(digits))
    elif digits.startswith("1"):
        styles = (f"{digits[:4]} {digits[4:7]} {digits[7:]}", digits, int(digits))
    else:
        styles = (f"({digits[:2]}) {digits[2:6]} {digits[6:]}", f"{digits[:2]} {digits[2:6]} "
                  f"{digits[6:]}", f"+61 {digits[1]} {digits[2:6]} {digits[6:]}", digits,
                  int(digits))
    return rng.choice(styles)


def purchase_rows(rows: int, seed: int = 7) -> Iterator[list[str | int | None]]:
    """A purchase sheet, header first, streamed (a million rows need not sit in memory).

    About INVALID_SHARE of the rows are broken, one fault each, the faults taken in turn.
    """
    rng = random.Random(seed)
    pool = phone_pool(min(PHONE_POOL, max(50, rows // 25)), rng)
    # Many rows share a popular few numbers (call centres); the rest spread over the pool.
    popular = pool[: max(5, len(pool) // 50)]
    col = {name: c for c, name in enumerate(PURCHASE_COLUMNS)}
    yield list(PURCHASE_COLUMNS)
    faults = 0
    for i in range(rows):
        digits = rng.choice(popular) if rng.random() < 0.4 else rng.choice(pool)
        store = rng.randint(1, 5000)
        row: list[str | int | None] = [
            PROPERTIES[i % len(PROPERTIES)],
            block(i),
            written(digits, rng),
            rng.choice(BOOLS), rng.choice(BOOLS),
            f"/audio/whisper-{store % 40}.wav" if rng.random() < 0.3 else None,
            rng.choice(SOURCES), rng.choice(MEDIUMS),
            f"Spring Sale 2026 - Store {store}", f"banner-{'abc'[store % 3]}",
            f"Store {store} main line", f"Region {store % 12}",
            rng.randint(0, 1), rng.randint(0, 2), rng.randint(0, 3),
            f"https://voice.example.com/app/{store}" if rng.random() < 0.2 else None,
            0, "default" if rng.random() < 0.1 else None,
            rng.choice(BOOLS), rng.choice(BOOLS),
        ]
        if i and rng.random() < INVALID_SHARE:
            fault = FAULTS[faults % len(FAULTS)]
            faults += 1
            if fault == "bad_phone":  # unallocated mobile range, too short, premium, too long
                row[col["AnswerPoint"]] = rng.choice(("0441 234 567", "0412 345", "1900 123 456",
                                                      "0412 345 6789"))
            elif fault == "bad_enum":
                name = rng.choice(("GroupType", "CallRecordingEnabled", "Preamble"))
                row[col[name]] = {"GroupType": 7, "Preamble": 5}.get(name, "maybe")
            elif fault == "missing_required":
                row[col[rng.choice(("AnswerPoint", "NumberBlockSid"))]] = None
            elif fault == "scientific":
                row[col["AnswerPoint"]] = "4.12346E+08"
            else:  # the same block as an earlier row
                row[col["NumberBlockSid"]] = block(rng.randrange(i))
        yield row


def block(i: int) -> str:
    return f"NB{2_000_000 + i:07d}"


def configure_rows(blocks: list[str], seed: int = 11) -> list[list[str | int | None]]:
    """A valid configure sheet: one row per owned block, routing methods mixed."""
    rng = random.Random(seed)
    pool = phone_pool(min(PHONE_POOL, max(20, len(blocks) // 10)), rng)
    out: list[list[str | int | None]] = [list(CONFIGURE_COLUMNS)]
    for i, sid in enumerate(blocks):
        method = rng.choices(("endpoint", "flow", "application"), (70, 20, 10))[0]
        store = rng.randint(1, 5000)
        out.append([
            PROPERTIES[0], sid, method,
            written(rng.choice(pool), rng) if method != "application" else None,
            f"FLOW-{store % 50}" if method == "flow" else None,
            f"APP-{store % 20}" if method == "application" else None,
            rng.choice(("enabled", "disabled", "Enabled")),
            rng.choice(SOURCES), rng.choice(MEDIUMS),
            f"Winter 2026 - Store {store}", f"ad-{i % 7}",
        ])
    return out


def write_xlsx(path: Path, rows: Iterable[list[str | int | None]], sheet: str = "Sheet1") -> Path:
    """Streamed with xlsxwriter: text as text, ints as number cells, None left empty."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                           "strings_to_formulas": False,
                                           "strings_to_urls": False})
    ws = book.add_worksheet(sheet)
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            if isinstance(value, str):
                ws.write_string(r, c, value)
            elif value is not None:
                ws.write_number(r, c, value)
    book.close()
    return path


# --- measuring ----------------------------------------------------------------------------------

@dataclass
class Timing:
    runs: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    def __str__(self) -> str:
        return f"median {self.median:.3f} s of {', '.join(f'{t:.3f}' for t in self.runs)}"


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    gc.collect()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def alternate(repeat: int, **cases: Callable[[], object]) -> dict[str, Timing]:
    """Run the cases in turn, `repeat` rounds, swapping the order each round (fair to both)."""
    runs: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for i in range(repeat):
        for name in names if i % 2 == 0 else reversed(names):
            seconds, _ = timed(cases[name])
            runs[name].append(seconds)
            print(f"  round {i + 1}: {name} {seconds:.3f} s", file=sys.stderr, flush=True)
    return {name: Timing(r) for name, r in runs.items()}


def peak_rss_self() -> int:
    """Bytes: this process's peak resident set (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def peak_rss_children() -> int:
    """Bytes: the largest peak resident set among waited-for children."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024


GIB = 1024 ** 3
PACKAGES = ("pandas", "pandera", "python-calamine", "xlsxwriter", "openpyxl", "requests",
            "urllib3", "phonenumbers", "numpy", "pyarrow", "flask", "werkzeug")


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:  # pyarrow is optional: pandas then keeps Python strings
        return "(not installed)"


def environment() -> str:
    """One line saying where a figure was measured."""
    versions = " ".join(f"{p} {_version(p)}" for p in PACKAGES)
    return (f"{date.today().isoformat()}, {os.cpu_count()} cores, {platform.machine()}, "
            f"Python {platform.python_version()}, {versions}")


def ratio_line(what: str, ours: float, base_name: str, base: float, target: float) -> str:
    """The one line each ratio benchmark ends with: figures, ratio, target, MISSED if missed."""
    ratio = ours / base
    return (f"{what}: ours {ours:.2f} s, {base_name} {base:.2f} s, ratio {ratio:.2f} "
            f"(target <= {target}){'' if ratio <= target else '  MISSED'}")


def arguments(doc: str, rows: int) -> argparse.ArgumentParser:
    """The options every ratio benchmark takes: --rows and --repeat (add more to the parser)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--rows", type=int, default=rows)
    parser.add_argument("--repeat", type=int, default=3)
    return parser


def page_client(app, token: str):  # type: ignore[no-untyped-def]
    """The app's test client as the page is one: the key spent for the cookie, and the page's
    secret (in the redirect's fragment) on every request that changes something."""
    from importer.web.security import PAGE_FRAGMENT

    client = app.test_client()
    answer = client.get(f"/?token={token}")
    assert answer.status_code == 303 and PAGE_FRAGMENT in answer.headers["Location"]
    client.environ_base["HTTP_X_IMPORTER_PAGE"] = answer.headers["Location"].split(
        PAGE_FRAGMENT, 1)[1]
    return client
