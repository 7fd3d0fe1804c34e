"""The rules every surface shares: who sees what, what may happen next, and the words for it.

- :mod:`tracker.domain.vocabulary`: the scales and tags, their labels and order.
- :mod:`tracker.domain.visibility`: may this person see, name or read this.
- :mod:`tracker.domain.workflow`: what a person may do with a return now.

Views, services, exports, reports, emails and the API ask these modules; none of them keeps a
copy. The package depends on :mod:`tracker.models` only (the import contract in
``pyproject.toml`` checks it).
"""
