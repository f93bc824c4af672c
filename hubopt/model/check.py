"""Independent, named checks of a proposed grouping against the raw data.

A solver result is never trusted unchecked. These checks do not look at the PuLP
model: they take the proposed ``practice -> hub site`` mapping, the practices table
and the travel-time matrix, and re-verify each rule from scratch, naming every
failure (GerryChain's ``Validator`` shape: small callables, reported by name).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from hubopt.inputs import site_only_codes
from hubopt.scenario import Scenario
from hubopt.text import plural


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
    objective: float | None = None  # what the solver claimed (patient-weighted minutes)
    values: dict[str, float] = field(default_factory=dict)  # claimed value per stage
    current: pd.Series | None = None  # practice code -> today's group
    neighbours: nx.Graph | None = None  # practice neighbours (contiguity)

    @property
    def site_only(self) -> frozenset[str]:
        """Rows that are candidate hub sites, not practices (``site_only`` column)."""
        return frozenset(site_only_codes(self.practices))

    @property
    def hubs(self) -> dict[str, list[str]]:
        """Hub site -> member practice codes (unassigned practices left out)."""
        a = self.assignment.dropna()
        return {site: list(members) for site, members in a.groupby(a).groups.items()}

    def exempt(self, site: str, members: list[str]) -> bool:
        """A hub on its own exempt from the band: an oversize practice (under
        ``own_hub``) or a named exemption."""
        s, sizes = self.scenario, self.practices["list_size"]
        if list(members) != [site]:
            return False
        return site in s.exempt or (
            s.oversize == "own_hub" and sizes.get(site, 0) > s.population_max
        )


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
        if code not in d.scenario.optional and code not in d.site_only:
            out.append(f"practice {code} has no hub")
    return out


def sites_are_members(d: PlanData) -> list[str]:
    """Each hub site is a known practice (or candidate site) that belongs to its own
    hub, and a candidate site that is not a practice belongs to no other hub."""
    out = []
    a = d.assignment.dropna()
    for site in sorted(set(a)):
        if site not in d.practices.index:
            out.append(f"hub site {site} is not a practice")
        elif a.get(site) != site:
            out.append(f"hub site {site} is itself assigned to hub {a.get(site)}")
    for code in sorted(d.site_only & set(a.index)):
        if a[code] != code:
            out.append(
                f"candidate site {code} is not a practice but is assigned to hub {a[code]}; "
                "it can only be the site of its own hub"
            )
    return out


def population_within_band(d: PlanData) -> list[str]:
    """Each hub's total list size lies in the band (exempt hubs aside); with ``band =
    "rural_exception"`` hubs below the band are allowed, with ``"elastic"`` any breach
    is (they are reported, not failed)."""
    s = d.scenario
    out = []
    sizes = d.practices["list_size"]
    for site, members in d.hubs.items():
        total = int(sizes.reindex(members).sum())
        if d.exempt(site, members) or s.band == "elastic":
            continue
        low_ok = s.band == "rural_exception" or total >= s.population_min
        if not (low_ok and total <= s.population_max):
            out.append(
                f"hub {site} has {total:,} patients, outside "
                f"{s.population_min:,}-{s.population_max:,}"
            )
    return out


def oversize_alone(d: PlanData) -> list[str]:
    """Oversize practices (under ``oversize = "own_hub"``) and named exemptions are
    hubs holding only themselves."""
    s = d.scenario
    out = []
    a = d.assignment.dropna()
    big = list(s.exempt)
    if s.oversize == "own_hub":
        big += list(d.practices.index[d.practices["list_size"] > s.population_max])
    for code in dict.fromkeys(big):
        if code in a.index:
            mates = a.index[a == a[code]].difference([code])
            if a[code] != code or len(mates):
                out.append(f"practice {code} must be a hub on its own but shares hub {a[code]}")
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
    """The solver's objectives equal their values recomputed from raw data.

    Linear ones (patient-weighted minutes, patients left out) must match exactly;
    for the others the solver's figure is a bound the plan must meet (the plan is
    at least as good as claimed).
    """
    out = []
    claims = dict(d.values)
    if d.objective is not None and not claims:
        claims["weighted_travel"] = d.objective
    for name, claimed in claims.items():
        if name not in RECOMPUTED or claimed is None:  # a weighted stage's sum is not
            continue  # recomputed here
        actual = recompute(name, d)
        exact = name in ("weighted_travel", "unassigned")
        tol = 1e-6 * max(1.0, abs(claimed)) + 1e-3
        bad = abs(actual - claimed) > tol if exact else actual > claimed + tol
        if bad:
            out.append(f"{name}: solver reported {claimed:,.1f}, recomputed {actual:,.1f}")
    return out


#: The objectives :func:`recompute` knows (a weighted stage is a sum of them).
RECOMPUTED = ("weighted_travel", "worst_travel", "unassigned", "band_breach", "balance",
              "fewest_moved")  # fmt: skip


def recompute(name: str, d: PlanData) -> float:
    """One objective's value for the plan, from the raw data."""
    s, sizes = d.scenario, d.practices["list_size"]
    a = d.assignment.dropna()
    if name == "weighted_travel":
        return recompute_weighted_travel(d.assignment, d.practices, d.matrix)
    if name == "worst_travel":
        return max((float(d.matrix.at[i, j]) for i, j in a.items()), default=0.0)
    if name == "unassigned":
        return float(sizes.reindex(d.assignment.index[d.assignment.isna()]).sum())
    hubs = d.hubs  # a property: grouped once here, not once per hub
    totals = sizes.reindex(a.index).groupby(a.to_numpy()).sum().astype(float).to_dict()
    counted = {site: t for site, t in totals.items() if not d.exempt(site, hubs[site])}
    if name == "band_breach":
        lo, hi = s.population_min, s.population_max
        low = (lambda t: max(0.0, lo - t)) if s.band != "strict" else (lambda t: 0.0)
        high = (lambda t: max(0.0, t - hi)) if s.band == "elastic" else (lambda t: 0.0)
        return sum(low(t) + high(t) for t in counted.values())
    if name == "balance":
        target = s.balance_target or (s.population_min + s.population_max) / 2
        return sum(abs(t - target) for t in counted.values())
    if name == "fewest_moved":
        return float(moved_count(a, d.current))
    raise ValueError(f"unknown objective {name!r}")


def moved_count(assignment: pd.Series, current: pd.Series | None) -> int:
    """Practices not in the hub matched with their group today, with groups and hubs
    matched one-to-one to keep the most practices in place (Hungarian algorithm)."""
    return len(moved_practices(assignment, current))


def moved_practices(assignment: pd.Series, current: pd.Series | None) -> list[str]:
    """The practices :func:`moved_count` counts: in a group of ``current`` (practice ->
    group, e.g. another plan's hub sites) but not in the hub matched one-to-one with
    that group. Relabelling (the same grouping with other hub sites) moves nobody; among
    matchings that keep as many in place, hubs keep their site where they can."""
    cur = grouped(assignment.index, current)
    matched = match_groups(assignment, current)
    new = assignment.reindex(cur.index)
    return [i for i, g in cur.items() if matched.get(g) is None or new[i] != matched[g]]


def grouped(practices: pd.Index, current: pd.Series | None) -> pd.Series:
    """Today's group of each of ``practices`` that is in one (practice -> group)."""
    if current is None:
        return pd.Series(dtype=str)
    cur = current.reindex(practices).dropna().astype(str)
    return cur[cur != ""]


def match_groups(assignment: pd.Series, current: pd.Series | None) -> dict[str, str]:
    """Today's groups matched one-to-one with the plan's hubs (group -> hub site) to
    keep the most practices in place (Hungarian algorithm); among matchings keeping as
    many, hubs keep their site where they can. Groups left unmatched are absent."""
    cur = grouped(assignment.index, current)
    if cur.empty:
        return {}
    table = pd.crosstab(cur, assignment.reindex(cur.index).fillna("(none)"))
    table = table.drop(columns="(none)", errors="ignore")
    if table.empty:
        return {}
    same = table.index.to_numpy()[:, None] == table.columns.to_numpy()[None, :]
    score = table.to_numpy() + same / (2.0 * (len(table.index) + 1))
    rows, cols = linear_sum_assignment(score, maximize=True)
    return dict(zip(table.index[rows], table.columns[cols], strict=True))


def hub_count_in_range(d: PlanData) -> list[str]:
    """The number of hubs is what the scenario asks (hubs, or hubs_min/hubs_max)."""
    lo, hi = d.scenario.hub_range
    n = len(d.hubs)
    if (lo is not None and n < lo) or (hi is not None and n > hi):
        return [f"{plural(n, 'hub')}, the scenario asks for {lo or 0}-{hi or 'any'}"]
    return []


def fixed_sites_open(d: PlanData) -> list[str]:
    """Every fixed site is a hub site."""
    return [f"fixed site {j} is not a hub site" for j in d.scenario.fixed_sites if j not in d.hubs]


def sites_are_candidates(d: PlanData) -> list[str]:
    """With a candidate list, every hub site is on it (or is an exempt singleton, or a
    candidate site that is not a practice, always a candidate)."""
    cand = set(d.scenario.candidate_sites)
    if not cand:
        return []
    return [
        f"hub site {j} is not a candidate site"
        for j, members in d.hubs.items()
        if j not in cand and not d.exempt(j, members) and j not in d.site_only
    ]


def locked_together(d: PlanData) -> list[str]:
    """Each locked group's practices share one hub."""
    out = []
    for group in d.scenario.locked_groups:
        hubs = d.assignment.reindex(list(group))
        if hubs.isna().any() or hubs.nunique() > 1:
            where = ", ".join(f"{c} in {h}" for c, h in hubs.items())
            out.append(f"locked group {list(group)} is split: {where}")
    return out


def kept_apart(d: PlanData) -> list[str]:
    """The practices of each apart group are in different hubs."""
    out = []
    for group in d.scenario.apart:
        hubs = d.assignment.reindex(list(group)).dropna()
        for hub in hubs[hubs.duplicated()].unique():
            together = list(hubs.index[hubs == hub])
            out.append(f"practices {together} must be apart but share hub {hub}")
    return out


def within_zone(d: PlanData) -> list[str]:
    """No hub crosses the ``within`` column, except for practices allowed to cross."""
    col = d.scenario.within
    if not col:
        return []
    zone = d.practices[col].astype(str)
    out = []
    for site, members in d.hubs.items():
        strays = [i for i in members if zone[i] != zone[site] and i not in d.scenario.cross_allowed]
        if strays:
            out.append(
                f"hub {site} ({col} {zone[site]}) takes {', '.join(strays)} from another {col}"
            )
    return out


def mean_travel_within_cap(d: PlanData) -> list[str]:
    """Each hub's patient-weighted mean minutes to its site is within the mean cap."""
    limit = d.scenario.mean_travel_cap_minutes
    if limit is None:
        return []
    sizes = d.practices["list_size"]
    out = []
    for site, members in d.hubs.items():
        w = sizes.reindex(members).to_numpy(dtype=float)
        t = np.array([float(d.matrix.at[i, site]) for i in members])
        mean = float((w * t).sum() / w.sum()) if w.sum() > 0 else 0.0
        if mean > limit + 1e-6:
            out.append(f"hub {site}: patient-weighted mean {mean:.1f} min, cap {limit:g}")
    return out


def contiguous(d: PlanData) -> list[str]:
    """With ``contiguous = true``, each hub's practices are one connected area of
    neighbouring practices (checked with networkx, not the model's constraints)."""
    if not d.scenario.contiguous:
        return []
    if d.neighbours is None:
        return ["no practice neighbour graph to check contiguity against"]
    out = []
    for site, members in d.hubs.items():
        parts = list(nx.connected_components(d.neighbours.subgraph(members)))
        if len(parts) > 1:
            pieces = "; ".join(", ".join(sorted(p)) for p in parts)
            out.append(f"hub {site} is in {len(parts)} separate pieces: {pieces}")
    return out


def recompute_weighted_travel(
    assignment: pd.Series, practices: pd.DataFrame, matrix: pd.DataFrame
) -> float:
    """Sum over practices of list size x minutes to the hub site."""
    a = assignment.dropna()
    rows = matrix.index.get_indexer(a.index)
    cols = matrix.columns.get_indexer(a.to_numpy())
    if (rows < 0).any() or (cols < 0).any():
        missing = sorted({*a.index[rows < 0], *a[cols < 0]})
        raise KeyError(f"not in the travel-time matrix: {', '.join(map(str, missing))}")
    minutes = matrix.to_numpy()[rows, cols]
    return float(np.dot(practices["list_size"].reindex(a.index).to_numpy(float), minutes))


#: The checks run after every solve, in order.
CHECKS: tuple[Check, ...] = (
    assigned_once,
    sites_are_members,
    population_within_band,
    oversize_alone,
    travel_within_cap,
    hub_count_in_range,
    fixed_sites_open,
    sites_are_candidates,
    locked_together,
    kept_apart,
    within_zone,
    mean_travel_within_cap,
    contiguous,
    objective_matches,
)


#: Checks of optional rules run only when the scenario uses the rule.
APPLIES: dict[Check, Callable[[Scenario], bool]] = {
    hub_count_in_range: lambda s: s.hub_range != (None, None),
    fixed_sites_open: lambda s: bool(s.fixed_sites),
    sites_are_candidates: lambda s: bool(s.candidate_sites),
    locked_together: lambda s: bool(s.locked_groups),
    kept_apart: lambda s: bool(s.apart),
    within_zone: lambda s: bool(s.within),
    mean_travel_within_cap: lambda s: s.mean_travel_cap_minutes is not None,
    contiguous: lambda s: s.contiguous,
}


def check_plan(d: PlanData, checks: tuple[Check, ...] = CHECKS) -> CheckReport:
    """Run every check that applies to the scenario and collect the failures by name."""
    run = [c for c in checks if APPLIES.get(c, lambda s: True)(d.scenario)]
    return CheckReport([CheckResult(c.__name__, not (f := c(d)), f) for c in run])
