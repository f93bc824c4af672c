"""Independent, named checks of a proposed grouping against the raw data.

A solver result is never trusted unchecked. These checks do not look at the PuLP
model: they take the proposed ``practice -> hub site`` mapping, the practices table
and the travel-time matrix, and re-verify each rule from scratch, naming every
failure (GerryChain's ``Validator`` shape: small callables, reported by name).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from hubopt.scenario import Scenario


@dataclass
class CheckResult:
    """Outcome of one named check."""

    name: str
    passed: bool
    failures: list[str] = field(default_factory=list)


@dataclass
class CheckReport:
    """All checks of one plan."""

    results: list[CheckResult]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failures(self) -> list[str]:
        return [f"{r.name}: {f}" for r in self.results for f in r.failures]

    def summary(self) -> str:
        return ", ".join(f"{r.name} {'ok' if r.passed else 'FAILED'}" for r in self.results)


@dataclass(frozen=True)
class PlanData:
    """What the checks see: the plan and the raw inputs, nothing from the model."""

    assignment: pd.Series  # practice code -> hub site code
    practices: pd.DataFrame  # needs list_size
    matrix: pd.DataFrame  # minutes, origin x destination
    scenario: Scenario
    objective: float | None = None  # what the solver claimed


Check = Callable[[PlanData], list[str]]


def assigned_once(d: PlanData) -> list[str]:
    """Every practice is in the plan exactly once, with a hub, and nothing else is."""
    out = []
    a = d.assignment
    for code in a.index[a.index.duplicated()].unique():
        out.append(f"practice {code} is assigned more than once")
    for code in d.practices.index.difference(a.index):
        out.append(f"practice {code} is missing from the plan")
    for code in a.index.difference(d.practices.index):
        out.append(f"plan names {code}, which is not in the practices table")
    for code in a.index[a.isna()]:
        out.append(f"practice {code} has no hub")
    return out


def sites_are_members(d: PlanData) -> list[str]:
    """Each hub site is a known practice that belongs to its own hub."""
    out = []
    a = d.assignment.dropna()
    for site in sorted(set(a)):
        if site not in d.practices.index:
            out.append(f"hub site {site} is not a practice")
        elif a.get(site) != site:
            out.append(f"hub site {site} is itself assigned to hub {a.get(site)}")
    return out


def population_within_band(d: PlanData) -> list[str]:
    """Each hub's total list size lies in the band (oversize singletons exempt)."""
    s = d.scenario
    out = []
    sizes = d.practices["list_size"]
    a = d.assignment.dropna()
    for site, members in a.groupby(a).groups.items():
        total = int(sizes.reindex(members).sum())
        exempt = (
            s.oversize == "own_hub"
            and list(members) == [site]
            and sizes.get(site, 0) > s.population_max
        )
        if exempt:
            continue
        if not s.population_min <= total <= s.population_max:
            out.append(
                f"hub {site} has {total:,} patients, outside "
                f"{s.population_min:,}-{s.population_max:,}"
            )
    return out


def oversize_alone(d: PlanData) -> list[str]:
    """Under ``oversize = "own_hub"``, an oversize practice's hub holds only itself."""
    s = d.scenario
    if s.oversize != "own_hub":
        return []
    out = []
    a = d.assignment.dropna()
    big = d.practices.index[d.practices["list_size"] > s.population_max]
    for code in big:
        if code in a.index:
            mates = a.index[a == a[code]].difference([code])
            if a[code] != code or len(mates):
                out.append(f"oversize practice {code} shares a hub ({a[code]})")
    return out


def travel_within_cap(d: PlanData) -> list[str]:
    """Every practice's road minutes to its hub site are within the cap."""
    cap = d.scenario.travel_cap_minutes
    out = []
    for code, site in d.assignment.dropna().items():
        if code not in d.matrix.index or site not in d.matrix.columns:
            out.append(f"no travel time for {code} -> {site}")
            continue
        t = float(d.matrix.at[code, site])
        if not t <= cap + 1e-6:
            out.append(f"practice {code} is {t:.1f} min from hub site {site}, cap {cap:g}")
    return out


def objective_matches(d: PlanData) -> list[str]:
    """The solver's objective equals patient-weighted minutes recomputed from raw data."""
    if d.objective is None:
        return []
    total = recompute_weighted_travel(d.assignment, d.practices, d.matrix)
    if not math.isclose(total, d.objective, rel_tol=1e-6, abs_tol=1e-3):
        return [f"solver reported {d.objective:,.1f}, recomputed {total:,.1f}"]
    return []


def recompute_weighted_travel(
    assignment: pd.Series, practices: pd.DataFrame, matrix: pd.DataFrame
) -> float:
    """Sum over practices of list size x minutes to the hub site."""
    a = assignment.dropna()
    return float(sum(practices.at[i, "list_size"] * matrix.at[i, j] for i, j in a.items()))


#: The checks run after every solve, in order.
CHECKS: tuple[Check, ...] = (
    assigned_once,
    sites_are_members,
    population_within_band,
    oversize_alone,
    travel_within_cap,
    objective_matches,
)


def check_plan(d: PlanData, checks: tuple[Check, ...] = CHECKS) -> CheckReport:
    """Run every check and collect the failures by name."""
    return CheckReport([CheckResult(c.__name__, not (f := c(d)), f) for c in checks])
