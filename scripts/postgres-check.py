"""Exit 0 if the PostgreSQL server of a test database URL answers ``select 1``, else 1.

Usage: python scripts/postgres-check.py postgresql+psycopg://postgres@127.0.0.1:5432/postgres
Used by `make test` to decide whether to run the PostgreSQL pass.
"""

from __future__ import annotations

import sys

import psycopg
from sqlalchemy.engine import make_url


def main() -> int:
    url = make_url(sys.argv[1])
    try:
        with psycopg.connect(
            host=url.host or None,
            port=url.port or None,
            user=url.username or None,
            password=url.password or None,
            dbname=url.database or None,
            connect_timeout=3,
        ) as connection:
            connection.execute("select 1")
    except psycopg.Error as error:
        print(f"PostgreSQL at {url.render_as_string()} is not reachable: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
