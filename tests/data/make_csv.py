"""Writes tests/data/csv/*.csv, byte by byte as each program or person writes them.

Run `python tests/data/make_csv.py` after changing a case; README.md says what made each file
and what the right reading is (LibreOffice's own reading, compared in tests/test_csv_corpus.py).
"""

from __future__ import annotations

from pathlib import Path

HEAD = "PropertySid,NumberBlockSid,AnswerPoint,Campaign"
ROW = "PRDEMO0001,NB10000{},0412 345 67{},Spring"


def rows(n: int = 3, end: str = "\r\n") -> str:
    return end.join([HEAD, *(ROW.format(i, i) for i in range(n))]) + end


def line(i: int, campaign: str) -> str:
    return ROW.format(i, i).replace("Spring", campaign)


def lines(*campaigns: str, end: str = "\r\n") -> str:
    return end.join([HEAD, *(line(i, c) for i, c in enumerate(campaigns))]) + end


CASES: dict[str, bytes] = {
    "crlf.csv": rows().encode(),
    "lf.csv": rows(end="\n").encode(),
    "cr-mac.csv": rows(end="\r").replace("Spring", "Café").encode("mac_roman"),
    "mixed-endings.csv": (HEAD + "\r\n" + ROW.format(0, 0) + "\n" + ROW.format(1, 1) + "\r"
                          + ROW.format(2, 2) + "\r\n").encode(),
    "quote-inside-unquoted.csv": lines('Say "hi"', '5" screens').encode(),
    "quoted-multiline.csv": lines('"Spring\r\nSale"', '"a, ""b"" and\nc"').encode(),
    "unclosed-quote.csv": lines('"Spring sale', "Spring", "Spring").encode(),
    "formula-payloads.csv": lines("=cmd|' /C calc'!A0", "@SUM(1+1)",
                                  '"=HYPERLINK("http://x.test","y")"', '=HYPERLINK("http://x")',
                                  "+1-2").encode(),
    "quote-then-text.csv": lines('"a"b"c"', '"a" "b"', '"q"r').encode(),
    "semicolon.csv": rows().replace(",", ";").replace("Spring", "Spring, Sale").encode(),
    "tab.csv": rows().replace(",", "\t").encode(),
    "pipe.csv": rows().replace(",", "|").encode(),
    "control-character.csv": rows().replace("Spring", "Spr\x07ing", 1).encode(),
    "blank-lines.csv": (HEAD + "\r\n\r\n" + ROW.format(0, 0) + "\r\n,,,\r\n" + ROW.format(1, 1)
                        + "\r\n").encode(),
    "utf8-bom.csv": b"\xef\xbb\xbf" + rows().replace("Spring", "Noël €5").encode(),
    "cp1252.csv": rows().replace("Spring", "Noël €5 – sale").encode("cp1252"),
    "utf16.csv": rows().replace(",", "\t").replace("Spring", "Noël").encode("utf-16"),
    "zero-width-headers.csv": (",".join(f"\u200b{h}" for h in HEAD.split(","))
                               + "\r\n" + ROW.format(0, 0) + "\r\n").encode(),
}

if __name__ == "__main__":
    out = Path(__file__).with_name("csv")
    out.mkdir(exist_ok=True)
    for name, data in CASES.items():
        (out / name).write_bytes(data)
