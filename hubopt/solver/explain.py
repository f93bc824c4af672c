"""Explain a proven infeasibility: which rule families conflict, and the least-bad plan.

:func:`explain_infeasible` relaxes each rule family the scenario switches on, one at a
time, and re-solves for feasibility with the same model code; the families whose
relaxation alone admits a plan are named. The band is then made elastic to name the
hubs and practices of the least-bad plan that would break it.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pulp

from hubopt import model
from hubopt.errors import HuboptError
from hubopt.model.diagnose import practice_label
from hubopt.model.exempt import own_hub_reason, singleton_practices
from hubopt.scenario import Scenario
from hubopt.solver.backends import Options
from hubopt.solver.clock import Clock
from hubopt.solver.result import SolveResult
from hubopt.solver.stages import solve_model


def relaxations(
    s: Scenario, practices: pd.DataFrame, *, each_group: bool = False
) -> list[tuple[str, dict]]:
    """Rule families that can be relaxed one at a time: (words, scenario change).

    ``each_group``: one entry per locked group (the others kept) instead of one for
    all of them (:mod:`hubopt.solver.choices` prices each federation on its own).
    """
    out: list[tuple[str, dict]] = []
    if s.population_min > 0 and s.band == "strict":
        out.append((f"the lower band ({s.population_min:,} patients)", {"population_min": 0}))
    if s.band != "elastic":
        total = int(practices["list_size"].sum())
        exempt = tuple(sorted(singleton_practices(practices, s)))
        out.append(
            (
                f"the upper band ({s.population_max:,} patients)",
                {"population_max": max(total, s.population_max), "exempt": exempt},
            )
        )
    out.append((f"the travel cap ({s.travel_cap_minutes:g} minutes)", {"travel_cap_minutes": 1e9}))
    if s.contiguous:
        out.append(("one connected area per hub (contiguous)", {"contiguous": False}))
    if s.mean_travel_cap_minutes is not None:
        out.append(("the cap on each hub's mean travel", {"mean_travel_cap_minutes": None}))
    if s.locked_groups and each_group:
        for k, group in enumerate(s.locked_groups):
            rest = s.locked_groups[:k] + s.locked_groups[k + 1 :]
            out.append((f"keeping {'+'.join(group)} together", {"locked_groups": rest}))
    elif s.locked_groups:
        out.append(("the locked groups", {"locked_groups": ()}))
    if s.apart:
        out.append(("the practices kept apart", {"apart": ()}))
    if s.fixed_sites:
        out.append(("the fixed hub sites", {"fixed_sites": ()}))
    if s.candidate_sites:
        out.append(("the candidate-site list", {"candidate_sites": ()}))
    if s.hub_range != (None, None):
        out.append(("the number of hubs", {"hubs": None, "hubs_min": None, "hubs_max": None}))
    if s.within:
        out.append((f"hubs staying within one {s.within}", {"within": None, "cross_allowed": ()}))
    return out


def explain_infeasible(
    practices: pd.DataFrame,
    matrix: pd.DataFrame,
    scenario: Scenario,
    *,
    current: pd.Series | None = None,
    neighbours=None,
    time_limit: float = 20.0,
) -> list[str]:
    """Say which rules conflict when the solver proves no plan exists.

    Each rule family is relaxed on its own (a feasibility solve, no objective); the
    ones whose relaxation alone admits a plan are named. Then the band is made
    elastic to find the least-bad plan, naming the hubs (and their practices) that
    would break it.
    """

    def feasible(s: Scenario) -> SolveResult | None:
        try:
            m = model.build(matrix, practices, s, current=current, neighbours=neighbours)
        except HuboptError:  # a relaxation that cannot even be built
            return None
        first = m.stages[0]
        if first.name != model.BAND_BREACH:  # any plan will do
            first = model.Stage("feasibility", pulp.LpAffineExpression())
        r = solve_model(m, Clock.starting(time_limit), Options.of(s), stages=[first])
        return r if r.has_solution else None

    culprits = []
    for words, change in relaxations(scenario, practices):
        if feasible(dataclasses.replace(scenario, **change)) is not None:
            culprits.append(words)
    out = []
    if culprits:
        out.append(
            "relaxing any one of these on its own would allow a plan: " + "; ".join(culprits)
        )
    else:
        out.append(
            "no single rule relaxed on its own allows a plan: several rules conflict together"
        )
    if scenario.band != "elastic":
        r = feasible(dataclasses.replace(scenario, band="elastic"))
        if r is not None:
            out += _breaches(r.assignment, practices, scenario)
    return out


def _breaches(assignment: pd.Series, practices: pd.DataFrame, scenario: Scenario) -> list[str]:
    """Hubs of the least-bad (elastic) plan that fall outside the band, in words."""
    s = scenario
    sizes = practices["list_size"]
    a = assignment.dropna()
    out = []
    for site, members in sorted(a.groupby(a).groups.items()):
        members = list(members)
        total = int(sizes.reindex(members).sum())
        if members == [site] and own_hub_reason(site, total, s):
            continue
        if s.population_min <= total <= s.population_max:
            continue
        gap = (
            f"{s.population_min - total:,} short of {s.population_min:,}"
            if total < s.population_min
            else f"{total - s.population_max:,} over {s.population_max:,}"
        )
        names = ", ".join(practice_label(practices, c) for c in members)
        out.append(
            f"the least-bad plan leaves the hub at {site} ({names}) with {total:,} patients, {gap}"
        )
    return out
