"""A suggested mix for the next visit: keep, worth trying, probably drop, each with its reason.

A suggestion drawn from this client's own response (pipelines.techniques.client_response) and
the practice's history with clients who have the same complaint region; never an instruction.
The rules, in plain words:

* **keep**: the client's own 95 % interval says the technique has given more relief than
  their visits without it;
* **probably drop**: the interval says it has gone with *more* pain, or the client has had it in
  at least ``ENOUGH_VISITS`` visits and even the optimistic end of the interval is less than the
  smallest change a person notices (``RELIEF_POINTS``);
* **worth trying**: the client has not had it (or too rarely to tell) and, among the practice's
  clients with the same complaint region (all clients when too few with that region have had it
  and not had it to estimate the spread), its effect interval lies below zero, i.e. it has given
  relief; the best ``MAX_TRY`` of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.techniques.client_response import (
    CANNOT_TELL,
    HELPS,
    RELIEF_POINTS,
    UNCLEAR,
    WORSE,
    PracticeFit,
    client_response,
    points,
)

KEEP, TRY, DROP = "keep", "worth trying", "probably drop"
# Visits with a technique before "no sign it adds noticeable relief" is said about it.
ENOUGH_VISITS = 4
MAX_TRY = 3


@dataclass(frozen=True)
class Suggestion:
    action: str  # keep / worth trying / probably drop
    technique: str
    reason: str


def _span(lo: float, hi: float) -> str:
    return f"{points(-hi, signed=False)}–{points(-lo, signed=False)}"


def suggest(fit: PracticeFit, client_id: str) -> list[Suggestion]:
    rows = client_response(fit, client_id)
    out: list[Suggestion] = []
    tried_enough = set()
    for r in rows.to_dict("records"):
        tech, n_with = r["technique"], int(r["n_visits_with"])
        if r["verdict"] == HELPS:
            out.append(
                Suggestion(
                    KEEP,
                    tech,
                    f"it has helped this client: about {points(-r['effect'], signed=False)} "
                    f"points more relief (likely {_span(r['ci_low'], r['ci_high'])}) "
                    f"over {n_with} visits",
                )
            )
        elif r["verdict"] == WORSE:
            out.append(
                Suggestion(
                    DROP,
                    tech,
                    f"it has gone with about {points(r['effect'], signed=False)} points more "
                    f"pain for this client over {n_with} visits",
                )
            )
        elif r["verdict"] == UNCLEAR and n_with >= ENOUGH_VISITS and round(r["ci_low"], 1) > -RELIEF_POINTS:
            out.append(
                Suggestion(
                    DROP,
                    tech,
                    f"after {n_with} visits there is no sign it adds relief a person "
                    f"would notice (at most {points(-r['ci_low'], signed=False)} points)",
                )
            )
        if r["verdict"] != CANNOT_TELL and n_with >= 2:
            tried_enough.add(tech)
    region = fit.regions.get(client_id, "unspecified")
    candidates = []
    for tech, h in fit.hyper.items():
        if tech in tried_enough:
            continue
        local = fit.region_hyper(region, tech) if region != "unspecified" else None
        use, where = (
            (local, f"clients with {region.replace('_', ' ')} complaints")
            if local is not None and local.practice is not None
            else (h, "clients")
        )
        if use.practice is None or use.practice[2] >= 0:
            continue
        mean, lo, hi = use.practice
        candidates.append(
            (
                mean,
                Suggestion(
                    TRY,
                    tech,
                    (
                        f"{'not tried yet' if tech not in fit.client_techniques.get(client_id, []) else 'too few visits to tell'} "
                        f"for this client; for the practice's {use.n_clients} {where} who have had it and not had it, it gave "
                        f"about {points(-mean, signed=False)} points more relief (likely {_span(lo, hi)})"
                    ),
                ),
            )
        )
    candidates.sort(key=lambda c: (c[0], c[1].technique))
    out += [s for _, s in candidates[:MAX_TRY]]
    order = {KEEP: 0, TRY: 1, DROP: 2}
    return sorted(out, key=lambda s: order[s.action])
