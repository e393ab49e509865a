"""This client's technique response in words: for the therapist, and for the client.

Pure functions from the rows of ``pipelines.techniques.client_response`` (one technique per row)
to sentences; no Streamlit, so the page, the client's view and the exported report say the same.
Effects are changes in pain on the 0-10 scale with vs without the technique (negative = relief);
the words turn them into "points more relief" / "points more pain".
"""

from __future__ import annotations

import math

from dashboard.charts.progress import pretty
from dashboard.client_facing.words import technique_words
from pipelines.techniques.client_response import CANNOT_TELL, CLEAR_DIFFERENCE, HELPS, UNCLEAR, WORSE, points


def name(technique: str) -> str:
    return pretty(technique)


def _amount(value: float) -> str:
    """A size in points, no sign ("1.8"); "0.0" never "−0.0"."""
    return points(abs(value), signed=False)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _compared_with_practice(row) -> str:
    p = row.get("p_better_than_practice")
    if _missing(p):
        return ""
    if p >= CLEAR_DIFFERENCE:
        return " more than most"
    if p <= 1 - CLEAR_DIFFERENCE:
        return " less than most"
    return ""


def therapist_sentence(row) -> str:
    """ "Trigger point has helped this client more than most: about 1.8 points more relief, likely
    between 1.1 and 2.4." (plain words; the numbers follow in the table)."""
    tech = name(row["technique"])
    verdict = row["verdict"]
    if verdict == CANNOT_TELL:
        return f"{tech}: cannot tell yet, because {row['reason']}."
    eff, lo, hi = row["effect"], row["ci_low"], row["ci_high"]
    visits = f"{int(row['n_visits_with'])} visits with it, {int(row['n_visits_without'])} without"
    if verdict == HELPS:
        return (
            f"{tech} has helped this client{_compared_with_practice(row)}: about {_amount(eff)} points more "
            f"relief than in visits without it, likely between {_amount(hi)} and {_amount(lo)} ({visits})."
        )
    if verdict == WORSE:
        return (
            f"{tech} has gone with more pain for this client: about {_amount(eff)} points more than in visits "
            f"without it, likely between {_amount(lo)} and {_amount(hi)} ({visits})."
        )
    return (
        f"{tech}: not enough visits to tell; anywhere from {_amount(lo)} points more relief to "
        f"{_amount(hi)} points more pain than without it ({visits})."
    )


def summary(rows: list[dict]) -> str:
    """One sentence: what seems to help this client, and how sure that is."""
    helps = [r for r in rows if r["verdict"] == HELPS]
    worse = [r for r in rows if r["verdict"] == WORSE]
    unclear = [r for r in rows if r["verdict"] in (UNCLEAR, CANNOT_TELL)]
    parts = []
    if helps:
        parts.append(
            "What seems to help: "
            + _join(
                f"{name(r['technique'])} (about {_amount(r['effect'])} points more relief, likely "
                f"{_amount(r['ci_high'])}–{_amount(r['ci_low'])})"
                for r in helps
            )
        )
    else:
        parts.append("No technique has clearly helped this client yet")
    if worse:
        parts.append("what has gone with more pain: " + _join(name(r["technique"]) for r in worse))
    if unclear:
        parts.append(f"no clear answer yet for {len(unclear)} other technique{'s' if len(unclear) != 1 else ''}")
    return "; ".join(parts) + "."


def _join(items) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def client_sentences(rows: list[dict]) -> list[str]:
    """The same estimates phrased for the client (second person, no statistics words); techniques
    named as the client knows them."""

    def called(r) -> str:
        return technique_words(r["technique"])[0]

    out = []
    for r in rows:
        if r["verdict"] == HELPS:
            out.append(
                f"{called(r)}: your visits with it have gone with about {_amount(r['effect'])} points less "
                f"pain (on the 0–10 scale) than your visits without it; probably between "
                f"{_amount(r['ci_high'])} and {_amount(r['ci_low'])} points."
            )
        elif r["verdict"] == WORSE:
            out.append(
                f"{called(r)}: your visits with it have gone with about {_amount(r['effect'])} points more "
                "pain than your visits without it. Worth talking about together."
            )
    rest = [called(r) for r in rows if r["verdict"] in (UNCLEAR, CANNOT_TELL)]
    if rest:
        out.append(
            "Too early to tell for "
            + _join(rest)
            + ": that needs more visits with and without "
            + ("it" if len(rest) == 1 else "each of them")
            + "."
        )
    return out
