"""An area to solve, its parts, and how two plans of it compare.

:class:`Instance` holds what :func:`hubopt.model.build` needs; :meth:`Instance.part`
restricts it to some practices (rules that name practices keep the ones inside, the
hub count becomes what is left for the part) so that a part is solved with the same
model code, through the same door, as the whole (:func:`solve_part`).
:meth:`Instance.values` is a plan's value, a vector compared lexicographically
(:func:`better`). Used by the first plans (:mod:`hubopt.solver.first`) and the
neighbourhood search (:mod:`hubopt.solver.search`).
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd

from hubopt import model
from hubopt.errors import HuboptError
from hubopt.model import HubModel, check
from hubopt.scenario import Scenario
from hubopt.solver.backends import Options
from hubopt.solver.clock import PART_NODES, SOLVE_ITERATIONS, Clock
from hubopt.solver.stages import solve_model

#: Relative tolerance when comparing plan values.
TOL = 1e-9

Values = tuple[float, ...]


@dataclass(frozen=True)
class Instance:
    """One area to solve: the inputs of :func:`hubopt.model.build`, and its parts."""

    practices: pd.DataFrame
    minutes: pd.DataFrame
    scenario: Scenario
    current: pd.Series | None = None
    neighbours: nx.Graph | None = None
    #: the neighbour steps of the whole area, for a part of it (None: its own)
    hops: model.Hops | None = None

    def build(self) -> HubModel:
        """The whole model of this instance."""
        return model.build(
            self.minutes,
            self.practices,
            self.scenario,
            current=self.current,
            neighbours=self.neighbours,
            hops=self.hops,
        )

    @functools.cached_property
    def area_hops(self) -> model.Hops | None:
        """The neighbour steps its parts keep (:func:`hubopt.model.add_contiguity`):
        the whole area's, computed once; None without contiguity."""
        if self.hops is not None or not self.scenario.contiguous or self.neighbours is None:
            return self.hops
        pairs = model.scenario_pairs(
            self.minutes, self.practices, self.scenario, neighbours=self.neighbours
        )
        return model.hop_distances(pairs, self.neighbours)

    def part(
        self,
        codes: Iterable[str],
        *,
        hub_range: tuple[int | None, int | None] = (None, None),
        band: str | None = None,
    ) -> Instance | None:
        """The same problem on ``codes`` only, with ``hub_range`` hubs among them.

        Rules naming practices keep the ones inside; None when the part cannot hold a
        hub under the scenario (candidate sites given, none inside; no hub allowed).
        """
        keep = set(codes)
        rows = [c for c in self.practices.index if c in keep]
        s = self.scenario
        inside = lambda t: tuple(c for c in t if c in keep)  # noqa: E731
        groups = lambda gs: tuple(g for g in map(inside, gs) if len(g) > 1)  # noqa: E731
        lo, hi = hub_range
        if hi is not None and hi < 1:
            return None
        candidates = inside(s.candidate_sites)
        if s.candidate_sites and not candidates:
            return None
        sub = s.replace(
            exempt=inside(s.exempt),
            locked_groups=groups(s.locked_groups),
            apart=groups(s.apart),
            fixed_sites=inside(s.fixed_sites),
            candidate_sites=candidates,
            cross_allowed=inside(s.cross_allowed),
            optional=inside(s.optional),
            hubs=None,
            hubs_min=None if lo is None else max(lo, 0) or None,
            hubs_max=hi,
            band=band or s.band,
            warm_start="none",
        )
        return Instance(
            self.practices.loc[rows],
            self.minutes.loc[rows, rows],
            sub,
            None if self.current is None else self.current.reindex(rows),
            None if self.neighbours is None else self.neighbours.subgraph(rows).copy(),
            self.area_hops,
        )

    def values(self, plan: pd.Series) -> Values:
        """The plan's value as a vector compared lexicographically: under a strict band
        its band breach first (a plan is valid only at 0), then every objective stage
        of :func:`hubopt.model.stage_names`, recomputed from the raw data by
        :func:`hubopt.model.check.recompute`."""
        d = self._plan_data(plan)
        lead = (
            [check.recompute(model.BAND_BREACH, _elastic(d))]
            if self.scenario.band == "strict"
            else []
        )
        return (*lead, *self.stage_values(plan, d).values())

    def stage_values(self, plan: pd.Series, data: check.PlanData | None = None) -> dict[str, float]:
        """Each objective stage's value for the plan, by name, in stage order."""
        s = self.scenario
        d = data if data is not None else self._plan_data(plan)
        return {
            st.name: sum(w * check.recompute(n, d) for n, w in st.parts)
            for st in model.stage_specs(self.practices, s)
        }

    def _plan_data(self, plan: pd.Series) -> check.PlanData:
        return check.PlanData(
            plan.reindex(self.practices.index), self.practices, self.minutes, self.scenario,
            current=self.current,
        )  # fmt: skip

    def hub_range_left(self, hubs_outside: int) -> tuple[int | None, int | None]:
        """Hubs a part may open when ``hubs_outside`` hubs stay outside it."""
        lo, hi = self.scenario.hub_range
        return (
            None if lo is None else lo - hubs_outside,
            None if hi is None else hi - hubs_outside,
        )


def _elastic(d: check.PlanData) -> check.PlanData:
    return check.PlanData(
        d.assignment, d.practices, d.matrix, d.scenario.replace(band="elastic"),
        current=d.current,
    )  # fmt: skip


def better(a: Values, b: Values) -> bool:
    """``a`` is lexicographically smaller than ``b`` (beyond a relative tolerance)."""
    for x, y in zip(a, b, strict=True):
        tol = TOL * max(1.0, abs(x), abs(y)) + 1e-6
        if x < y - tol:
            return True
        if x > y + tol:
            return False
    return False


def moved_among(plan: pd.Series, reference: pd.Series, counted: set[str]) -> list[str]:
    """Practices (among ``counted``) grouped differently in ``plan`` than in
    ``reference`` (:func:`hubopt.model.check.moved_practices`)."""
    keep = sorted(counted)
    return check.moved_practices(plan.reindex(keep), reference.reindex(keep))


def solve_part(
    part: Instance,
    clock: Clock,
    options: Options,
    *,
    seconds: float,
    warm: pd.Series | None = None,
) -> pd.Series | None:
    """The part's best plan found within ``seconds`` of ``clock`` after its model is
    built, through the same door as a whole area (None: none found; in a repeatable
    run also when the clock, not :data:`~hubopt.solver.clock.PART_NODES`, ended the
    solve)."""
    t0 = time.perf_counter()
    try:
        m = part.build()
    except HuboptError:  # e.g. a fixed site that cannot be a site in this part
        return None
    clock.record_build(time.perf_counter() - t0, len(m.x))
    r = solve_model(
        m, clock.within(seconds), options, warm_start=warm, max_nodes=clock.nodes(PART_NODES)
    )
    clock.add_work(r.work + SOLVE_ITERATIONS)
    if clock.repeatable and r.clock_stopped:
        clock.stopped("part solve")
        return None
    return r.assignment if r.has_solution else None


def positions(practices: pd.DataFrame) -> np.ndarray:
    """Rough planar positions (km east, km north) good enough for cutting an area."""
    lat = practices["lat"].to_numpy(dtype=float)
    lon = practices["lon"].to_numpy(dtype=float)
    k = math.cos(math.radians(float(np.nanmean(lat)))) if len(lat) else 1.0
    return np.c_[lon * 111.32 * k, lat * 110.57]
