"""The roadmap's source text, normalised so that the data files can be checked against it.

The source is a conversion of a PDF: links appear as ``[text](#)`` or ``<a href="#">``, footnote
markers as ``<sup>n</sup>``, and some pages as HTML table cells. Normalising removes that
markup so a transcribed sentence can be found exactly as a reader of the report sees it.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

SOURCE = (
    Path(__file__).resolve().parent.parent / "roadmap" / "sources" / "time-to-act-roadmap-2023.txt"
)

_LINK_HTML = re.compile(r'<a href="[^"]*">(.*?)</a>')
_LINK_MD = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_FOOTNOTE = re.compile(r"<sup>\d+</sup>")
_INLINE = re.compile(r"</?(?:i|b|em|strong)>|\*+")
_OTHER_TAG = re.compile(r"<[^>]+>")
_BULLET = re.compile(r"^(?:•|-|#+)\s+")


def normalise(text: str) -> str:
    text = _LINK_HTML.sub(r"\1", text)
    text = _LINK_MD.sub(r"\1", text)
    text = _FOOTNOTE.sub("", text)
    text = _INLINE.sub("", text)
    text = _OTHER_TAG.sub("\n", text)
    return text


@cache
def source_lines() -> tuple[str, ...]:
    """Each list item, heading or paragraph of the source as one stripped line."""
    lines = []
    for raw in normalise(SOURCE.read_text(encoding="utf-8")).splitlines():
        line = _BULLET.sub("", raw.strip()).strip()
        if line:
            lines.append(line)
    return tuple(lines)


@cache
def source_flat() -> str:
    """The whole normalised source with every run of white space folded to one space."""
    return " ".join(" ".join(source_lines()).split())
