"""The practice's own terms: which new terms a file brings, "same as ..." aliases, and merges.

An unknown term never costs a row: the import keeps it as the practice's own
(``core.vocabulary_extensions``) and flags it with its closest known entry.  The therapist
then decides, once per term:

* before an import, "same as <entry>": the spelling is saved as an alias of this practice
  (``core.vocabulary_aliases``, migration 0008), so this and every later import maps it;
* after an import, merging a kept term into another: the history is rewritten (every visit,
  reading and check-in that uses it), the alias saved, and the change audited.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipelines.ingest import vocab as V
from pipelines.ingest.importer import prepare
from pipelines.ingest.validate import validate_chunk
from pipelines.warehouse import audit
from pipelines.warehouse.db import write_connection
from pipelines.warehouse.marts import rebuild_marts
from pipelines.warehouse.transaction import transaction

# Where each open vocabulary is stored: (table, column, is a list column).
VOCAB_COLUMNS: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "technique": (("visits", "techniques", True),),
    "muscle": (("visits", "focus_muscles", True), ("trigger_points", "muscle", False)),
    "region": (
        ("visits", "pain_region", False),
        ("clients", "complaint_region", False),
        ("self_reports", "region", False),
        ("trigger_points", "referral_region", False),
    ),
    "joint": (("rom", "joint", False),),
    "movement": (("rom", "movement", False),),
}
BUILT_IN = {
    "technique": V.TECHNIQUES,
    "muscle": V.MUSCLES,
    "region": V.REGIONS,
    "joint": V.JOINTS,
    "movement": V.MOVEMENTS,
}
# Natural keys that contain a vocabulary column: a merge must not make two rows one.
KEYS = {"rom": ("visit_id", "joint", "movement", "side", "timing"), "trigger_points": ("visit_id", "muscle", "side")}

INSERT_ALIAS = "INSERT INTO core.vocabulary_aliases VALUES (?, ?, ?, now(), ?)"
DELETE_ALIAS = "DELETE FROM core.vocabulary_aliases WHERE vocabulary = ? AND alias = ?"
DELETE_EXTENSION = "DELETE FROM core.vocabulary_extensions WHERE vocabulary = ? AND value = ?"
LIST_REPLACE = (
    "UPDATE core.{table} SET {column} = list_sort(list_distinct(list_transform({column}, "
    "lambda x: CASE WHEN x = ? THEN ? ELSE x END))) WHERE list_contains({column}, ?)"
)
SCALAR_REPLACE = "UPDATE core.{table} SET {column} = ? WHERE {column} = ?"
COUNT_LIST = "SELECT count(*) FROM core.{table} WHERE list_contains({column}, ?)"
COUNT_SCALAR = "SELECT count(*) FROM core.{table} WHERE {column} = ?"


class TermProblem(ValueError):
    """A merge or alias that cannot be done; the message is one line for the user."""


def file_new_terms(
    path: str | Path, kind: str, rename=None, vocabularies=None, day_first: bool = True
) -> tuple[pd.DataFrame, list[str], int]:
    """What a file brings, before anything is written: its new terms (one row per term with
    ``vocabulary``, ``term``, ``spelling``, ``rows`` -- rows that use it and pass the row checks --
    and ``suggestion``, the closest known entry), the import's notes on its columns (those not
    imported named), and the number of rows the import will read (blank rows not counted)."""
    table, kind, present, notes, rename = prepare(path, kind, rename)
    found: dict[tuple[str, str], tuple[str, set[int]]] = {}
    closest: dict[tuple[str, str], str | None] = {}
    n_rows = 0
    for chunk in table.chunks(rename):
        n_rows += len(chunk)
        result = validate_chunk(kind, chunk, day_first=day_first, vocabularies=vocabularies, present=present)
        closest.update(result.new_vocab)
        for key, (spelling, lines) in result.new_terms.items():
            found.setdefault(key, (spelling, set()))[1].update(lines)
    rows = [
        {
            "vocabulary": voc,
            "term": term,
            "spelling": spelling,
            "rows": len(lines),
            "suggestion": closest.get((voc, term)),
        }
        for (voc, term), (spelling, lines) in found.items()
    ]
    frame = pd.DataFrame(rows, columns=["vocabulary", "term", "spelling", "rows", "suggestion"])
    frame = frame.sort_values(["rows", "vocabulary", "term"], ascending=[False, True, True], ignore_index=True)
    return frame, notes, n_rows


def known_entries(vocabulary: str, practice_terms: list[str] = ()) -> list[str]:
    """What a term can be "the same as": the built-in entries, then the practice's own."""
    built_in = BUILT_IN[vocabulary].canonical_names
    return built_in + sorted(t for t in practice_terms if t not in built_in)


def save_aliases(db, choices: list[tuple[str, str, str]], actor: str) -> int:
    """Save "same as" choices ``(vocabulary, spelling, entry)`` as this practice's aliases."""
    choices = [(voc, V.normalise(spelling), entry) for voc, spelling, entry in choices if V.normalise(spelling)]
    if not choices:
        return 0
    with write_connection(db) as con:
        with transaction(con):
            for voc, alias, entry in choices:
                _check_entry(voc, entry, con)
                con.execute(DELETE_ALIAS, [voc, alias])
                con.execute(INSERT_ALIAS, [voc, alias, entry, actor])
                audit.record(
                    con,
                    "insert",
                    "vocabulary_aliases",
                    f"{voc}|{alias}",
                    after={"canonical": entry},
                    actor=actor,
                    detail=f"{voc} '{alias}' is the same as '{entry}'",
                )
    return len(choices)


def _check_entry(vocabulary: str, entry: str, con) -> None:
    if vocabulary not in VOCAB_COLUMNS:
        raise TermProblem(f"'{vocabulary}' is not a vocabulary of terms ({', '.join(VOCAB_COLUMNS)})")
    if entry in BUILT_IN[vocabulary].canonical_names:
        return
    known = con.execute(
        "SELECT count(*) FROM core.vocabulary_extensions WHERE vocabulary = ? AND value = ?", [vocabulary, entry]
    ).fetchone()[0]
    if not known:
        raise TermProblem(f"'{entry}' is not a known {vocabulary}")


def uses(con, vocabulary: str, term: str) -> dict[str, int]:
    """How many rows of each table use ``term``."""
    out = {}
    for table, column, is_list in VOCAB_COLUMNS[vocabulary]:
        sql = (COUNT_LIST if is_list else COUNT_SCALAR).format(table=table, column=column)
        out[f"{table}.{column}"] = con.execute(sql, [term]).fetchone()[0]
    return out


def merge_term(db, vocabulary: str, term: str, into: str, actor: str) -> dict[str, int]:
    """Merge the practice term ``term`` into ``into``: every row that uses it now says ``into``,
    the term is no longer a practice term, its spelling maps to ``into`` from now on, and the
    audit log says so.  One transaction; returns the rows changed per table."""
    term = V.normalise(term)
    if term == into:
        raise TermProblem("a term cannot be merged into itself")
    if term in BUILT_IN.get(vocabulary, V.Vocabulary(vocabulary, {})).canonical_names:
        raise TermProblem(f"'{term}' is a built-in {vocabulary}; only the practice's own terms can be merged")
    with write_connection(db) as con:
        with transaction(con):
            _check_entry(vocabulary, into, con)
            before = uses(con, vocabulary, term)
            _refuse_collisions(con, vocabulary, term, into)
            for table, column, is_list in VOCAB_COLUMNS[vocabulary]:
                if is_list:
                    con.execute(LIST_REPLACE.format(table=table, column=column), [term, into, term])
                else:
                    con.execute(SCALAR_REPLACE.format(table=table, column=column), [into, term])
            con.execute(DELETE_EXTENSION, [vocabulary, term])
            con.execute(DELETE_ALIAS, [vocabulary, term])
            con.execute(INSERT_ALIAS, [vocabulary, term, into, actor])
            changed = sum(before.values())
            audit.record(
                con,
                "update",
                "vocabulary",
                f"{vocabulary}|{term}",
                before={"term": term, "rows": before},
                after={"term": into},
                actor=actor,
                detail=f"{vocabulary} '{term}' merged into '{into}': {changed} rows updated",
            )
            rebuild_marts(con, {table for table, _, _ in VOCAB_COLUMNS[vocabulary]})
    return before


def _refuse_collisions(con, vocabulary: str, term: str, into: str) -> None:
    """A reading of 'elbo flexion' next to one of 'elbow flexion' on the same visit and side would
    become two readings of one thing: refuse, naming the visit, rather than drop either."""
    for table, column, is_list in VOCAB_COLUMNS[vocabulary]:
        key = KEYS.get(table)
        if is_list or key is None or column not in key:
            continue
        same = " AND ".join(f"a.{k} IS NOT DISTINCT FROM b.{k}" for k in key if k != column)
        hit = con.execute(
            f"SELECT a.visit_id FROM core.{table} a JOIN core.{table} b ON {same} "
            f"WHERE a.{column} = ? AND b.{column} = ? LIMIT 1",
            [term, into],
        ).fetchone()
        if hit:
            raise TermProblem(
                f"visit {hit[0]} already has a {table.replace('_', ' ')} row for '{into}' next to "
                f"'{term}'; correct one of them first"
            )


def practice_terms(con) -> pd.DataFrame:
    """The practice's own terms with their closest entry and how many rows use each."""
    terms = con.execute(
        "SELECT vocabulary, value, closest FROM core.vocabulary_extensions ORDER BY vocabulary, value"
    ).fetchall()
    rows = []
    for voc, value, closest in terms:
        if voc not in VOCAB_COLUMNS:
            continue
        rows.append({"vocabulary": voc, "term": value, "closest": closest, "rows": sum(uses(con, voc, value).values())})
    return pd.DataFrame(rows, columns=["vocabulary", "term", "closest", "rows"])
