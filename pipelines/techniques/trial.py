"""A fair trial for one client: two technique mixes compared over randomised AB/BA blocks of visits.

Design (single-patient randomised trials: AHRQ, Design and Implementation of N-of-1 Trials: A
User's Guide, 2014; PREEMPT, Kravitz RL et al., JAMA Intern Med 2018;178:1368-77): the visits
are paired into blocks; in each block a coin decides whether mix A or mix B comes first.  The
n-th visit of the client on or after the start day fills slot n; it follows the plan when its
techniques are exactly the mix due.

Analysis, when done: per block, the change in pain during the A visit minus that during the B
visit (negative = more relief with A).  The randomisation test uses the design itself: if the
mixes do not differ, swapping A and B inside a block only flips the sign of its difference, so
the p-value is the share of the 2^k equally likely sign patterns whose mean difference is at
least as far from 0 as the one seen.  The 95 % interval is every shift that this test does not
reject.  With k blocks the smallest possible p is 2 / 2^k: at least 6 blocks (12 visits) are
needed before p < 0.05 is possible at all, so shorter trials report the difference without
claiming it is real.  Blocks where a visit did not follow the plan, or lacks pain before or after,
are left out and counted.
"""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
import pandas as pd

from pipelines.warehouse import audit
from pipelines.warehouse.db import read_connection, write_connection

MIN_BLOCKS = 3  # 6 visits: the shortest trial the app offers
BLOCKS_FOR_SIGNIFICANCE = 6  # 2 / 2^6 = 0.031: the first block count where p < 0.05 can happen
DEFAULT_BLOCKS = 6
EXACT_MAX_BLOCKS = 14  # 2^14 sign patterns; above that a fixed-seed random sample of them
ALPHA = 0.05

INSERT_TRIAL = """
insert into core.trials (trial_id, client_id, mix_a, mix_b, n_blocks, started_on, created_at)
values ($trial_id, $client_id, $mix_a, $mix_b, $n_blocks, $started_on, $created_at)
"""
INSERT_SLOT = "insert into core.trial_schedule (trial_id, slot, block, mix) values (?, ?, ?, ?)"
CLIENT_EXISTS = "select count(*) from core.clients where client_id = ?"
RUNNING_FOR_CLIENT = "select trial_id from core.trials where client_id = ? and stopped_on is null"
TRIALS_FOR_CLIENT = """
select trial_id, client_id, mix_a, mix_b, n_blocks, started_on, stopped_on, stop_reason
from core.trials where client_id = ? order by created_at desc
"""
SCHEDULE = "select slot, block, mix from core.trial_schedule where trial_id = ? order by slot"
STOP = "update core.trials set stopped_on = ?, stop_reason = ? where trial_id = ? and stopped_on is null"


class TrialProblem(ValueError):
    """A trial that cannot be started or stopped, with the reason in the words on the page."""


@dataclass
class Trial:
    trial_id: str
    client_id: str
    mix_a: list[str]
    mix_b: list[str]
    n_blocks: int
    started_on: dt.date
    schedule: list[str]  # 'A'/'B' per slot, slot 1 first
    stopped_on: dt.date | None = None
    stop_reason: str | None = None


def plan(n_blocks: int, rng: np.random.Generator) -> list[str]:
    """Randomised AB/BA blocks: a fair coin per block."""
    out: list[str] = []
    for _ in range(n_blocks):
        out += ["A", "B"] if rng.random() < 0.5 else ["B", "A"]
    return out


def _mix(values) -> list[str]:
    return sorted({str(v).strip() for v in values if str(v).strip()})


def start_trial(
    db,
    client_id: str,
    mix_a,
    mix_b,
    n_blocks: int = DEFAULT_BLOCKS,
    started_on: dt.date | None = None,
    seed: int | None = None,
    actor: str | None = None,
) -> Trial:
    """Plan and store a trial (one transaction, with its audit row)."""
    a, b = _mix(mix_a), _mix(mix_b)
    if not a or not b:
        raise TrialProblem("Mix A and mix B each need at least one technique.")
    if a == b:
        raise TrialProblem("Mix A and mix B are the same: a trial compares two different mixes.")
    if int(n_blocks) < MIN_BLOCKS:
        raise TrialProblem(f"A trial needs at least {MIN_BLOCKS} blocks ({2 * MIN_BLOCKS} visits).")
    rng = np.random.default_rng(seed if seed is not None else secrets.randbits(64))
    trial = Trial(
        trial_id=f"T{secrets.token_hex(5)}",
        client_id=client_id,
        mix_a=a,
        mix_b=b,
        n_blocks=int(n_blocks),
        started_on=started_on or dt.date.today(),
        schedule=plan(int(n_blocks), rng),
    )
    with write_connection(db) as con:
        con.execute("begin transaction")
        try:
            if not con.execute(CLIENT_EXISTS, [client_id]).fetchone()[0]:
                raise TrialProblem(f"There is no client {client_id}.")
            running = con.execute(RUNNING_FOR_CLIENT, [client_id]).fetchall()
            if running:
                raise TrialProblem(f"{client_id} already has a trial running ({running[0][0]}); stop it first.")
            con.execute(
                INSERT_TRIAL,
                {
                    "trial_id": trial.trial_id,
                    "client_id": client_id,
                    "mix_a": a,
                    "mix_b": b,
                    "n_blocks": trial.n_blocks,
                    "started_on": trial.started_on,
                    "created_at": dt.datetime.now(),
                },
            )
            con.executemany(INSERT_SLOT, [[trial.trial_id, i + 1, i // 2 + 1, m] for i, m in enumerate(trial.schedule)])
            audit.record(
                con,
                "insert",
                "trials",
                trial.trial_id,
                after={"client_id": client_id, "mix_a": a, "mix_b": b, "n_blocks": trial.n_blocks},
                actor=actor,
                client_id=client_id,
            )
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
    return trial


def stop_trial(db, trial_id: str, reason: str, on: dt.date | None = None, actor: str | None = None) -> None:
    if not reason.strip():
        raise TrialProblem("Say why the trial stops early (for example: the client asked to).")
    with write_connection(db) as con:
        con.execute(STOP, [on or dt.date.today(), reason.strip(), trial_id])
        audit.record(con, "update", "trials", trial_id, after={"stop_reason": reason.strip()}, actor=actor)


def trials(db, client_id: str) -> list[Trial]:
    """This client's trials, newest first (one read-only connection)."""
    with read_connection(db) as con:
        try:
            rows = con.execute(TRIALS_FOR_CLIENT, [client_id]).fetchall()
        except Exception as exc:  # a database from before the trial tables: no trials yet
            if "trials" in str(exc):
                return []
            raise
        out = []
        for tid, cid, a, b, n, started, stopped, why in rows:
            schedule = [m for _, _, m in con.execute(SCHEDULE, [tid]).fetchall()]
            out.append(Trial(tid, cid, list(a), list(b), int(n), started, schedule, stopped, why))
    return out


def load_visits(db, trial: Trial) -> pd.DataFrame:
    sql = resources.files("pipelines.sql").joinpath("techniques/trial_visits.sql").read_text(encoding="utf-8")
    with read_connection(db) as con:
        return con.execute(sql, {"client_id": trial.client_id, "started_on": trial.started_on}).df()


# ---------------------------------------------------------------------------------------------
# Progress and result
# ---------------------------------------------------------------------------------------------


@dataclass
class Progress:
    slots: pd.DataFrame  # slot, block, due, visit_id, visit_date, techniques, followed, pain_change
    next_slot: int | None  # the slot the next visit fills (None when every slot is filled or stopped)
    next_mix: str | None
    n_done: int
    n_followed: int

    @property
    def complete(self) -> bool:
        return self.next_slot is None


def progress(trial: Trial, visits: pd.DataFrame) -> Progress:
    n = len(trial.schedule)
    done = visits.head(n).reset_index(drop=True)
    mixes = {"A": set(trial.mix_a), "B": set(trial.mix_b)}
    rows = []
    for i, due in enumerate(trial.schedule):
        visit = done.iloc[i] if i < len(done) else None
        techs = sorted(visit["techniques"]) if visit is not None and visit["techniques"] is not None else None
        rows.append(
            {
                "slot": i + 1,
                "block": i // 2 + 1,
                "due": due,
                "visit_id": None if visit is None else visit["visit_id"],
                "visit_date": None if visit is None else visit["visit_date"],
                "techniques": techs,
                "followed": None if visit is None else set(techs or []) == mixes[due],
                "pain_change": None if visit is None else visit["pain_change"],
            }
        )
    slots = pd.DataFrame(rows)
    n_done = min(len(done), n)
    running = trial.stopped_on is None and n_done < n
    return Progress(
        slots,
        n_done + 1 if running else None,
        trial.schedule[n_done] if running else None,
        n_done,
        int(sum(1 for r in rows if r["followed"])),
    )


@dataclass
class Result:
    n_blocks_used: int
    n_blocks_left_out: int
    differences: np.ndarray  # A - B per usable block (negative = more relief with A)
    mean_difference: float | None
    p_value: float | None
    ci: tuple[float, float] | None
    smallest_p: float | None
    notes: list[str] = field(default_factory=list)


def _sign_patterns(k: int) -> np.ndarray:
    if k <= EXACT_MAX_BLOCKS:
        return np.array(list(itertools.product((1.0, -1.0), repeat=k)))
    return np.where(np.random.default_rng(0).random((2**EXACT_MAX_BLOCKS, k)) < 0.5, 1.0, -1.0)


def randomisation_p(d: np.ndarray, signs: np.ndarray | None = None) -> float:
    """Two-sided p of the mean block difference over every AB/BA relabelling."""
    signs = _sign_patterns(len(d)) if signs is None else signs
    observed = abs(d.mean())
    return float((np.abs(signs @ d / len(d)) >= observed - 1e-12).mean())


def _interval(d: np.ndarray, signs: np.ndarray) -> tuple[float, float] | None:
    """Every shift delta with randomisation p(d - delta) > ALPHA (test inversion), on a 0.01 grid."""
    spread = max(float(np.ptp(d)), 1.0)
    grid = np.arange(d.min() - spread, d.max() + spread + 0.005, 0.01)
    shifted = d[:, None] - grid[None, :]  # (k, grid)
    stats = np.abs(signs @ shifted) / len(d)  # (patterns, grid)
    p = (stats >= np.abs(shifted.mean(axis=0))[None, :] - 1e-12).mean(axis=0)
    kept = grid[p > ALPHA]
    return (float(kept.min()), float(kept.max())) if len(kept) else None


def analyse(trial: Trial, prog: Progress) -> Result:
    s = prog.slots
    usable, left_out = [], 0
    for _block, g in s.groupby("block"):
        if g["visit_id"].isna().any():
            continue  # not reached yet
        a, b = g[g["due"] == "A"].iloc[0], g[g["due"] == "B"].iloc[0]
        if not (a["followed"] and b["followed"]) or pd.isna(a["pain_change"]) or pd.isna(b["pain_change"]):
            left_out += 1
            continue
        usable.append(float(a["pain_change"]) - float(b["pain_change"]))
    d = np.array(usable)
    notes = []
    if left_out:
        notes.append(
            f"{left_out} block{'s' if left_out != 1 else ''} left out: a visit did not follow the plan "
            "or lacks pain before or after"
        )
    if len(d) == 0:
        return Result(0, left_out, d, None, None, None, None, notes + ["no complete block yet"])
    signs = _sign_patterns(len(d))
    smallest = 2.0 / 2 ** len(d) if len(d) <= EXACT_MAX_BLOCKS else 1.0 / len(signs)
    p = randomisation_p(d, signs)
    ci = _interval(d, signs) if smallest <= ALPHA else None
    if ci is None:
        notes.append(
            f"with {len(d)} usable block{'s' if len(d) != 1 else ''} the smallest possible p is "
            f"{min(smallest, 1.0):.2f}: at least {BLOCKS_FOR_SIGNIFICANCE} are needed before chance can "
            "be ruled out, so no interval is given"
        )
    return Result(len(d), left_out, d, float(d.mean()), p, ci, smallest, notes)
