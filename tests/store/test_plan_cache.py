"""PostgreSQL plans every statement for its parameters: a plan made once for a table that was empty
is never reused after the table has grown.

psycopg prepares a statement run five times, and PostgreSQL then caches a generic plan for it when
that looks no costlier. A first full sync writes into empty tables: the plan cached early for "delete
these items' changes" scanned every change of the tracker, and each batch's delete grew with the
table (a quarter of a 30,000-issue sync's time). The store's connections force a plan per execution.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from v2mom.store.database import Database


def test_a_statement_run_many_times_is_planned_for_its_parameters_each_time(store: Database) -> None:
    if store.dialect != "postgresql":
        pytest.skip("SQLite plans each statement as it runs it: there is no plan cache to hold")
    with store.engine.connect() as conn:
        conn.execute(
            text(
                "PREPARE changes_of(text[]) AS SELECT count(*) FROM item_transitions "
                "WHERE tracker = 'jira' AND item_id = ANY($1)"
            )
        )
        for _ in range(8):
            conn.execute(text("EXECUTE changes_of('{1,2}')")).scalar_one()
        generic, custom = conn.execute(
            text("SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 'changes_of'")
        ).one()
        conn.execute(text("DEALLOCATE changes_of"))
    assert (generic, custom) == (0, 8)
