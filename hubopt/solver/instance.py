"""An area to solve, its parts, and how two plans of it compare.

:class:`Instance` holds what :func:`hubopt.model.build` needs; :meth:`Instance.part`
restricts it to some practices (rules that name practices keep the ones inside, the
hub count becomes what is left for the part) so that a part is solved with the same
model code as the whole (:func:`solve_part`). :meth:`Instance.values` is a plan's
value, a vector compared lexicographically (:func:`better`). Used by the
construction heuristics (:mod:`hubopt.solver.greedy`, :mod:`hubopt.solver.lns`) and
the neighbourhood search (:mod:`hubopt.solver.lns`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pandas as pd

from hubopt import model
from hubopt.errors import HuboptError
from hubopt.model import HubModel, check
from hubopt.scenario import Scenario
from hubopt.solver import stages

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

    def build(self) -> HubModel:
        """The whole model of this instance."""
        return model.build(
            self.minutes,
            self.practices,
            self.scenario,
            current=self.current,
            neighbours=self.neighbours,
        )

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
        out = {}
        for name in model.stage_names(self.practices, s):
            if name.startswith("weighted:"):
                pairs = zip(s.objective_weights, s.objectives, strict=True)
                out[name] = sum(w * check.recompute(n, d) for w, n in pairs)
            else:
                out[name] = check.recompute(name, d)
        return out

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


#: A repeatable run's work limits. Work is counted in LP iterations (simplex pivots,
#: :attr:`hubopt.solver.mip.SolveResult.work`), the same on any machine: one part
#: solve may take :data:`PART_NODES` branch-and-bound nodes per stage, and counts as
#: its iterations plus :data:`SOLVE_ITERATIONS` (building and reading the model); the
#: neighbourhood search may spend :data:`ITERATIONS_PER_SECOND` per second of its
#: share of the time limit; the whole model may take :data:`NODES_PER_SECOND` nodes
#: per stage per second of its share. Sized on this project's 2-core machine so that
#: the work, not the clock, ends a step with room to spare under a second worker: all
#: of England at 15 s per area with two workers, 1,000 iterations per second left 22
#: of 135 searches ended by the clock; 500 left 1 of those 22, with plans as good
#: (median travel ratio 1.000).
PART_NODES = 20
SOLVE_ITERATIONS = 500
ITERATIONS_PER_SECOND = 500
NODES_PER_SECOND = 40
#: Seconds a part solve may take at most in a repeatable run (its nodes end it first).
PART_SECONDS_REPEATABLE = 10.0


@dataclass
class Budget:
    """What the steps of one solve may spend, and what they spent.

    Every step keeps to the wall clock (the time limit is kept). A repeatable run
    (``[solver] repeatable``) also gives each step a fixed amount of work sized from
    the time limit (see :data:`PART_NODES`): where the work limit or a proof, not the
    clock, ends every step, the same inputs give the same plan on any machine under
    any load (one worker or many). A step the clock ends anyway is counted in
    ``clock_stops``; after the first plan its plan is not used (only its bound), so
    that a plan found only on a quick machine never decides the answer.

    It also times model builds, per variable: whether the whole model can still be
    built (and relaxed) in the time left, on this machine, under its load.
    """

    repeatable: bool = False
    seconds: float = 0.0
    variables: int = 0
    #: work done by part solves so far (LP iterations and :data:`SOLVE_ITERATIONS` each)
    work: int = 0
    clock_stops: dict[str, int] = field(default_factory=dict)

    def record(self, seconds: float, variables: int) -> None:
        self.seconds += seconds
        self.variables += variables

    def estimate(self, variables: int) -> float | None:
        """Seconds to build a model of ``variables`` (None before any was timed)."""
        return None if self.variables == 0 else variables * self.seconds / self.variables

    def nodes(self, amount: int) -> int | None:
        """The node limit for a solve: ``amount`` in a repeatable run, else None."""
        return max(1, int(amount)) if self.repeatable else None

    def stopped(self, step: str) -> None:
        """The clock, not the work limit, ended ``step``."""
        self.clock_stops[step] = self.clock_stops.get(step, 0) + 1

    def stops(self) -> tuple[str, ...] | None:
        """The clock stops as "step (xN)" texts; None for a run that is not repeatable."""
        if not self.repeatable:
            return None
        return tuple(s if n == 1 else f"{s} (x{n})" for s, n in self.clock_stops.items())


def solve_part(
    part: Instance,
    *,
    seconds: float,
    warm: pd.Series | None = None,
    threads: int = 1,
    solver: str = "cbc",
    budget: Budget | None = None,
) -> pd.Series | None:
    """The part's best plan found within ``seconds`` (None: none found; in a repeatable
    run also when the clock, not :data:`PART_NODES`, ended the solve)."""
    t0 = time.perf_counter()
    try:
        m = part.build()
    except HuboptError:  # e.g. a fixed site that cannot be a site in this part
        return None
    budget = budget if budget is not None else Budget()
    budget.record(time.perf_counter() - t0, len(m.x))
    r = stages.solve_stages(
        m, time_limit=seconds, threads=threads, solver=solver, warm_start=warm,
        max_nodes=budget.nodes(PART_NODES),
    )  # fmt: skip
    budget.work += r.work + SOLVE_ITERATIONS
    if budget.repeatable and r.clock_stopped:
        budget.stopped("part solve")
        return None
    return r.assignment if r.has_solution else None


def positions(practices: pd.DataFrame) -> np.ndarray:
    """Rough planar positions (km east, km north) good enough for cutting an area."""
    lat = practices["lat"].to_numpy(dtype=float)
    lon = practices["lon"].to_numpy(dtype=float)
    k = math.cos(math.radians(float(np.nanmean(lat)))) if len(lat) else 1.0
    return np.c_[lon * 111.32 * k, lat * 110.57]
