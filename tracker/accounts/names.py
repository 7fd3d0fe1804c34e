"""The rule for people's names: no line breaks, control characters or invisible formatting.

A name is written into plain-text emails ("Dear …", "… has invited you"), the CLI's output and
the audit trail, so a line break in one would let whoever chooses it add lines of their own. Names
are refused, never silently cleaned, so that what is stored is what the person typed. Ordinary
spaces and letters in any language are kept ("Zoë", "Ó Briain"), as are the zero-width joiner
and non-joiner that Persian and Indic names need.

The services call :func:`check_name`, so a caller that skips the form is refused too; the forms
use :class:`NoControlCharacters`, which calls the same function.
"""

from __future__ import annotations

import unicodedata

from wtforms import Field, Form
from wtforms.validators import ValidationError

CONTROL_CHARACTERS = "Name must not contain line breaks or control characters"
#: Unicode categories refused: Cc control characters (CR, LF, NEL, tab, escape, NUL), Cf
#: invisible formatting (bidirectional overrides that reorder a line, zero-width spaces),
#: Cs lone surrogates, and Zl/Zp, the line and paragraph separators (U+2028, U+2029)
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
#: format characters allowed all the same: zero-width non-joiner and joiner, part of how some
#: languages are written
ALLOWED_FORMAT_CHARACTERS = frozenset({"\u200c", "\u200d"})


class NameRejected(ValueError):
    """The name breaks the rule; ``str(error)`` is the message to show."""


def has_control_characters(name: str) -> bool:
    """True when ``name`` holds a line break, a control character or invisible formatting."""
    return any(
        unicodedata.category(character) in REFUSED_CATEGORIES
        and character not in ALLOWED_FORMAT_CHARACTERS
        for character in name
    )


def check_name(name: str) -> None:
    """Refuse a name that would break a line of a plain-text email or hide what it says.

    :raises NameRejected: ``name`` holds a line break, control or invisible format character.
    """
    if has_control_characters(name):
        raise NameRejected(CONTROL_CHARACTERS)


class NoControlCharacters:
    """WTForms validator: the field's text passes :func:`check_name` once trimmed, as stored."""

    def __call__(self, form: Form, field: Field) -> None:
        try:
            check_name((field.data or "").strip())
        except NameRejected as error:
            raise ValidationError(str(error)) from error
