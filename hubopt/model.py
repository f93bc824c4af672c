r"""The hub-grouping integer program, built with PuLP from a travel-time matrix.

The model never sees a road network: only a practice x practice matrix of minutes
(rows = practice, columns = candidate hub site) and the list sizes.

Formulation
-----------
Sets and data:

* :math:`P` practices; :math:`w_i` registered patients of practice :math:`i`.
* :math:`t_{ij}` road minutes from practice :math:`i` to practice :math:`j`
  (every practice is a candidate hub site).
* :math:`T` travel cap; :math:`L, U` the population band.
* :math:`E = \{(i, j) : t_{ij} \le T\}` eligible pairs (always including
  :math:`(j, j)`): variables exist **only** for these, which is what keeps large
  areas tractable and enforces the travel cap by construction.
* :math:`O \subseteq P` oversize practices (:math:`w_j > U`) that form a hub on
  their own under ``oversize = "own_hub"``.

Variables: :math:`x_{ij} \in \{0, 1\}` for :math:`(i, j) \in E`, 1 when practice
:math:`i` belongs to the hub sited at :math:`j`; :math:`x_{jj} = 1` means
:math:`j` is a hub site.

.. math::

    \min \; & \sum_{(i,j) \in E} w_i \, t_{ij} \, x_{ij}
        && \text{patient-weighted minutes to the hub site} \\
    \text{s.t.} \; & \sum_{j : (i,j) \in E} x_{ij} = 1 \quad \forall i \in P
        && \text{(assign\_once)} \\
    & x_{ij} \le x_{jj} \quad \forall (i, j) \in E,\ i \ne j
        && \text{(join\_open\_site)} \\
    & L\,x_{jj} \le \sum_{i : (i,j) \in E} w_i x_{ij} \le U\,x_{jj}
        \quad \forall j \in P \setminus O && \text{(population\_band)} \\
    & x_{jj} = 1,\ x_{ij} = 0 \quad \forall j \in O,\ i \ne j
        && \text{(oversize\_own\_hub)} \\
    & \sum_j x_{jj} = p \quad \text{(optional)} && \text{(hub\_count)}

The disaggregated linking :math:`x_{ij} \le x_{jj}` (rather than one aggregated
constraint per site) gives a much tighter LP relaxation. Each family is added by
its own ``add_<rule>`` function; :mod:`hubopt.check` re-verifies every rule
independently after solving.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pulp

from hubopt.scenario import Scenario


@dataclass
class HubModel:
    """A built PuLP problem plus what is needed to read its solution back."""

    problem: pulp.LpProblem
    x: dict[tuple[str, str], pulp.LpVariable]
    weights: pd.Series
    times: pd.DataFrame
    pop_min: float
    pop_max: float
    cap: float
    singletons: frozenset[str] = field(default_factory=frozenset)

    @property
    def practices(self) -> list[str]:
        return list(self.weights.index)

    def eligible_sites(self, i: str) -> list[str]:
        return [j for (a, j) in self.x if a == i]


def eligible_pairs(times: pd.DataFrame, cap: float) -> list[tuple[str, str]]:
    """Ordered (practice, site) pairs within the cap, plus every (j, j)."""
    t = times.to_numpy()
    ok = t <= cap
    np.fill_diagonal(ok, True)
    rows, cols = np.nonzero(ok)
    codes = list(times.index)
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
) -> HubModel:
    """Build the model from plain data (see the module docstring for the maths).

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
    """
    weights = weights.astype(float)
    times = times.loc[weights.index, weights.index]
    cost_weights = weights if cost_weights is None else cost_weights.astype(float)
    prob = pulp.LpProblem(name, pulp.LpMinimize)
    pairs = eligible_pairs(times, cap)
    x = {(i, j): prob.add_variable(f"x_{n}", cat=pulp.LpBinary) for n, (i, j) in enumerate(pairs)}
    m = HubModel(
        problem=prob,
        x=x,
        weights=weights,
        times=times,
        pop_min=pop_min,
        pop_max=pop_max,
        cap=cap,
        singletons=frozenset(singletons),
    )
    t = times.to_numpy()
    pos = {c: k for k, c in enumerate(times.index)}
    prob += (
        pulp.lpSum(cost_weights[i] * float(t[pos[i], pos[j]]) * v for (i, j), v in x.items()),
        "weighted_travel",
    )
    add_assign_once(m)
    add_join_open_site(m)
    add_population_band(m)
    add_oversize_own_hub(m)
    if n_hubs is not None:
        add_hub_count(m, n_hubs)
    return m


def build(matrix: pd.DataFrame, practices: pd.DataFrame, scenario: Scenario) -> HubModel:
    """Build the model for a scenario from the travel matrix and the practices table."""
    weights = practices["list_size"]
    singletons = oversize_practices(practices, scenario) if scenario.oversize == "own_hub" else []
    return build_model(
        matrix,
        weights,
        pop_min=scenario.population_min,
        pop_max=scenario.population_max,
        cap=scenario.travel_cap_minutes,
        singletons=singletons,
        name=scenario.name,
    )


def oversize_practices(practices: pd.DataFrame, scenario: Scenario) -> list[str]:
    """Codes of practices whose own list is above the band's upper limit."""
    return list(practices.index[practices["list_size"] > scenario.population_max])


def _by_site(m: HubModel) -> dict[str, list[str]]:
    members: dict[str, list[str]] = {}
    for i, j in m.x:
        members.setdefault(j, []).append(i)
    return members


def add_assign_once(m: HubModel) -> None:
    """Every practice belongs to exactly one hub."""
    sites: dict[str, list[pulp.LpVariable]] = {}
    for (i, _j), v in m.x.items():
        sites.setdefault(i, []).append(v)
    for i, vs in sites.items():
        m.problem += pulp.lpSum(vs) == 1, f"assign_once_{i}"


def add_join_open_site(m: HubModel) -> None:
    """A practice can only join a hub whose site is open (x_ij <= x_jj)."""
    for (i, j), v in m.x.items():
        if i != j:
            m.problem += v <= m.x[j, j], f"join_open_site_{i}_{j}"


def add_population_band(m: HubModel) -> None:
    """Each open hub's total list size lies within [pop_min, pop_max]."""
    for j, members in _by_site(m).items():
        if j in m.singletons:
            continue
        total = pulp.lpSum(m.weights[i] * m.x[i, j] for i in members)
        m.problem += total <= m.pop_max * m.x[j, j], f"population_max_{j}"
        if m.pop_min > 0:
            m.problem += total >= m.pop_min * m.x[j, j], f"population_min_{j}"


def add_oversize_own_hub(m: HubModel) -> None:
    """Oversize practices are hubs on their own: open, and nobody else joins."""
    for j in m.singletons:
        m.problem += m.x[j, j] == 1, f"oversize_site_{j}"
        for i in _by_site(m)[j]:
            if i != j:
                m.problem += m.x[i, j] == 0, f"oversize_alone_{i}_{j}"


def add_hub_count(m: HubModel, n_hubs: int) -> None:
    """Exactly ``n_hubs`` hubs are opened."""
    m.problem += pulp.lpSum(m.x[j, j] for j in m.practices) == n_hubs, "hub_count"


def read_assignment(m: HubModel) -> pd.Series:
    """The solved assignment: practice code -> hub site practice code."""
    out = {}
    for (i, j), v in m.x.items():
        if v.value() is not None and v.value() > 0.5:
            out[i] = j
    return pd.Series(out, name="hub_site", dtype=object).reindex(m.practices)
