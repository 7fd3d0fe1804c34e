"""How templates treat a name or attribute that does not exist: loudly, so a typo is an error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, Undefined, meta
from jinja2.utils import missing

#: the packages whose templates read optional names and parameters that may be left out
LENIENT_PACKAGES = ("govuk_frontend_jinja", "govuk_frontend_wtf")
#: names base.html reads that a page may leave out
#: and a macro's own ``caller``, which is undefined when the macro is called without a body
BASE_OPTIONAL = frozenset({"form", "council", "caller"})


class TemplateUndefined(Undefined):
    """Like Jinja's ``StrictUndefined`` for a misspelt name or an attribute that an object
    lacks (``{{ retrun_.status }}``, ``{% if councl %}``): printing, testing or iterating it
    raises ``UndefinedError``, so a typo fails the page and its test instead of rendering as a
    blank. Two things stay lenient, as Jinja's default is: a key missing from a dict, because
    GOV.UK Frontend's macros read every optional parameter that way (``params.classes``), and
    the optional names that GOV.UK Frontend's own templates read (:data:`lenient_names`, found
    by :func:`collect_lenient_names`). ``is defined`` works as always.
    """

    __slots__ = ()
    #: names a template may read without anyone defining them
    lenient_names: frozenset[str] = BASE_OPTIONAL

    def _lenient(self) -> bool:
        if isinstance(self._undefined_obj, Mapping):
            return True
        return self._undefined_obj is missing and (self._undefined_name in self.lenient_names)

    def __str__(self) -> str:
        if not self._lenient():
            self._fail_with_undefined_error()
        return ""

    def __iter__(self) -> Any:
        if not self._lenient():
            self._fail_with_undefined_error()
        return iter(())

    def __bool__(self) -> bool:
        if not self._lenient():
            self._fail_with_undefined_error()
        return False

    def __len__(self) -> int:
        if not self._lenient():
            self._fail_with_undefined_error()
        return 0

    __hash__ = Undefined.__hash__


def collect_lenient_names(env: Environment) -> frozenset[str]:
    """Every name that a template of :data:`LENIENT_PACKAGES` reads without defining it, with
    :data:`BASE_OPTIONAL`."""
    names: set[str] = set(BASE_OPTIONAL)
    for name in env.list_templates():
        if name.split("/", 1)[0] in LENIENT_PACKAGES:
            source, _, _ = env.loader.get_source(env, name)
            names |= meta.find_undeclared_variables(env.parse(source))
    return frozenset(names)
