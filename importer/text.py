"""Text as it is shown to people: one line, no control characters, no secrets, not too long.

Every file name, sheet name and cell value that goes into a message passes through here, so a
name with a newline cannot split a one-line error and one with terminal escape sequences cannot
retitle the window. Nothing here imports the rest of the package.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

MAX_SHOWN = 80


def shown(text: object, limit: int | None = None) -> str:
    """`text` safe for one line: control characters escaped (`\\n`, `\\x1b`), optionally cut."""
    text = str(text)
    out = text if text.isprintable() else "".join(_escape(ch) for ch in text)
    return shorten(out, limit) if limit else out


def _escape(ch: str) -> str:
    if ch.isprintable() or ch == " ":
        return ch
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if ch in named:
        return named[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else (
        f"\\U{code:08x}")


def shorten(text: str, limit: int = MAX_SHOWN) -> str:
    """At most `limit` characters; a cut says how long the whole was."""
    if len(text) <= limit:
        return text
    return f"{text[: max(limit - 30, 10)]}… ({len(text):,} characters)"


def clip(text: str, limit: int) -> str:
    """A message cut to at most `limit` characters at a word boundary, with an ellipsis: read
    as a sentence that goes on, never ending in half a word (values use `shorten`)."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


def invisible(text: str) -> list[tuple[int, str]]:
    """(1-based position, name) of characters a person cannot see or tell apart from a space."""
    found = []
    for i, ch in enumerate(text, 1):
        category = unicodedata.category(ch)
        if ch != " " and (category in ("Cf", "Zs", "Zl", "Zp", "Cc") or ch == "\ufeff"):
            found.append((i, _name(ch)))
    return found


def _name(ch: str) -> str:
    """`zero width space, U+200B`: a character named the way Unicode names it."""
    fallback = "control character" if unicodedata.category(ch) == "Cc" else "unnamed character"
    return f"{unicodedata.name(ch, fallback).lower()}, U+{ord(ch):04X}"


def visible(text: str) -> str:
    """`text` without its invisible characters."""
    return "".join(ch for ch in text if not invisible(ch))


def describe_invisible(text: str) -> str:
    """'' or a clause naming the first hidden character, e.g. 'it contains an invisible
    character (zero width space, U+200B) at position 3'."""
    hidden = invisible(text)
    if not hidden:
        return ""
    position, name = hidden[0]
    more = f" and {len(hidden) - 1} more" if len(hidden) > 1 else ""
    return f"it contains an invisible character ({name}) at position {position}{more}"


def lookalike(text: str) -> tuple[int, str] | None:
    """(1-based position, description) of the first letter, digit or dash that is not plain
    ASCII but passes for it: a Cyrillic `А`, a full-width `１`, an en dash."""
    for i, ch in enumerate(text, 1):
        if not ch.isascii() and (ch.isalnum() or unicodedata.category(ch) == "Pd"):
            return i, f"'{ch}' ({_name(ch)})"
    return None


def describe_character(text: str, allowed: Callable[[str], bool]) -> str:
    """'' or a clause naming the first character of `text` that `allowed` refuses: invisible
    ones by name (they cannot be shown), look-alikes with a warning that they only look right,
    others as they are."""
    for i, ch in enumerate(text, 1):
        if allowed(ch):
            continue
        if invisible(ch):
            return f"it contains an invisible character ({_name(ch)}) at position {i}"
        if ch == " ":
            return f"it contains a space at position {i}"
        if lookalike(ch):
            return (f"it contains '{ch}' ({_name(ch)}) at position {i}, which only looks like "
                    f"'{_plain(ch)}'" if _plain(ch) else
                    f"it contains '{ch}' ({_name(ch)}) at position {i}")
        return f"it contains '{shown(ch)}' at position {i}"
    return ""


def _plain(ch: str) -> str:
    """The ASCII character a look-alike passes for, when there is an obvious one."""
    folded = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
    if folded:
        return folded
    if unicodedata.category(ch) == "Pd":
        return "-"
    name = unicodedata.name(ch, "")
    for script in ("CYRILLIC", "GREEK"):
        if name.startswith(script):
            latin = _LATIN.get(ch.lower())
            if latin:
                return latin.upper() if ch.isupper() else latin
    return ""


# Cyrillic and Greek letters that are drawn like Latin ones.
_LATIN = dict(zip("аеорсухкмнтвіјѕԁοαικνρτυχεζ", "aeopcyxkmhtbijsdoaikvptyxez", strict=True))


def did_you_mean(value: str, choices: list[str] | tuple[str, ...]) -> str | None:
    """The closest choice to a near miss (`end point` -> `endpoint`), or None."""
    key = "".join(value.split()).casefold()
    folded = {"".join(c.split()).casefold(): c for c in choices}
    if key in folded:
        return folded[key]
    prefixed = [c for k, c in folded.items() if len(key) >= 3 and k.startswith(key)]
    if len(prefixed) == 1:  # `app` -> `application`
        return prefixed[0]
    match = difflib.get_close_matches(key, list(folded), n=1, cutoff=0.75)
    return folded[match[0]] if match else None


def redact_url(url: str) -> str:
    """A URL without its user-info, whatever else is wrong with it (credentials never shown)."""
    text = str(url)
    try:
        parts = urlsplit(text)
    except ValueError:
        parts = None
    if parts is not None and "@" in parts.netloc:
        host = parts.netloc.rsplit("@", 1)[1]
        text = urlunsplit((parts.scheme, "***@" + host, parts.path, parts.query, parts.fragment))
    elif "@" in text:  # not parseable as a URL: drop everything before the last @ of the authority
        head, _, tail = text.partition("://")
        authority = tail if tail else head
        cut = authority.split("/", 1)
        if "@" in cut[0]:
            cut[0] = "***@" + cut[0].rsplit("@", 1)[1]
        text = (head + "://" if tail else "") + "/".join(cut)
    return shown(text)


def quoted(text: str) -> str:
    """`'Purchase'`: a name or value inside a message, escaped."""
    return f"'{shown(text)}'"


def quoted_list(names: list[str]) -> str:
    """`'A', 'B'`: names listed in a message."""
    return ", ".join(quoted(n) for n in names)


def column_letter(pos: int) -> str:
    """0 -> A, 26 -> AA: how Excel users name a column."""
    letters = ""
    pos += 1
    while pos > 0:
        pos, rem = divmod(pos - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


def delimiter_named(value: str) -> str:
    """A CSV's field separator as a person names it (`;`, `tab`, `semicolon`): the one
    character (ValueError when it is not one), for `--delimiter` and the page alike."""
    found = DELIMITER_NAMES.get(value.lower(), value)
    if len(found) != 1:
        raise ValueError("give one character, or tab, comma, semicolon or pipe")
    return found
