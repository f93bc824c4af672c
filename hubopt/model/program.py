r"""The hub-grouping integer program, built with PuLP from a travel-time matrix.

The model never sees a road network: only a practice x practice matrix of minutes
(rows = practice, columns = candidate hub site; the model uses the direction
*practice -> site*), the list sizes and, for the coherence rule, a practice
neighbour graph (:mod:`hubopt.model.adjacency`).

Formulation
-----------
Sets and data:

* :math:`P` practices; :math:`w_i` registered patients of practice :math:`i`.
* :math:`t_{ij}` road minutes from practice :math:`i` to practice :math:`j`
  (every practice is a candidate hub site unless a candidate list is given).
* :math:`T` travel cap; :math:`L, U` the population band.
* :math:`S \subseteq P` practices that may be hub sites (candidate list, else all).
* :math:`H` site-only rows: candidate hub sites that are not practices (``[inputs]
  sites``, e.g. a community hospital), with :math:`w_h = 0`; always in :math:`S`.
* :math:`O \subseteq P` singletons: oversize practices (:math:`w_j > U`) under
  ``oversize = "own_hub"`` and named exemptions; each forms a hub on its own.
* :math:`E` eligible pairs: :math:`(i, j)` with :math:`t_{ij} \le T`,
  :math:`j \in S`, :math:`i, j` in the same zone of the ``within`` column (unless
  :math:`i` may cross), neither in :math:`O` unless :math:`i = j`, and
  :math:`i \notin H` unless :math:`i = j`. Variables
  exist **only** for these: the cap, candidate sites, zones and singletons are
  enforced by construction, which keeps large areas tractable.

Variables: :math:`x_{ij} \in \{0, 1\}` for :math:`(i, j) \in E`, 1 when practice
:math:`i` belongs to the hub sited at :math:`j`; :math:`x_{jj} = 1` means
:math:`j` is a hub site. Let :math:`W_j = \sum_{i:(i,j) \in E} w_i x_{ij}`.

Rules (each an ``add_<rule>`` function; :mod:`hubopt.model.check` re-verifies them):

.. math::

    & \sum_{j : (i,j) \in E} x_{ij} = 1 \;\; (\le 1 \text{ if } i \text{ optional})
        && \text{(assign_once)} \\
    & x_{hh} \le 1,\ x_{hj} \text{ absent for } j \ne h \quad \forall h \in H
        && \text{(site_only)} \\
    & x_{ij} \le x_{jj} \quad \forall (i, j) \in E,\ i \ne j
        && \text{(join_open_site)} \\
    & L\,x_{jj} - s_j \le W_j \le U\,x_{jj} + e_j \quad \forall j \notin O
        && \text{(population_band)} \\
    & x_{jj} = 1 \quad \forall j \in O && \text{(singleton_own_hub)} \\
    & x_{jj} = 1 \quad \forall j \in F && \text{(fixed_sites)} \\
    & k_{min} \le \sum_j x_{jj} \le k_{max} && \text{(hub_count)} \\
    & \textstyle\sum_i w_i t_{ij} x_{ij} \le M\, W_j \quad \forall j
        && \text{(mean_travel_cap)} \\
    & x_{ij} = x_{aj} \quad \forall \text{locked group } G \ni a, i;\ \forall j
        && \text{(locked_groups)} \\
    & \textstyle\sum_{i \in A} x_{ij} \le 1 \quad \forall \text{apart group } A;\ \forall j
        && \text{(apart)} \\
    & x_{ij} \le \sum_{k \in N(i) : h_j(k) < h_j(i)} x_{kj} \quad \forall (i, j) \in E,\ i \ne j
        && \text{(contiguity)}

Shortfall :math:`s_j \ge 0` exists only with ``band = "rural_exception"`` or
``"elastic"``, excess :math:`e_j \ge 0` only with ``"elastic"``; otherwise both are 0.
A site-only row :math:`h \in H` is a location, not a practice: its only variable
is :math:`x_{hh}` (it opens a hub, or stays closed like an optional practice), it
joins no other hub, practices may join it under the same rules as any site, and with
no patients it adds nothing to :math:`W_j` or to travel. A hub needs its band all the
same, so a site-only hub without practices is as short as an empty hub.
In the contiguity rule :math:`N(i)` are the practice's neighbours and
:math:`h_j(k)` the number of neighbour steps from site :math:`j` to :math:`k`
through practices eligible for :math:`j`: a practice can join a hub only if one of
its neighbours one step nearer the site joins it too, so every hub is connected
(the compact "shortest-path contiguity" of Validi, Buchanan & Lykhovyd, 2022; it is
slightly stricter than plain connectedness, never looser). Practices that cannot
reach :math:`j` through such neighbours get no variable for :math:`j`.

Objectives, minimised in stages (lexicographically; each stage's optimum is kept
as a constraint for the next) or summed with weights:

* ``band_breach`` (first, when the band is soft): :math:`\sum_j s_j + e_j` patients;
* ``unassigned`` (when practices with patients are optional; closed site-only rows
  never add it): :math:`\sum_{i\ optional} w_i (1 - \sum_j x_{ij})`;
* ``weighted_travel``: :math:`\sum_{(i,j) \in E} w_i t_{ij} x_{ij}` (default, and
  always the last tie-breaker);
* ``worst_travel``: :math:`z` with :math:`z \ge \sum_j t_{ij} x_{ij}\ \forall i`;
* ``balance``: :math:`\sum_{j \notin O} d_j` with :math:`d_j \ge \pm(W_j - B x_{jj})`
  around the target :math:`B`;
* ``fewest_moved``: today's groups :math:`g` are matched one-to-one with hubs
  (:math:`y_{gj}`, :math:`\sum_j y_{gj} \le 1`, :math:`\sum_g y_{gj} \le 1`); a
  practice stays if its hub is its group's match (:math:`u_{ij} \le x_{ij}`,
  :math:`u_{ij} \le y_{g(i)j}`); minimise :math:`\sum_i (1 - \sum_j u_{ij})` over
  practices in a group today.

The disaggregated linking :math:`x_{ij} \le x_{jj}` (rather than one aggregated
constraint per site) gives a much tighter LP relaxation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

import networkx as nx
import numpy as np
import pandas as pd
import pulp

from hubopt.errors import InputError
from hubopt.inputs import site_only_codes
from hubopt.model.exempt import singleton_practices
from hubopt.scenario import Scenario
from hubopt.text import plural

#: Objective stages hubopt adds on its own, before the user's objectives.
BAND_BREACH = "band_breach"
UNASSIGNED = "unassigned"

#: Rule families: each ``add_<rule>`` records its rows under one of these names in
#: :attr:`HubModel.rules`, so solvers read the model's structure from the model.
ASSIGN_ONCE = "assign_once"
JOIN_OPEN_SITE = "join_open_site"
POPULATION_MAX = "population_max"
POPULATION_MIN = "population_min"
SINGLETON_SITE = "singleton_site"
HUB_COUNT = "hub_count"
FIXED_SITE = "fixed_site"
MEAN_TRAVEL_CAP = "mean_travel_cap"
LOCKED_GROUPS = "locked_groups"
APART = "apart"
CONTIGUITY = "contiguity"
WORST_TRAVEL = "worst_travel"
BALANCE = "balance"
FEWEST_MOVED = "fewest_moved"
#: Rows that keep an earlier objective stage's optimum (:mod:`hubopt.solver.stages`).
KEEP_STAGE = "keep_stage"
#: Rows of an alternative plan (:mod:`hubopt.solver.choices`): near the best plan's
#: value, and differing from each earlier plan in enough practices.
NEAR_BEST = "near_best"
DIFFER = "differ"
#: The families of the core capacitated model (assignment, open sites, band, singletons,
#: fixed sites, hub count): what the Lagrangian bound of :mod:`hubopt.solver.bounds`
#: handles.
CORE_FAMILIES = frozenset(
    {
        ASSIGN_ONCE,
        JOIN_OPEN_SITE,
        POPULATION_MAX,
        POPULATION_MIN,
        SINGLETON_SITE,
        FIXED_SITE,
        HUB_COUNT,
    }
)


class Stage(NamedTuple):
    """One objective stage: its name (a key of ``summary.json``'s stages and of
    :func:`hubopt.model.check.recompute`) and the expression minimised."""

    name: str
    expr: pulp.LpAffineExpression


class StageSpec(NamedTuple):
    """What an objective stage counts: ``parts`` are (objective name, weight) pairs,
    one pair for a plain stage, several for a weighted one."""

    name: str
    parts: tuple[tuple[str, float], ...]


@dataclass
class HubModel:
    """A built PuLP problem plus what is needed to read its solution back.

    ``stages`` lists the objectives in the order they are minimised (name,
    expression); :func:`hubopt.solver.stages.solve_model` solves them in turn. The
    problem's objective is the first stage's on return from :func:`build`. Every row
    goes through :meth:`add_rule`, so :attr:`rules` says which rule families the
    model holds (solvers read the structure there, never from constraint names).
    """

    problem: pulp.LpProblem
    x: dict[tuple[str, str], pulp.LpVariable]
    weights: pd.Series
    times: pd.DataFrame
    pop_min: float
    pop_max: float
    cap: float
    singletons: frozenset[str] = field(default_factory=frozenset)
    optional: frozenset[str] = frozenset()
    stages: list[Stage] = field(default_factory=list)
    #: Rows of each rule family added so far (family name -> constraints).
    rules: dict[str, list[pulp.LpConstraint]] = field(default_factory=dict)
    #: Fewest and most hubs allowed (None = open-ended), from :func:`add_hub_count`.
    hub_range: tuple[int | None, int | None] = (None, None)
    #: Sites that must open: singletons with a site and :func:`add_fixed_sites`.
    forced_sites: frozenset[str] = frozenset()
    #: A soft band's shortfall and excess variables by hub site
    #: (:func:`add_population_band`); empty under a strict band.
    short: dict[str, pulp.LpVariable] = field(default_factory=dict)
    excess: dict[str, pulp.LpVariable] = field(default_factory=dict)
    #: Looked up once, on first use: each practice's row in ``times`` and the minutes
    #: as an array; the eligible pairs by practice and by site.
    _row: dict[str, int] = field(default_factory=dict, repr=False)
    _minutes: np.ndarray | None = field(default=None, repr=False)
    _pairs: dict[int, dict[str, list[str]]] = field(default_factory=dict, repr=False)

    def add_rule(self, family: str, row: pulp.LpConstraint, name: str) -> None:
        """Add one row of rule ``family`` to the problem and record it in :attr:`rules`."""
        self.problem += row, name
        self.rules.setdefault(family, []).append(row)

    @property
    def practices(self) -> list[str]:
        return list(self.weights.index)

    def eligible_sites(self, i: str) -> list[str]:
        return [j for (a, j) in self.x if a == i]

    def members(self, j: str) -> list[str]:
        """Practices that could join the hub sited at ``j``."""
        return _by_site(self).get(j, [])

    def load(self, j: str) -> pulp.LpAffineExpression:
        """Patients in the hub sited at ``j`` (:math:`W_j`)."""
        return pulp.lpSum(self.weights[i] * self.x[i, j] for i in self.members(j))

    def minutes(self, i: str, j: str) -> float:
        """Minutes from practice ``i`` to site ``j``."""
        if self._minutes is None:
            self._row = {c: k for k, c in enumerate(self.times.index)}
            self._minutes = self.times.to_numpy()
        return float(self._minutes[self._row[i], self._row[j]])

    def travel(self, cost_weights: pd.Series | None = None) -> pulp.LpAffineExpression:
        """Patient-weighted minutes to the hub site (or weighted by ``cost_weights``)."""
        w = self.weights if cost_weights is None else cost_weights
        return pulp.lpSum(w[i] * self.minutes(i, j) * v for (i, j), v in self.x.items())


def eligible_pairs(
    times: pd.DataFrame,
    cap: float,
    *,
    sites: Iterable[str] | None = None,
    zones: pd.Series | None = None,
    may_cross: Iterable[str] = (),
    singletons: Iterable[str] = (),
) -> list[tuple[str, str]]:
    """Ordered (practice, site) pairs a plan may use (see the module docstring)."""
    codes = list(times.index)
    ok = times.to_numpy() <= cap
    np.fill_diagonal(ok, True)
    if sites is not None:
        ok[:, ~np.isin(codes, list(sites))] = False
    if zones is not None:
        z = zones.reindex(codes).astype(str).to_numpy()
        free = np.isin(codes, list(may_cross))
        ok &= (z[:, None] == z[None, :]) | free[:, None]
    single = np.isin(codes, list(singletons))
    ok[single, :] = False
    ok[:, single] = False
    ok[single, single] = True  # a singleton is its own site
    rows, cols = np.nonzero(ok)
    return [(codes[r], codes[c]) for r, c in zip(rows, cols, strict=True)]


def build_model(
    times: pd.DataFrame,
    weights: pd.Series,
    *,
    pop_min: float,
    pop_max: float,
    cap: float = np.inf,
    singletons: Iterable[str] = (),
    n_hubs: int | None = None,
    cost_weights: pd.Series | None = None,
    name: str = "hubopt",
    pairs: list[tuple[str, str]] | None = None,
    optional: Iterable[str] = (),
    band: str = "strict",
) -> HubModel:
    """Build the core model from plain data (see the module docstring for the maths).

    Parameters
    ----------
    times
        Square matrix of minutes (or any distance), rows = practices, columns = sites.
    weights
        Population of each practice, indexed like ``times``.
    pop_min, pop_max
        Band for each hub's total of ``weights``.
    cap
        Pairs with ``times > cap`` get no variable.
    singletons
        Practices that must form a hub on their own (exempt from the band).
    n_hubs
        If given, exactly this many hubs.
    cost_weights
        Multiplier of ``times`` in the objective per practice; defaults to ``weights``
        (patient-weighted travel). Pass ones for the unweighted p-median.
    pairs
        The eligible (practice, site) pairs; default :func:`eligible_pairs` by the cap.
    optional
        Practices that may stay unassigned.
    band
        ``"strict"``, ``"rural_exception"`` or ``"elastic"`` (see the scenario).
    """
    weights = weights.astype(float)
    times = times.loc[weights.index, weights.index]
    singletons = frozenset(singletons)
    cost_weights = weights if cost_weights is None else cost_weights.astype(float)
    prob = pulp.LpProblem(name, pulp.LpMinimize)
    if pairs is None:
        pairs = eligible_pairs(times, cap, singletons=singletons)
    x = {(i, j): prob.add_variable(f"x_{n}", cat=pulp.LpBinary) for n, (i, j) in enumerate(pairs)}
    m = HubModel(
        problem=prob,
        x=x,
        weights=weights,
        times=times,
        pop_min=pop_min,
        pop_max=pop_max,
        cap=cap,
        singletons=singletons,
        optional=frozenset(optional),
    )
    add_assign_once(m)
    add_join_open_site(m)
    add_population_band(m, band)
    add_singleton_own_hub(m)
    if n_hubs is not None:
        add_hub_count(m, n_hubs, n_hubs)
    if any(weights[i] > 0 for i in m.optional):
        m.stages.append(Stage(UNASSIGNED, unassigned_expr(m)))
    m.stages.append(Stage("weighted_travel", m.travel(cost_weights)))
    prob.setObjective(m.stages[0].expr)
    return m


def build(
    matrix: pd.DataFrame,
    practices: pd.DataFrame,
    scenario: Scenario,
    *,
    current: pd.Series | None = None,
    neighbours: nx.Graph | None = None,
    hops: Hops | None = None,
) -> HubModel:
    """Build the model for a scenario from the travel matrix and the practices table.

    ``current`` (practice code -> today's group) is needed for ``fewest_moved``;
    ``neighbours`` (a practice graph, :func:`hubopt.model.adjacency.practice_neighbours`)
    for ``contiguous = true``.
    """
    s = scenario
    validate_rules(practices, s, current=current, neighbours=neighbours)
    weights = practices["list_size"]
    singletons = singleton_practices(practices, s)
    site_only = frozenset(site_only_codes(practices))
    pairs = scenario_pairs(matrix, practices, s, neighbours=neighbours, hops=hops)
    lo, hi = s.hub_range
    m = build_model(
        matrix,
        weights,
        pop_min=s.population_min,
        pop_max=s.population_max,
        cap=s.travel_cap_minutes,
        singletons=singletons,
        name=s.name,
        pairs=pairs,
        optional=set(s.optional) | site_only,
        band=s.band,
    )
    if lo is not None or hi is not None:
        add_hub_count(m, lo, hi)
    if s.fixed_sites:
        add_fixed_sites(m, s.fixed_sites)
    if s.mean_travel_cap_minutes is not None:
        add_mean_travel_cap(m, s.mean_travel_cap_minutes)
    if s.locked_groups:
        add_locked_groups(m, s.locked_groups)
    if s.apart:
        add_apart(m, s.apart)
    if s.contiguous:
        add_contiguity(m, neighbours, hops)
    set_objectives(m, s, current=current)
    return m


def scenario_pairs(
    matrix: pd.DataFrame,
    practices: pd.DataFrame,
    scenario: Scenario,
    *,
    neighbours: nx.Graph | None = None,
    hops: Hops | None = None,
) -> list[tuple[str, str]]:
    """The (practice, site) pairs the scenario's model has a variable for: within the
    cap, candidate sites, zones, singletons alone, site-only rows only as sites and,
    with ``contiguous``, reachable through practices eligible for the site (``hops``:
    the neighbour steps of a larger area this is a part of, see :func:`add_contiguity`)."""
    s = scenario
    singletons = singleton_practices(practices, s)
    site_only = frozenset(site_only_codes(practices))
    codes = practices.index
    pairs = eligible_pairs(
        matrix.loc[codes, codes],
        s.travel_cap_minutes,
        sites=(set(s.candidate_sites) | singletons | site_only) if s.candidate_sites else None,
        zones=practices[s.within] if s.within else None,
        may_cross=s.cross_allowed,
        singletons=singletons,
    )
    pairs = [(i, j) for i, j in pairs if i == j or i not in site_only]
    if s.contiguous:
        pairs = contiguous_pairs(pairs, neighbours, hops)
    return pairs


def validate_rules(
    practices: pd.DataFrame,
    scenario: Scenario,
    *,
    current: pd.Series | None = None,
    neighbours: nx.Graph | None = None,
) -> None:
    """Every practice a rule names exists, and each rule has the data it needs."""
    s = scenario
    problems = []
    for key, codes in s.practice_rules.items():
        unknown = sorted(set(codes) - set(practices.index))
        if unknown:
            problems.append(
                f"[rules] {key} names {', '.join(unknown)}, not among the area's "
                f"{plural(len(practices), 'practice')}; check the codes (or the area selection)"
            )
    if s.within and s.within not in practices.columns:
        problems.append(
            f"[rules] within = {s.within!r} is not a column of the practices table "
            f"(columns: {', '.join(map(str, practices.columns))})"
        )
    elif s.within:
        # an empty zone would be a zone of its own: that row could join no hub
        sites = site_only_codes(practices)
        blank = practices[s.within].isna() | practices[s.within].astype(str).str.strip().eq("")
        problems += [
            f"[rules] within = {s.within!r}: {'candidate site' if c in sites else 'practice'} "
            f"{c} ({practices.at[c, 'name']}) has no {s.within}; give it the area it belongs "
            f"to{' in the sites file' if c in sites else ''}"
            for c in practices.index[blank.to_numpy()]
        ]
    if "fewest_moved" in s.objectives and current is None:
        problems.append(
            '[objective] "fewest_moved" needs today\'s grouping: give [inputs] current '
            '(a CSV of practice_code, group_id) or current = "pcn"'
        )
    if s.contiguous and neighbours is None:
        problems.append("[rules] contiguous = true needs practice locations (neighbours)")
    exempt_sites = set(s.exempt) - set(s.candidate_sites)
    if s.candidate_sites and exempt_sites:
        problems.append(
            f"[rules] exempt practices {', '.join(sorted(exempt_sites))} are hubs on their "
            "own, so they must be in candidate_sites too"
        )
    if problems:
        raise InputError(f"The rules of scenario {s.name} have problems:", problems)


def _by_site(m: HubModel) -> dict[str, list[str]]:
    """Site -> practices that could join it."""
    return _pairs_by(m, 1)


def _by_practice(m: HubModel) -> dict[str, list[str]]:
    """Practice -> sites it could join."""
    return _pairs_by(m, 0)


def _pairs_by(m: HubModel, key: int) -> dict[str, list[str]]:
    if key not in m._pairs:
        out: dict[str, list[str]] = {}
        for pair in m.x:
            out.setdefault(pair[key], []).append(pair[1 - key])
        m._pairs[key] = out
    return m._pairs[key]


def sites(m: HubModel) -> list[str]:
    """Practices that can be hub sites in this model."""
    return [j for j in m.practices if (j, j) in m.x]


def add_assign_once(m: HubModel) -> None:
    """Every practice belongs to exactly one hub (optional ones to at most one)."""
    for i in m.practices:
        vs = [m.x[i, j] for j in _by_practice(m).get(i, [])]
        if i in m.optional:
            if vs:
                m.add_rule(ASSIGN_ONCE, pulp.lpSum(vs) <= 1, f"assign_once_{i}")
        else:
            m.add_rule(ASSIGN_ONCE, pulp.lpSum(vs) == 1, f"assign_once_{i}")


def add_join_open_site(m: HubModel) -> None:
    """A practice can only join a hub whose site is open (x_ij <= x_jj)."""
    for (i, j), v in m.x.items():
        if i != j:
            m.add_rule(JOIN_OPEN_SITE, v <= m.x[j, j], f"join_open_site_{i}_{j}")


def add_population_band(m: HubModel, band: str = "strict") -> None:
    """Each open hub's total list size lies within [pop_min, pop_max].

    ``rural_exception`` adds a shortfall variable per hub, ``elastic`` an excess too;
    their total becomes the first objective stage (``band_breach``).
    """
    short, excess = {}, {}
    for j in sites(m):
        if j in m.singletons:
            continue
        total = m.load(j)
        upper = m.pop_max * m.x[j, j]
        if band == "elastic":
            excess[j] = m.problem.add_variable(f"excess_{j}", lowBound=0)
            upper = upper + excess[j]
        m.add_rule(POPULATION_MAX, total <= upper, f"population_max_{j}")
        if m.pop_min > 0:
            lower = m.pop_min * m.x[j, j]
            if band in ("rural_exception", "elastic"):
                short[j] = m.problem.add_variable(f"short_{j}", lowBound=0)
                lower = lower - short[j]
            m.add_rule(POPULATION_MIN, total >= lower, f"population_min_{j}")
    m.short, m.excess = short, excess
    if band != "strict":
        m.stages.insert(0, Stage(BAND_BREACH, pulp.lpSum([*short.values(), *excess.values()])))


def add_singleton_own_hub(m: HubModel) -> None:
    """Singletons (oversize or exempt practices) are hubs on their own.

    Nobody else has a variable for their site (see :func:`eligible_pairs`); this
    opens the site.
    """
    for j in sorted(m.singletons):
        if (j, j) in m.x:
            m.add_rule(SINGLETON_SITE, m.x[j, j] == 1, f"singleton_site_{j}")
            m.forced_sites |= {j}


def add_hub_count(m: HubModel, lo: int | None, hi: int | None) -> None:
    """Between ``lo`` and ``hi`` hubs are opened (None = open-ended)."""
    los = [v for v in (lo, m.hub_range[0]) if v is not None]
    his = [v for v in (hi, m.hub_range[1]) if v is not None]
    m.hub_range = (max(los, default=None), min(his, default=None))
    n = pulp.lpSum(m.x[j, j] for j in sites(m))
    if lo is not None and lo == hi:
        m.add_rule(HUB_COUNT, n == lo, "hub_count")
        return
    if lo is not None:
        m.add_rule(HUB_COUNT, n >= lo, "hub_count_min")
    if hi is not None:
        m.add_rule(HUB_COUNT, n <= hi, "hub_count_max")


def add_fixed_sites(m: HubModel, fixed: Iterable[str]) -> None:
    """The named practices are hub sites."""
    for j in fixed:
        if (j, j) not in m.x:
            raise InputError(
                f"fixed site {j} cannot be a hub site under the other rules",
                ["check candidate_sites, within and the exemptions"],
            )
        m.add_rule(FIXED_SITE, m.x[j, j] == 1, f"fixed_site_{j}")
        m.forced_sites |= {j}


def add_mean_travel_cap(m: HubModel, limit: float) -> None:
    """Each hub's patient-weighted mean minutes to its site is at most ``limit``."""
    for j in sites(m):
        members = m.members(j)
        minutes = pulp.lpSum(m.weights[i] * m.minutes(i, j) * m.x[i, j] for i in members if i != j)
        m.add_rule(MEAN_TRAVEL_CAP, minutes <= limit * m.load(j), f"mean_travel_cap_{j}")


def add_locked_groups(m: HubModel, groups: Iterable[Iterable[str]]) -> None:
    """Each locked group's practices share one hub (x_ij = x_aj for every site j)."""
    for g, group in enumerate(groups):
        anchor, *rest = list(group)
        for i in rest:
            for j in set(_by_practice(m).get(anchor, [])) | set(_by_practice(m).get(i, [])):
                a, b = m.x.get((anchor, j), 0), m.x.get((i, j), 0)
                m.add_rule(LOCKED_GROUPS, a == b, f"locked_{g}_{i}_{j}")


def add_apart(m: HubModel, groups: Iterable[Iterable[str]]) -> None:
    """The practices of each apart group are in different hubs."""
    for g, group in enumerate(groups):
        group = list(group)
        for j in sites(m):
            vs = [m.x[i, j] for i in group if (i, j) in m.x]
            if len(vs) > 1:
                m.add_rule(APART, pulp.lpSum(vs) <= 1, f"apart_{g}_{j}")


#: Neighbour steps from each site to the practices eligible for it (site -> practice ->
#: steps), as :func:`hop_distances` gives them.
Hops = dict[str, dict[str, int]]


def hop_distances(pairs: list[tuple[str, str]], neighbours: nx.Graph) -> Hops:
    """For each site j: neighbour steps from j to each practice eligible for j,
    moving only through practices eligible for j (one breadth-first search from every
    site at once, a step being a product with the neighbour graph's sparse matrix)."""
    members: dict[str, list[str]] = {}
    for i, j in pairs:
        members.setdefault(j, []).append(i)
    nodes = list(neighbours.nodes)
    pos = {c: k for k, c in enumerate(nodes)}
    adj = nx.to_scipy_sparse_array(neighbours, nodelist=nodes, weight=None, format="csr")
    sites = [j for j, group in members.items() if j in pos and j in group]
    eligible = np.zeros((len(sites), len(nodes)), dtype=bool)
    for r, j in enumerate(sites):
        eligible[r, [pos[c] for c in members[j] if c in pos]] = True
    steps = np.full(eligible.shape, -1)
    frontier = np.zeros(eligible.shape, dtype=bool)
    frontier[np.arange(len(sites)), [pos[j] for j in sites]] = True
    steps[frontier] = 0
    step = 0
    while frontier.any():
        step += 1
        frontier = (np.asarray(frontier.astype(np.float32) @ adj) > 0) & eligible & (steps < 0)
        steps[frontier] = step
    out: dict[str, dict] = {j: {j: 0} for j in members}
    for r, j in enumerate(sites):
        reached = np.flatnonzero(steps[r] >= 0)
        out[j] = {nodes[k]: int(steps[r, k]) for k in reached}
    return out


def contiguous_pairs(
    pairs: list[tuple[str, str]], neighbours: nx.Graph | None, hops: Hops | None = None
) -> list[tuple[str, str]]:
    """Drop pairs (i, j) where i cannot reach site j through practices eligible for j."""
    hops = hop_distances(pairs, neighbours) if hops is None else hops
    return [(i, j) for i, j in pairs if i in hops.get(j, {})]


def add_contiguity(m: HubModel, neighbours: nx.Graph, hops: Hops | None = None) -> None:
    """Each hub's practices are connected through neighbours (shortest-path contiguity).

    A practice joins site j only if a neighbour one step nearer j (in neighbour
    hops through practices eligible for j) joins j too. ``hops`` are the steps of the
    whole area when the model is of a part of it (the neighbourhood search's parts):
    the rule is then the whole area's, so a part's plan is one the whole model allows
    (with the part's own steps, measured on its practices alone, a hub could be
    connected without keeping the whole area's rule: seen in South West London, a
    search plan 0.03% below the proven optimum of the whole model).
    """
    hops = hop_distances(list(m.x), neighbours) if hops is None else hops
    for (i, j), v in m.x.items():
        if i == j:
            continue
        h = hops[j]
        closer = [m.x[k, j] for k in neighbours.neighbors(i)
                  if k in h and h[k] < h[i] and (k, j) in m.x]  # fmt: skip
        m.add_rule(CONTIGUITY, v <= pulp.lpSum(closer), f"contiguity_{i}_{j}")


def unassigned_expr(m: HubModel) -> pulp.LpAffineExpression:
    """Patients of optional practices left out of every hub."""
    return pulp.lpSum(
        m.weights[i] * (1 - pulp.lpSum(m.x[i, j] for j in _by_practice(m).get(i, [])))
        for i in sorted(m.optional)
    )


def worst_travel_expr(m: HubModel) -> pulp.LpAffineExpression:
    """The longest minutes from a practice to its hub site (variable z)."""
    z = m.problem.add_variable("worst_minutes", lowBound=0)
    for i in m.practices:
        trip = pulp.lpSum(m.minutes(i, j) * m.x[i, j] for j in _by_practice(m).get(i, []))
        m.add_rule(WORST_TRAVEL, z >= trip, f"worst_{i}")
    return pulp.lpSum([z])


def balance_expr(m: HubModel, target: float) -> pulp.LpAffineExpression:
    """Total distance of hub populations from ``target`` (singleton hubs left out)."""
    devs = []
    for j in sites(m):
        if j in m.singletons:
            continue
        d = m.problem.add_variable(f"dev_{j}", lowBound=0)
        m.add_rule(BALANCE, d >= m.load(j) - target * m.x[j, j], f"dev_up_{j}")
        m.add_rule(BALANCE, d >= target * m.x[j, j] - m.load(j), f"dev_down_{j}")
        devs.append(d)
    return pulp.lpSum(devs)


def moved_expr(m: HubModel, current: pd.Series) -> pulp.LpAffineExpression:
    """Practices not in the hub matched one-to-one with their group today."""
    group = current.reindex(m.practices).dropna().astype(str)
    group = group[group != ""]
    y: dict[tuple[str, str], pulp.LpVariable] = {}
    stay: list[pulp.LpVariable] = []
    for n, (i, g) in enumerate(group.items()):
        for j in _by_practice(m).get(i, []):
            if (g, j) not in y:
                y[g, j] = m.problem.add_variable(f"match_{len(y)}", cat=pulp.LpBinary)
            u = m.problem.add_variable(f"stay_{n}_{len(stay)}", lowBound=0, upBound=1)
            m.add_rule(FEWEST_MOVED, u <= m.x[i, j], f"stay_x_{i}_{j}")
            m.add_rule(FEWEST_MOVED, u <= y[g, j], f"stay_y_{i}_{j}")
            stay.append(u)
    for key, pos in ((0, "group"), (1, "site")):
        by: dict[str, list] = {}
        for k, v in y.items():
            by.setdefault(k[key], []).append(v)
        for name, vs in by.items():
            m.add_rule(FEWEST_MOVED, pulp.lpSum(vs) <= 1, f"match_one_{pos}_{name}")
    return len(group) - pulp.lpSum(stay)


def objective_terms(
    m: HubModel, scenario: Scenario, *, current: pd.Series | None = None
) -> list[tuple[str, pulp.LpAffineExpression]]:
    """The scenario's objectives as (name, expression), in the scenario's order."""
    s = scenario
    terms = []
    for name in s.objectives:
        if name == "weighted_travel":
            terms.append((name, m.travel()))
        elif name == "worst_travel":
            terms.append((name, worst_travel_expr(m)))
        elif name == "balance":
            target = s.balance_target or (s.population_min + s.population_max) / 2
            terms.append((name, balance_expr(m, target)))
        elif name == "fewest_moved":
            terms.append((name, moved_expr(m, current)))
    return terms


def stage_specs(practices: pd.DataFrame, scenario: Scenario) -> list[StageSpec]:
    """The objective stages :func:`build` gives a scenario, in the order they are
    minimised (see :func:`set_objectives`), with what each counts: what a plan's value
    is a vector of."""
    s = scenario
    out = [StageSpec(BAND_BREACH, ((BAND_BREACH, 1.0),))] if s.band != "strict" else []
    sizes = practices["list_size"]
    if any(sizes.get(c, 0) > 0 for c in s.optional):
        out.append(StageSpec(UNASSIGNED, ((UNASSIGNED, 1.0),)))
    if s.objective_mode == "weighted" and len(s.objectives) > 1:
        parts = tuple(zip(s.objectives, map(float, s.objective_weights), strict=True))
        out.append(StageSpec(weighted_name(s.objectives), parts))
    else:
        out += [StageSpec(name, ((name, 1.0),)) for name in s.objectives]
    if "weighted_travel" not in s.objectives:
        out.append(StageSpec("weighted_travel", (("weighted_travel", 1.0),)))
    return out


def stage_names(practices: pd.DataFrame, scenario: Scenario) -> list[str]:
    """The names of :func:`stage_specs`, in order."""
    return [st.name for st in stage_specs(practices, scenario)]


def weighted_name(objectives: Iterable[str]) -> str:
    """The name of the one stage that minimises a weighted sum of ``objectives``."""
    return "weighted:" + "+".join(objectives)


def set_objectives(m: HubModel, scenario: Scenario, *, current: pd.Series | None = None) -> None:
    """Replace the default travel stage with the scenario's objectives.

    Stages: band breach (soft band), unassigned patients (optional practices), then the
    user's objectives (one stage each, or one weighted sum), then weighted travel as
    the tie-breaker unless already listed.
    """
    fixed = [st for st in m.stages if st.name in (BAND_BREACH, UNASSIGNED)]
    terms = objective_terms(m, scenario, current=current)
    if scenario.objective_mode == "weighted" and len(terms) > 1:
        pairs = zip(scenario.objective_weights, terms, strict=True)
        expr = pulp.lpSum(w * e for w, (_, e) in pairs)
        terms = [(weighted_name(n for n, _ in terms), expr)]
    if "weighted_travel" not in scenario.objectives:
        terms.append(("weighted_travel", m.travel()))
    m.stages = fixed + [Stage(n, e) for n, e in terms]
    names = stage_names(pd.DataFrame({"list_size": m.weights}), scenario)
    assert [n for n, _ in m.stages] == names, "stage_names is out of step with the stages"
    m.problem.setObjective(m.stages[0].expr)


def read_assignment(m: HubModel) -> pd.Series:
    """The solved assignment: practice code -> hub site code (NaN: unassigned)."""
    out = {}
    for (i, j), v in m.x.items():
        if v.value() is not None and v.value() > 0.5:
            out[i] = j
    return pd.Series(out, name="hub_site", dtype=object).reindex(m.practices)
