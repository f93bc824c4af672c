"""Re-solving an area: one what-if, a sweep of cap and band, planners' choices.

Every what-if re-solves from ``area.minutes`` with :func:`hubopt.pipeline.solve_matrix`
(no network work) and comes back as an :class:`~hubopt.whatif.outcomes.Outcome`; a
what-if whose rules cannot all hold is an outcome with status ``"infeasible"`` and the
reasons, not an exception.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from hubopt import inputs, pipeline
from hubopt.errors import HuboptError, InfeasibleError, SolverError
from hubopt.outputs import evaluate, tables
from hubopt.outputs.choices import alternatives_text, plans_frame, prices_frame
from hubopt.solver.choices import Choices
from hubopt.whatif.areas import AreaData
from hubopt.whatif.outcomes import Outcome

#: Columns of :func:`sweep`.
SWEEP_COLUMNS = [
    "cap",
    "band",
    "population_min",
    "population_max",
    "status",
    "hubs",
    "share_in_band",
    "smallest_hub",
    "largest_hub",
    "worst_minutes",
    "mean_minutes",
    "moved",
    "seconds",
]


def _label(changes: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in changes.items())


def solve(area: AreaData, name: str | None = None, /, **changes: Any) -> Outcome:
    """Re-solve the area's scenario with some fields changed; never raises for rules
    that cannot hold.

    Parameters
    ----------
    area
        From :func:`prepare` (or :func:`close_practice`, :func:`grow_lists`).
    name
        Column name in :func:`compare` (default: the changes, or the scenario name).
    **changes
        :class:`~hubopt.scenario.Scenario` fields, e.g. ``travel_cap_minutes=15``,
        ``population_min=25_000, population_max=45_000``,
        ``locked_groups=(("C82001", "C82002"),)``. Invalid values raise
        :class:`~hubopt.errors.InputError` at once.

    Returns
    -------
    Outcome
        With the plan scored, or status ``infeasible`` / ``no solution`` / ``error``
        and the reasons.
    """
    scenario = area.scenario.replace(**changes)
    what = (*area.changes, *([_label(changes)] if changes else []))
    name = name or "; ".join(what) or area.scenario.name
    timings: dict[str, float] = {}
    start = time.perf_counter()
    try:
        result, checks = pipeline.solve_matrix(
            area.practices,
            area.minutes,
            scenario,
            timings=timings,
            current=area.current,
            boundary=area.boundary,
        )
    except HuboptError as exc:
        status = {InfeasibleError: "infeasible", SolverError: "no solution"}.get(type(exc), "error")
        return Outcome(
            name, area, scenario, status, what, exc.message, tuple(exc.problems),
            seconds=time.perf_counter() - start, timings=timings,
        )  # fmt: skip
    seconds = time.perf_counter() - start
    assignment = tables.assignment_table(result.assignment, area.practices, area.minutes)
    moved = None
    if area.current is not None:
        moved = evaluate.practices_moved(
            inputs.practices_only(result.assignment, area.practices),
            area.current["group_id"],
            area.practices["list_size"],
        )
    return Outcome(
        name, area, scenario, result.status, what, result.describe(), result=result,
        checks=checks, assignment=assignment,
        hubs=tables.hub_table(assignment, area.practices, scenario), moved=moved,
        seconds=seconds, timings=timings,
    )  # fmt: skip


# ------------------------------------------------------------------ sensitivity sweep


def sweep(
    area: AreaData,
    *,
    caps: Iterable[float] | None = None,
    bands: Iterable[tuple[int, int]] | None = None,
    **changes: Any,
) -> pd.DataFrame:
    """Solve every combination of travel cap and population band; one row each.

    ``caps`` default to the scenario's cap, ``bands`` (``(min, max)`` pairs) to its
    band; ``changes`` apply to every solve. Columns: :data:`SWEEP_COLUMNS`
    (``share_in_band`` a fraction; figures NaN where there is no plan).
    """
    s = area.scenario
    rows = []
    for lo, hi in list(bands or [(s.population_min, s.population_max)]):
        for cap in list(caps or [s.travel_cap_minutes]):
            o = solve(
                area,
                f"cap {cap:g}, {lo:,}-{hi:,}",
                travel_cap_minutes=cap,
                population_min=lo,
                population_max=hi,
                **changes,
            )
            row = {
                "cap": cap,
                "band": f"{lo / 1000:g}-{hi / 1000:g}k",
                "population_min": lo,
                "population_max": hi,
                "status": o.status,
                "seconds": round(o.seconds, 1),
            }
            if o.has_plan:
                f = o.figures()
                row |= {
                    "hubs": f["hubs"],
                    "share_in_band": f["hubs in band"] / f["hubs"],
                    "smallest_hub": f["smallest hub"],
                    "largest_hub": f["largest hub"],
                    "worst_minutes": f["worst minutes to site"],
                    "mean_minutes": f["mean minutes to site (patient-weighted)"],
                    "moved": np.nan if o.moved is None else int(o.moved.sum()),
                }
            rows.append(row)
    return pd.DataFrame(rows, columns=SWEEP_COLUMNS)


# ------------------------------------------------------------------ planners' choices


def choices(
    area: AreaData, k: int | None = None, /, *, prices: bool = False, **changes: Any
) -> tuple[Outcome, Choices | None]:
    """The best plan (an :class:`Outcome`) and the choices around it: up to ``k``
    alternatives (default the scenario's ``[output] alternatives``), what stays
    together across them and, with ``prices``, the price of each rule (see
    :mod:`hubopt.solver.choices`). ``changes`` are scenario fields, e.g.
    ``alternatives_within=0.05``. With alternatives the best plan gets half the time
    limit and they share the rest; the prices share one more time limit."""
    k = area.scenario.replace(**changes).alternatives if k is None else k
    scenario = area.scenario.replace(**changes, alternatives=k)
    seconds = pipeline.best_scenario(scenario).time_limit_seconds
    best = solve(area, "best plan", **{**changes, "alternatives": k, "time_limit_seconds": seconds})
    if best.result is None or best.checks is None:
        return best, None
    found = pipeline.find_choices(
        area.practices, area.minutes, scenario, best.result, best.checks,
        current=area.current, boundary=area.boundary, alternatives=k, prices=prices,
    )  # fmt: skip
    best.scenario = scenario
    return best, found


def alternatives(area: AreaData, k: int = 3, /, **changes: Any) -> pd.DataFrame:
    """The best plan and up to ``k`` alternatives, one row each
    (:func:`hubopt.outputs.choices.plans_frame`). The frame's ``attrs`` hold
    ``"text"`` (how many were found, or that the best plan is nearly unique),
    ``"together"`` (each neighbouring pair: firm, contested, apart), ``"moves"`` (the
    practices that change hub, the hubs they move between and what that costs),
    ``"assignments"`` (each plan's practice -> hub site) and ``"choices"`` (the
    :class:`~hubopt.solver.choices.Choices`). An area with no plan gives an empty
    frame whose ``attrs["text"]`` says why."""
    best, found = choices(area, k, **changes)
    if found is None or found.alternatives is None:
        df = pd.DataFrame()
        df.attrs["text"] = best.describe()
        return df
    df = plans_frame(found)
    df.attrs |= {
        "text": alternatives_text(found.alternatives),
        "together": found.pairs,
        "moves": found.moves,
        "assignments": [p.assignment for p in found.alternatives.plans],
        "choices": found,
    }
    return df


def rule_prices(area: AreaData, /, **changes: Any) -> pd.DataFrame:
    """What each rule the scenario switches on costs, and the band and cap moved by a
    step: one row per re-solve (:func:`hubopt.outputs.choices.price_record`: rule,
    status, proven, patient-minutes and the saving against the best plan, worst
    minutes, hubs in band, seconds and the sentence for people). The re-solves share
    one time limit, after the best plan's."""
    best, found = choices(area, 0, prices=True, **changes)
    if found is None:
        df = pd.DataFrame()
        df.attrs["text"] = best.describe()
        return df
    return prices_frame(found.prices)
