"""A real PostgreSQL for the central tests: one throwaway cluster per test session (the
harness in hallq/harness/postgres.py), a fresh migrated database per test."""

import itertools

import psycopg
import pytest

from caller.central import schema
from hallq.harness.postgres import Postgres, PostgresMissing

_names = itertools.count(1)


@pytest.fixture(scope="session")
def postgres():
    """The session's cluster; the tests fail (not skip) when PostgreSQL is not installed."""
    try:
        cluster = Postgres()
    except PostgresMissing as e:
        pytest.fail(str(e), pytrace=False)
    with cluster:
        yield cluster


@pytest.fixture
def central_dsn(postgres):
    """The DSN of a new, migrated database of its own for one test."""
    name = f"t{next(_names)}"
    with psycopg.connect(postgres.dsn, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    dsn = postgres.dsn_for(name)
    with psycopg.connect(dsn) as conn:
        schema.migrate(conn)
    return dsn
