"""The one way this package parses XML a file holds (ooxml, odf, marks): expat, with no DTD.

A workbook's XML never needs a DTD, and a DTD is where entities are declared: refusing it
refuses entity expansion ("billion laughs") and external entities alike, whatever the expat
version. A refusal is an ExpatError, which every caller already treats as a damaged part.
"""

from __future__ import annotations

from xml.parsers import expat


def parser(namespace_separator: str | None = None) -> expat.XMLParserType:
    """An expat parser that refuses any DTD or entity declaration and buffers text."""
    made = expat.ParserCreate(namespace_separator=namespace_separator)
    made.StartDoctypeDeclHandler = _refuse
    made.EntityDeclHandler = _refuse
    made.buffer_text = True
    return made


def _refuse(*_: object) -> None:
    raise expat.ExpatError("a DTD or entity declaration, which no workbook needs")
