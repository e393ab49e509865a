"""One transaction helper for every write that must land whole or not at all.

It has its own module, not ``db.py``, because the migrations use it too and ``db.py`` runs the
migrations: keeping it here keeps the import graph free of cycles.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import duckdb


class Transaction:
    """What :func:`transaction` gives the block: :meth:`rollback` ends it early with nothing kept
    (a request found invalid half way), without raising."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.open = True

    def rollback(self) -> None:
        if self.open:
            self.open = False
            self.con.execute("ROLLBACK")


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[Transaction]:
    """``BEGIN TRANSACTION`` … ``COMMIT``; on any exception (an interrupt too) ``ROLLBACK`` and raise it.

    The one way the project writes several statements as one change: all of them or none.  Work that
    must follow the commit (a checkpoint, emptying a queue) goes after the ``with`` block; work that
    undoes something outside the database on failure goes in an ``except`` around it, which runs
    after the rollback."""
    con.execute("BEGIN TRANSACTION")
    tx = Transaction(con)
    try:
        yield tx
        if tx.open:
            con.execute("COMMIT")  # a failed commit rolls back below, like any other error
            tx.open = False
    except BaseException:
        tx.rollback()
        raise
