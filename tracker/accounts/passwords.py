"""Password hashing (argon2id) and the password policy (ASVS 5 6.2, NCSC guidance).

The policy: at least 8 characters, counted as Unicode code points; up to 256 allowed; no rules
about which kinds of character; not one of the common passwords in
``tracker/data/common-passwords.txt``; and not built from words about the person or this service.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, has_app_context

MIN_LENGTH = 8
#: ASVS asks for at least 64; more than 256 is refused to bound the work of hashing
MAX_LENGTH = 256
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt"
#: words about this service that make a password easy to guess for anyone who knows where it is used
SERVICE_WORDS = ("roadmap", "tracker", "adass")
#: context words shorter than this are not looked for inside a password ("Jo", "Ann" would refuse
#: "planning")
MIN_CONTEXT_WORD = 4

ENTER_PASSWORD = "Enter a password"  # noqa: S105 (a message, not a password)
TOO_SHORT = f"Password must be {MIN_LENGTH} characters or more"
TOO_LONG = f"Password must be {MAX_LENGTH} characters or fewer"
TOO_EASY = "Choose a password that is harder to guess"

# argon2-cffi's defaults are argon2id with RFC 9106's low-memory profile (t=3, m=64 MiB, p=4).
_STRONG = PasswordHasher()
# For the test suite only (``TESTING``): still argon2id, but cheap, so that the hundreds of
# sign-ins in the access tests take seconds rather than minutes.
_FAST_FOR_TESTS = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID)


def _hasher() -> PasswordHasher:
    if has_app_context() and current_app.testing:
        return _FAST_FOR_TESTS
    return _STRONG


class PasswordRejected(ValueError):
    """The password breaks the policy; ``str(error)`` is the message to show."""


def hash_password(password: str) -> str:
    """The argon2id hash of ``password``, with its own random salt."""
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``password_hash``; False for no hash or a broken one."""
    if not password_hash or len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's, so sign-in rehashes it."""
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def dummy_verify(password: str) -> None:
    """Spend as long as a real check, so an unknown email takes as long as a wrong password."""
    verify_password(_dummy_hash(_hasher()), password)


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash("not a real password, used to even out timing")


@functools.cache
def common_passwords() -> frozenset[str]:
    """The bundled list of common passwords, lower-cased."""
    with COMMON_PASSWORDS_FILE.open(encoding="utf-8") as lines:
        return frozenset(line.strip().casefold() for line in lines if line.strip())


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def context_words(
    *, email: str | None = None, name: str | None = None, extra: Iterable[str] = ()
) -> list[str]:
    """The words a password must not contain for this person.

    The email's local part and its pieces (``jo.bloggs`` gives ``jo.bloggs``, ``bloggs``), each
    word of the person's name, each word of ``extra`` (council names) and the service's own words.
    """
    words: list[str] = list(SERVICE_WORDS)
    if email:
        local = email.split("@", 1)[0]
        words.append(local)
        words += re.split(r"[^\w]+|_", local)
    for text in (name or "", *extra):
        words.append(text)
        words += re.split(r"[^\w]+", text)
    folded = {_fold(w) for w in words}
    # Words like "council", "city" and "of" in council names are not personal enough to refuse.
    return sorted(w for w in folded if len(w) >= MIN_CONTEXT_WORD and w not in _COMMON_NAME_WORDS)


_COMMON_NAME_WORDS = frozenset(
    {"council", "city", "county", "borough", "london", "the", "and", "of", "metropolitan"}
)


def check_password(
    password: str | None,
    *,
    email: str | None = None,
    name: str | None = None,
    extra_words: Iterable[str] = (),
) -> None:
    """Raise :class:`PasswordRejected`, with the message to show, if ``password`` breaks the policy.

    :param extra_words: more words the password must not contain, e.g. the person's council names.
    """
    if not password:
        raise PasswordRejected(ENTER_PASSWORD)
    length = len(password)  # code points: "é" is one character, as the person counts it
    if length < MIN_LENGTH:
        raise PasswordRejected(TOO_SHORT)
    if length > MAX_LENGTH:
        raise PasswordRejected(TOO_LONG)
    folded = _fold(password)
    if folded in common_passwords() or folded.strip() in common_passwords():
        raise PasswordRejected(TOO_EASY)
    if any(word in folded for word in context_words(email=email, name=name, extra=extra_words)):
        raise PasswordRejected(TOO_EASY)
