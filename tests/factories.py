"""Test data made through the real service functions: ``make_council()``, ``make_user(role=…)``.

A stub for now. Each factory will be a function with keyword defaults that calls the same service
a view or CLI command calls, flushes, and returns the model, e.g.::

    def make_period(*, label: str = "2025-26 Q3", is_open: bool = True) -> Period:
        return create_period(label=label, is_open=is_open)

Call factories inside ``with app.app_context():`` and commit there, before making requests.
"""
