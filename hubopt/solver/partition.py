r"""Set partitioning: plans and proofs for large areas from hubs as columns.

The master problem chooses hubs (columns, :mod:`hubopt.solver.columns`) so that

.. math::

    \min \sum_c c^k_c \lambda_c \quad \text{s.t.} \quad
    \sum_{c \ni i} \lambda_c = 1\ (\le 1 \text{ optional}) \ \forall i, \quad
    \sum_{c \text{ at } j} \lambda_c = 1 \ \forall j \text{ fixed or singleton}, \quad
    k_{min} \le \sum_c \lambda_c \le k_{max}, \quad
    \sum_c c^l_c \lambda_c \le z^*_l \ \forall l < k, \quad
    \sum_{c \text{ matched with } g} \lambda_c \le 1 \ \forall g, \quad \lambda \in \{0, 1\}

for objective stage :math:`k` (earlier stages' optima kept as rows, exactly as the
compact model's staged solve does). A site hosts at most one hub without a row of its
own: the site is a member of its hub, and a member is covered once.

Each stage (:func:`solve`):

1. **Column generation** on the LP of the master (HiGHS, in the process): columns from
   every plan given (the construction's, the search's), then priced by
   :func:`hubopt.solver.pricing.greedy` while it finds any, and exactly
   (:class:`hubopt.solver.pricing.ExactPricing`) when it does not. Every exact round
   gives a valid lower bound (the Lagrangian bound: the LP's value plus each site's
   least reduced cost where negative, as a site holds at most one hub), so a run
   stopped early still certifies its gap; at convergence it is the LP's value. Then
   **subset-row cuts** (Jepsen et al. 2008; :meth:`Master.violated_cuts`): of three
   practices, at most one hub holds two or more. The cuts the LP's solution breaks most
   are added and the pricing goes on with their duals (a hub holding two of a cut's
   practices pays minus its dual), a few rounds while they raise the LP.
2. **Price-and-branch**: the master as a MIP over the columns generated, from the best
   plan known: a plan in seconds.
3. **Proof by reduced-cost enumeration**: a hub at site :math:`j` can be in a plan
   better than the best one only if its reduced cost is at most
   :math:`z_{best} - LB + \min(0, \bar c^*_j)`; listing every such hub
   (:func:`hubopt.solver.pricing.enumerate_site`) and solving the master MIP over them
   proves the optimum (or finds it): a quick attempt with a short list first, then,
   after the neighbourhood search, the full one. Where the list would be too long or
   the clock ends first, the gap stays the column generation's, and the result says so.

The result's ``bound_kind``, ``plan_source`` and ``proof`` name what was used.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import highspy
import numpy as np
import pandas as pd

from hubopt.errors import SolverError
from hubopt.solver import inprocess
from hubopt.solver.clock import Clock
from hubopt.solver.columns import Area, Column
from hubopt.solver.instance import Instance, better
from hubopt.solver.pricing import (
    EPS,
    ExactPricing,
    Prices,
    enumerate_site,
    greedy,
    reduced_cost,
)
from hubopt.solver.result import SolveResult, StageRecord, Status, Stop, relative_gap

log = logging.getLogger(__name__)

#: Most columns the reduced-cost enumeration may list before the proof gives up (a
#: master MIP of 28,000 columns took 5 s; of 220,000, over two minutes).
ENUMERATION_LIMIT = 50_000
#: ... or, with more time left, this many columns per second left (the enumeration and
#: the master MIP over them run at about 2,000 columns a second), up to the most below.
ENUMERATION_PER_SECOND = 2_000
ENUMERATION_MOST = 150_000
#: ... a repeatable run's: this share of its time limit at that rate (not the time
#: left, so that the listing ends the same way on any machine).
ENUMERATION_NOMINAL = 0.5
#: A first, quick attempt at the proof lists this many columns at most (before the
#: neighbourhood search: on Leicester the search took 10 s to improve a plan the
#: enumeration of 317 columns then proved optimal).
QUICK_LIMIT = 10_000
QUICK_SHARE = 0.1  # of the time left
#: The enumeration's first threshold, as a share of the bound, or a sixteenth of the
#: gap if more (then doubled each round up to the gap: at most four rounds more; a
#: band-breach stage's bound of a few hundred patients took a dozen rounds).
ENUMERATION_START = 0.002
#: The master MIP over this many columns or more is presolved without probing (HiGHS's
#: ``presolve_rule_off`` bit 15): on the proof's MIPs of 18,000, 50,000 and 66,000
#: columns (Birmingham, Kent and Medway, Wakefield) probing took most of the time, and
#: without it they were proven in 6.3, 14.5 and 23 s against 18.8, 27 and 30 s.
#: (Without any presolve: 25, 7 and 163 s.)
PROBING_MOST = 10_000
PRESOLVE_PROBING = 1 << 15
#: Seconds one site's exact pricing may take at most.
PRICING_SECONDS = 5.0
#: A stage's gap below this is proven optimal.
GAP_TOL = 1e-6
#: Share of the time left for price-and-branch (at least MIP_SECONDS_MIN seconds), and
#: for improving its plan before the proof.
MIP_SHARE = 0.25
MIP_SECONDS_MIN = 2.0
IMPROVE_SHARE = 0.15
#: An objective stage before the last has at most its share of the time left (the
#: time left over the stages left), and its column generation at most this share of
#: that: on Leicester's fewest-moved stage the column generation alone took all but
#: 2 s of 120, leaving price-and-branch no time for a plan and the travel stage none.
CG_SHARE = 0.4
#: Exact pricing rounds per stage at most (a work limit, the same on any machine).
ROUNDS_MAX = 1000
#: An exact pricing round ends once it has found this many columns (the master is
#: solved again with them); only a round over every site gives a bound.
EXACT_BATCH = 10
#: ... except the first exact round and every WHOLE_ROUND_EVERY-th, which price every
#: site, so that a run the clock stops early still has a bound (all of England at 15 s
#: an area left 4 large areas with none).
WHOLE_ROUND_EVERY = 5


#: Subset-row cuts: at most this many rounds a stage, each adding the cuts the LP's
#: solution breaks most (by more than CUT_VIOLATION), at most CUTS_A_ROUND of them ...
CUT_ROUNDS = 10
CUTS_A_ROUND = 100
CUT_VIOLATION = 1e-3
#: ... in areas of more than this many practices (at or below it a round of 100 cuts
#: made each site's pricing MIP slow: Allerdale and Copeland's 29 practices took 10 s
#: to price again after cuts, against 5 s in all to prove its optimum without them) ...
CUT_MIN = 100
#: ... where the best plan known is over this share above the LP (England at 15 s an
#: area, a repeatable run starting from the search's plan: cutting every area proved
#: 96 areas against 112 without cuts, the enumeration alone being quicker where the
#: gap is small) ...
CUT_GAP = 0.02
#: ... while the last round raised the LP by more than this share (on Kent and Medway
#: the first three rounds raised it 2.7%, 0.5% and 0.05%, the next three 0.04% in all,
#: for a third of the time) ...
CUT_RISE = 1e-3
#: ... only in this share of a stage's column generation time (the column generation
#: that follows a round stops there too, its bound the last round's) ...
CUT_SHARE = 0.5
#: ... and when the time left for cuts is over this many times what the last
#: convergence took (the pricing after a round of cuts took 15-30 s on Birmingham).
CUT_REPRICE = 0.5
#: The pricing after cuts may take this many times the exact rounds of the first
#: convergence in all (a work limit; Kent and Medway converged in 27 rounds, then in 20
#: more after three rounds of cuts). Where the clock (CUT_SHARE) ends it first, a
#: repeatable run's plans come from the columns of the last convergence, all made by
#: work (Birmingham at 120 s: the pricing after cuts ran to the end of the stage, and
#: the plan was the search's, 6.6% above the bound).
CUT_ROUNDS_SHARE = 1.0


#: Improves a plan within a clock (the neighbourhood search).
Improve = Callable[[pd.Series, Clock], pd.Series]


@dataclass
class Pool:
    """Every column generated (each once), with its cost in every stage."""

    area: Area
    columns: list[Column] = field(default_factory=list)
    costs: list[np.ndarray] = field(default_factory=list)
    index: dict[Column, int] = field(default_factory=dict)

    def add(self, cols: Sequence[Column]) -> list[int]:
        """Add the new ones among ``cols``; their indices."""
        new = []
        for c in cols:
            if c not in self.index:
                self.index[c] = len(self.columns)
                self.columns.append(c)
                self.costs.append(self.area.costs(c))
                new.append(len(self.columns) - 1)
        return new


@dataclass
class Master:
    """The master LP of one stage (HiGHS), growing as columns are added."""

    area: Area
    stage: int
    keep: list[float]  # earlier stages' values to keep (their sums over hubs)
    h: highspy.Highs = field(init=False)
    in_master: list[int] = field(default_factory=list)  # pool index per master column
    artificial: int = 0
    cuts: list[tuple[int, int, int]] = field(default_factory=list)  # subset-row cuts
    cut_rows: list[int] = field(default_factory=list)  # their rows

    def __post_init__(self) -> None:
        a = self.area
        h = self.h = inprocess.new_model()
        n = len(a.codes)
        inf = highspy.kHighsInf
        none = np.zeros(0, dtype=np.int32)
        for i in range(n):
            h.addRow(0.0 if a.optional[i] else 1.0, 1.0, 0, none, np.zeros(0))
        self.forced = sorted(a.forced)
        for _ in self.forced:
            h.addRow(1.0, 1.0, 0, none, np.zeros(0))
        lo, hi = a.hub_range
        self.count_row = h.getNumRow() if (lo, hi) != (None, None) else None
        if self.count_row is not None:
            h.addRow(float(lo or 0), inf if hi is None else float(hi), 0, none, np.zeros(0))
        self.keep_row = h.getNumRow()
        for v in self.keep:
            h.addRow(-inf, v + 1e-7 * max(1.0, abs(v)), 0, none, np.zeros(0))
        self.group_row = h.getNumRow()  # each group of today matched once at most
        for _ in a.groups:
            h.addRow(-inf, 1.0, 0, none, np.zeros(0))
        # artificial columns (never in a plan): a feasible LP before any plan exists
        # ten times more than any plan is worth in this stage: never in an optimum where
        # the real columns cover the area, and within the LP's tolerances (1e3 times
        # every patient at the farthest minutes, 1e11 on Leicester's band-breach stage,
        # left HiGHS's simplex at "unknown" with a value of -6e12)
        big = 10.0 * (1.0 + a.most(self.stage))
        rows = [i for i in range(n) if not a.optional[i]] + list(range(n, n + len(self.forced)))
        signs = [1.0] * len(rows)
        if self.count_row is not None:
            rows += [self.count_row, self.count_row]
            signs += [1.0, -1.0]
        rows += list(range(self.keep_row, self.keep_row + len(self.keep)))
        signs += [-1.0] * len(self.keep)
        for r, sgn in zip(rows, signs, strict=True):
            h.addCols(1, np.array([big]), np.zeros(1), np.array([inf]), 1,
                      np.array([0], dtype=np.int32), np.array([r], dtype=np.int32),
                      np.array([sgn]))  # fmt: skip
        self.artificial = len(rows)

    def add(self, pool: Pool, idx: Sequence[int]) -> None:
        """Add pool columns ``idx`` to the master (in one call: a column's entries are
        its members' cover rows, its fixed site's row, the hub count's, the kept
        stages' rows and its matched group's; no upper bound, as a bound's dual would
        be missing from the prices: a column is at most 1 through its cover rows)."""
        if not idx:
            return
        a = self.area
        site_row = {j: len(a.codes) + k for k, j in enumerate(self.forced)}
        starts: list[int] = []
        rows: list[int] = []
        vals: list[float] = []
        costs: list[float] = []
        for p in idx:
            col, cost = pool.columns[p], pool.costs[p]
            starts.append(len(rows))
            rows += col.members
            vals += [1.0] * len(col.members)
            if col.site in site_row:
                rows.append(site_row[col.site])
                vals.append(1.0)
            if self.count_row is not None:
                rows.append(self.count_row)
                vals.append(1.0)
            for stage in range(len(self.keep)):
                rows.append(self.keep_row + stage)
                vals.append(float(cost[stage]))
            if col.match >= 0:
                rows.append(self.group_row + col.match)
                vals.append(1.0)
            for cut, row in zip(self.cuts, self.cut_rows, strict=True):
                if _takes_part(col, cut):
                    rows.append(row)
                    vals.append(1.0)
            costs.append(cost[self.stage])
        n = len(idx)
        self.h.addCols(n, np.array(costs), np.zeros(n), np.full(n, highspy.kHighsInf),
                       len(rows), np.array(starts, dtype=np.int32),
                       np.array(rows, dtype=np.int32), np.array(vals))  # fmt: skip
        self.in_master += list(idx)

    def add_cuts(self, pool: Pool, cuts: Sequence[tuple[int, int, int]]) -> None:
        """Add subset-row cuts: of three practices, at most one hub may hold two or
        more (valid for every plan, as each practice is in one hub at most)."""
        for cut in cuts:
            idx = [self.artificial + q for q, p in enumerate(self.in_master)
                   if _takes_part(pool.columns[p], cut)]  # fmt: skip
            self.cut_rows.append(self.h.getNumRow())
            self.cuts.append(cut)
            self.h.addRow(-highspy.kHighsInf, 1.0, len(idx), np.array(idx, dtype=np.int32),
                          np.ones(len(idx)))  # fmt: skip

    def violated_cuts(self, pool: Pool, most: int) -> list[tuple[int, int, int]]:
        """The subset-row cuts the LP's solution breaks most (``most`` at most), none
        already in the master: three practices two or more of which share hubs whose
        values add up to over 1 (Jepsen et al. 2008)."""
        x = np.asarray(self.h.getSolution().col_value)[self.artificial :]
        frac = np.flatnonzero((x > 1e-6) & (x < 1 - 1e-6))
        if not len(frac):
            return []
        members = np.zeros((len(frac), len(self.area.codes)), dtype=np.int8)
        for row, q in enumerate(frac):
            members[row, list(pool.columns[self.in_master[q]].members)] = 1
        lam = x[frac]
        used = np.flatnonzero(members.any(axis=0))
        m = members[:, used]
        pair = (m.T * lam) @ m  # hubs' value shared by each two practices
        have = set(self.cuts)
        found: list[tuple[float, tuple[int, int, int]]] = []
        for a in range(len(used)):
            for b in range(a + 1, len(used)):
                if pair[a, b] < 1e-6:
                    continue
                cs = np.arange(b + 1, len(used))
                cs = cs[(pair[a, cs] > 1e-6) | (pair[b, cs] > 1e-6)]
                if not len(cs):
                    continue
                value = lam @ ((m[:, [a]] + m[:, [b]] + m[:, cs]) >= 2)
                for c, v in zip(cs, value, strict=True):
                    cut = (int(used[a]), int(used[b]), int(used[c]))
                    if v > 1 + CUT_VIOLATION and cut not in have:
                        found.append((float(v), cut))
        found.sort(reverse=True)
        return [cut for _, cut in found[:most]]

    def solve_lp(self, deadline: float) -> tuple[float, Prices, int] | None:
        """The LP's value, its duals as prices, and the simplex iterations (None: the
        deadline came first)."""
        h, a = self.h, self.area
        if inprocess.run_until(h, deadline):
            return None
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            # numerical trouble: once more from scratch, else no prices from this LP
            log.debug("master LP: %s; solved again from scratch", h.getModelStatus())
            h.clearSolver()
            if inprocess.run_until(h, deadline):
                return None
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                raise SolverError(f"the master LP ended {h.getModelStatus()}")
        info = h.getInfo()
        dual = np.asarray(h.getSolution().row_dual)
        n = len(a.codes)
        site = np.zeros(n)
        for k, j in enumerate(self.forced):
            site[j] += dual[n + k]
        if self.count_row is not None:
            site += dual[self.count_row]
        stage_weights = np.zeros(len(a.specs))
        stage_weights[self.stage] = 1.0
        for stage in range(len(self.keep)):
            stage_weights[stage] = -dual[self.keep_row + stage]
        group = dual[self.group_row : self.group_row + len(a.groups)].copy()
        cuts = np.array(self.cuts, dtype=int).reshape(-1, 3)
        prices = Prices(dual[:n].copy(), site, a.objective_weights(stage_weights), group,
                        cuts, np.minimum(0.0, dual[self.cut_rows]))  # fmt: skip
        return float(info.objective_function_value), prices, int(info.simplex_iteration_count)

    def solve_mip(
        self, deadline: float, only: Sequence[int] | None = None
    ) -> tuple[list[int], float, float, bool]:
        """The master as a MIP over its columns (``only``: over these pool indices; the
        artificial ones closed) by ``deadline``: the pool indices chosen (empty: none
        found), the value, the proven bound, and whether it is proven optimal (or proven
        to have no plan: value and bound infinite).

        No MIP start is passed: HiGHS 1.16 given one (``setSolution``) reported the
        objective of another solution than the one it returned (seen on a 24-practice
        grid); the caller keeps the better of this and its own best plan."""
        h = inprocess.new_model(mip_gap=0.0)
        h.passModel(self.h.getModel())
        n_art, n = self.artificial, h.getNumCol()
        closed = np.ones(n, dtype=bool)
        if only is None:
            closed[n_art:] = False
        else:
            where = {p: n_art + k for k, p in enumerate(self.in_master)}
            closed[[where[p] for p in only]] = False
        shut = np.flatnonzero(closed).astype(np.int32)
        h.changeColsBounds(len(shut), shut, np.zeros(len(shut)), np.zeros(len(shut)))
        real = np.arange(n_art, n, dtype=np.int32)
        kind = np.full(len(real), highspy.HighsVarType.kInteger, dtype=np.uint8)
        h.changeColsIntegrality(len(real), real, kind)
        if (len(real) if only is None else len(only)) >= PROBING_MOST:
            h.setOptionValue("presolve_rule_off", PRESOLVE_PROBING)
        if not inprocess.run_guarded(h, deadline):  # its presolve ran past the deadline
            return [], np.inf, -np.inf, False
        info = h.getInfo()
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:  # no plan of these columns
            return [], np.inf, np.inf, True
        proven = status == highspy.HighsModelStatus.kOptimal
        bound = float(info.mip_dual_bound)
        if info.primal_solution_status != 2:
            return [], np.inf, bound, proven
        x = np.asarray(h.getSolution().col_value)[n_art:]
        chosen = [self.in_master[k] for k in np.flatnonzero(x > 0.5)]
        return chosen, float(info.objective_function_value), bound, proven


def _takes_part(col: Column, cut: tuple[int, int, int]) -> bool:
    """Whether hub ``col`` holds two or more of subset-row ``cut``'s practices."""
    return len(set(col.members).intersection(cut)) >= 2


@dataclass
class StageOutcome:
    """One stage of the set-partitioning solve."""

    chosen: list[int]
    value: float
    bound: float
    status: Status
    bound_kind: str
    plan_source: str
    proof: str
    stop: Stop
    work: int
    seconds: float
    #: the plan came from steps that ended by a proof or a work limit: the column
    #: generation (every site's pricing proven) and the MIP that chose it
    by_work: bool = False


def solve(
    inst: Instance,
    clock: Clock,
    *,
    plans: Sequence[pd.Series] = (),
    say: Callable[[str], None] = log.info,
    enumerate_limit: int = ENUMERATION_LIMIT,
    improve: Improve | None = None,
) -> SolveResult:
    """The instance's objectives in stages by set partitioning (the module docstring),
    within ``clock``, starting from the hubs of ``plans``; where price-and-branch leaves
    a gap, ``improve`` (e.g. the neighbourhood search) may better its plan for
    :data:`IMPROVE_SHARE` of the time left before the proof."""
    area = Area.of(inst)
    pool = Pool(area)
    pool.add(area.singleton_columns())
    best: list[int] | None = None
    best_values = None
    for plan in plans:
        pool.add(area.columns_of(plan))
        cols = _plan_columns(pool, plan)
        if cols is None:
            continue
        values = inst.values(area.plan(pool.columns[p] for p in cols))
        if best_values is None or better(values, best_values):
            best, best_values = cols, values
    pricing = ExactPricing(area, workers=inst.scenario.threads)
    try:
        return _solve(inst, area, pool, pricing, best, clock, say, enumerate_limit, improve)
    finally:
        pricing.close()


def _solve(
    inst: Instance,
    area: Area,
    pool: Pool,
    pricing: ExactPricing,
    best: list[int] | None,
    clock: Clock,
    say: Callable[[str], None],
    enumerate_limit: int,
    improve: Improve | None,
) -> SolveResult:
    """:func:`solve`'s stages, one after the other."""
    outcomes: list[StageOutcome] = []
    keep: list[float] = []
    for k, spec in enumerate(area.specs):
        began = clock.elapsed()
        stages_left = len(area.specs) - k
        within = clock if stages_left == 1 else clock.within(clock.left() / stages_left)
        cg_share = 1.0 if stages_left == 1 else CG_SHARE
        out = _stage(area, pool, pricing, k, keep, best, within, say, enumerate_limit, improve,
                     cg_share)  # fmt: skip
        out = dataclasses.replace(out, seconds=clock.elapsed() - began)
        outcomes.append(out)
        if not out.chosen:
            break
        best = out.chosen
        keep.append(float(sum(pool.costs[p][k] for p in best)))
        off = area.offset[k]
        say(f"set partitioning, stage {spec.name}: {out.status}, "
            f"{out.value + off:,.0f} (bound {out.bound + off:,.0f})")  # fmt: skip
    return _result(inst, area, pool, outcomes, best, clock)


def _plan_columns(pool: Pool, plan: pd.Series) -> list[int] | None:
    """The pool indices of ``plan``'s hubs, if every hub is a column and every practice
    that must be covered is."""
    area = pool.area
    cols = area.columns_of(plan)
    covered = np.zeros(len(area.codes), dtype=int)
    for c in cols:
        covered[list(c.members)] += 1
    if (covered > 1).any() or (covered[~area.optional] < 1).any():
        return None
    if not area.forced <= {c.site for c in cols}:
        return None
    lo, hi = area.hub_range
    if (lo is not None and len(cols) < lo) or (hi is not None and len(cols) > hi):
        return None
    index = {c: k for k, c in enumerate(pool.columns)}
    return [index[c] for c in cols]


@dataclass
class _Generation:
    """What a stage's column generation leaves (:func:`_generate`)."""

    lower: float  # the best Lagrangian bound proven (-inf: none)
    lp_value: float  # the master LP's value at ``prices``
    prices: Prices | None  # the duals the proof prices with (the last convergence's)
    settled: bool  # converged at least once: the bound is the LP's
    converged: bool  # converged at the end (not stopped early)
    stop: Stop
    work: int
    #: ended by its work limit or convergence, every site's pricing proven: its columns
    #: (and so the MIP over them) are the same on any machine
    by_work: bool
    first_rounds: int = 0  # exact rounds to the first convergence
    cut: bool = False  # the prices are with subset-row cuts
    #: where the clock ended a repeatable run's pricing after its last convergence: the
    #: master's columns at that convergence (price-and-branch uses only those, so that
    #: its plan is made by work)
    columns: int | None = None


def _stage(
    area: Area,
    pool: Pool,
    pricing: ExactPricing,
    k: int,
    keep: list[float],
    start: list[int] | None,
    clock: Clock,
    say: Callable[[str], None],
    enumerate_limit: int,
    improve: Improve | None,
    cg_share: float = 1.0,
) -> StageOutcome:
    """One objective stage within ``clock`` (its column generation within ``cg_share``
    of it): the module docstring's steps 1-3."""
    master = Master(area, k, keep)
    master.add(pool, range(len(pool.columns)))
    gen = _generate(area, pool, pricing, master, k, start, clock, say, cg_share)
    tol = _tolerance(pool, k)
    # price-and-branch
    now = time.perf_counter()
    chosen, value, _, finished = master.solve_mip(
        min(clock.stop_at, now + max(MIP_SECONDS_MIN, MIP_SHARE * clock.left())),
        None if gen.columns is None else master.in_master[: gen.columns],
    )
    chosen = chosen if np.isfinite(value) else []
    source = "price-and-branch"
    by_work = gen.by_work and finished
    if start and (not chosen or _value(pool, start, k) <= value + tol):
        chosen, value, source = list(start), _value(pool, start, k), "first plan"
        by_work = True
    if not chosen:
        kind = "set partitioning (Lagrangian)"
        return StageOutcome([], np.inf, gen.lower, Status.NO_SOLUTION, kind, "", "", gen.stop,
                            gen.work, 0.0)  # fmt: skip
    best = _Best(chosen, value, source, by_work)
    # (where the list is too long, cuts come first if they can: _cheapest_plan after)
    retry = not gen.cut and gen.settled
    lower, proof, raised, too_long = _prove(
        area, pool, master, pricing, k, gen, best, clock, say, enumerate_limit, improve,
        cheapest=not retry,
    )  # fmt: skip
    work = gen.work
    if not proof and too_long and retry and clock.left() > 0:
        # the proof's list was too long for the gap: cuts raise the bound, then again
        say("the proof's list is too long: subset-row cuts, then the proof again")
        again = _generate(area, pool, pricing, master, k, best.chosen, clock, say, 1.0,
                          force_cuts=True, base_rounds=gen.first_rounds)  # fmt: skip
        work += again.work  # (plans found after it count its stop: _prove)
        if again.cut and again.prices is not None:
            gen = dataclasses.replace(again, lower=max(again.lower, lower))
            lower, proof, again_raised, _ = _prove(area, pool, master, pricing, k, gen, best,
                                                   clock, say, enumerate_limit, None)  # fmt: skip
            raised = raised or again_raised
        else:
            gen = dataclasses.replace(gen, stop=again.stop)
    lp = "LP with subset-row cuts" if gen.cut else "LP"
    bound_kind = f"set partitioning ({lp})" if gen.settled else "set partitioning (Lagrangian)"
    if proof == "reduced-cost enumeration":
        bound_kind = "set partitioning (enumeration)"
    elif raised:
        bound_kind = f"set partitioning ({lp}, raised by enumeration)"
    status = Status.OPTIMAL if proof else Status.TIME_LIMITED
    stop = gen.stop
    if not proof and stop is Stop.PROOF:
        stop = Stop.CLOCK if clock.left() <= 0 else Stop.WORK
    return StageOutcome(best.chosen, best.value, lower, status, bound_kind, best.source, proof,
                        stop, work, 0.0, best.by_work)  # fmt: skip


def _tolerance(pool: Pool, k: int) -> float:
    """Reduced costs and values closer than this are equal in stage ``k``."""
    scale = 1.0 + abs(float(np.mean([c[k] for c in pool.costs]))) if pool.costs else 1.0
    return EPS * scale


def _generate(
    area: Area,
    pool: Pool,
    pricing: ExactPricing,
    master: Master,
    k: int,
    start: list[int] | None,
    clock: Clock,
    say: Callable[[str], None],
    cg_share: float,
    *,
    force_cuts: bool = False,
    base_rounds: int = 0,
) -> _Generation:
    """Column generation with subset-row cuts (the module docstring's step 1), within
    ``cg_share`` of ``clock`` (its cuts within :data:`CUT_SHARE` of that). With
    ``force_cuts``, cuts wherever they raise the LP, whatever the area's size or the gap;
    ``base_rounds``: the exact rounds the pricing after cuts may take are counted from
    this many (else from the rounds this call took to converge)."""
    began = time.perf_counter()
    cg_until = began + cg_share * clock.left()
    cuts_until = began + CUT_SHARE * cg_share * clock.left()
    lower = -np.inf
    work = 0
    rounds = 0
    stop = Stop.PROOF
    converged = False
    tol = _tolerance(pool, k)
    prices: Prices | None = None
    lp_value = np.inf
    sites = [area.sites[j] for j in sorted(area.sites)]
    unproven = 0
    cut_rounds = 0
    cut_lp = -np.inf  # the LP's value when the last cuts were added
    settled: tuple[float, Prices] | None = None  # the LP and prices at convergence
    settled_columns = 0  # the master's columns then
    settled_by_work = False  # every site's pricing up to then proven
    first_rounds = 0  # exact rounds to the first convergence
    last_settled = began
    order = list(range(len(sites)))
    while True:
        # the pricing after cuts ends by its work limit or, at the latest, at cuts_until
        # (then a repeatable run's plans come from the columns of the last convergence)
        if clock.left() <= 0 or time.perf_counter() > (cuts_until if cut_rounds else cg_until):
            stop = Stop.CLOCK
            break
        if cut_rounds and rounds - first_rounds > CUT_ROUNDS_SHARE * (base_rounds or first_rounds):
            stop = Stop.WORK  # the pricing after cuts: its share of the work spent
            break
        solved = master.solve_lp(clock.stop_at)
        if solved is None:
            stop = Stop.CLOCK
            break
        lp_value, prices, iters = solved
        work += iters
        new = [c for site in sites for c in greedy(area, site, prices)
               if reduced_cost(area, c, prices) < -tol]  # fmt: skip
        added = pool.add(new)
        if added:
            master.add(pool, added)
            continue
        # exact pricing, site by site from where the last round stopped; the round
        # ends once it has EXACT_BATCH columns, and a round over every site gives the
        # Lagrangian bound
        # (pricing.workers sites at a time)
        rounds += 1
        least, found, priced = 0.0, [], 0
        whole = rounds % WHOLE_ROUND_EVERY == 1  # the first, then every few
        while priced < len(order) and clock.left() > 0:
            batch = [sites[i] for i in order[priced : priced + pricing.workers]]
            seconds = min(PRICING_SECONDS, clock.left())
            for res in pricing.price_all(batch, prices, seconds=seconds, below=0.0):
                priced += 1
                work += res.work
                unproven += not res.proven
                least += min(0.0, res.bound)
                if res.column is not None and res.value < -tol:
                    found.append(res.column)
            if len(found) >= EXACT_BATCH and priced < len(order) and not whole:
                order = order[priced:] + order[:priced]
                break
        complete = priced == len(order)
        log.debug("exact round %d: %d sites priced, %d hubs found, LP %.6g, least %.6g, "
                  "%.1f s", rounds, priced, len(found), lp_value, least,
                  time.perf_counter() - began)  # fmt: skip
        if complete:
            lower = area.tighten(k, _record_bound(lower, lp_value + least))
        added = pool.add(found)
        if added:
            master.add(pool, added)
        if complete and not added:
            # no cuts in small areas, or where the best plan known is near the LP: the
            # enumeration alone is quicker there
            gap = _value(pool, start, k) - lower if start is not None else np.inf
            near = not force_cuts and (gap <= CUT_GAP * max(1.0, abs(lower))
                                 or len(area.codes) <= CUT_MIN)  # fmt: skip
            closed = gap <= GAP_TOL * max(1.0, abs(lower))
            settled = (lp_value, prices)
            settled_columns, settled_by_work = len(master.in_master), not unproven
            first_rounds = first_rounds or rounds
            now = time.perf_counter()
            took, last_settled = now - last_settled, now
            rose = lp_value - cut_lp > CUT_RISE * max(1.0, abs(lp_value))
            in_time = clock.repeatable or now + CUT_REPRICE * took < cuts_until
            more = (cut_rounds < CUT_ROUNDS and not closed and (cut_rounds or not near)
                    and rose and in_time)  # fmt: skip
            cuts = master.violated_cuts(pool, CUTS_A_ROUND) if more else []
            if not cuts:
                converged = True
                break
            cut_rounds += 1
            cut_lp = lp_value
            master.add_cuts(pool, cuts)
            say(f"subset-row cuts: {len(cuts)} more, LP {lp_value:,.0f}, bound {lower:,.0f}")
            continue
        if clock.left() <= 0:
            stop = Stop.CLOCK
            break
        if rounds >= ROUNDS_MAX:
            stop = Stop.WORK
            break
    log.debug("pricing: %d exact rounds, %d site solves not proven", rounds, unproven)
    early = "" if converged else " (stopped early)"
    if not converged and settled is not None:  # cuts' pricing cut short: the proof
        lp_value, prices = settled  # uses the prices of the last convergence
    say(f"column generation: {len(pool.columns):,} columns, {rounds} exact rounds, "
        f"LP {lp_value:,.0f}, bound {lower:,.0f}{early}")  # fmt: skip
    by_work = stop is not Stop.CLOCK and not unproven
    columns = None
    if not by_work and clock.repeatable and settled is not None and settled_by_work:
        # a repeatable run whose clock ended the pricing after cuts: everything up to
        # the last convergence was work (the cuts' rounds end by work there)
        by_work, columns = True, settled_columns
    cut = prices is not None and len(prices.cut_duals) > 0
    return _Generation(lower, lp_value, prices, settled is not None, converged, stop, work, by_work,
                       first_rounds, cut, columns)  # fmt: skip


@dataclass
class _Best:
    """A stage's best plan so far: its pool columns, value, source, and whether only
    steps ended by work or a proof made it (a repeatable run may use it)."""

    chosen: list[int]
    value: float
    source: str
    by_work: bool

    def take(self, chosen: list[int], value: float, source: str, by_work: bool) -> None:
        # a plan found from a clock-ended one (its value set the thresholds) is too
        self.chosen, self.value, self.source = chosen, value, source
        self.by_work = self.by_work and by_work


def _prove(
    area: Area,
    pool: Pool,
    master: Master,
    pricing: ExactPricing,
    k: int,
    gen: _Generation,
    best: _Best,
    clock: Clock,
    say: Callable[[str], None],
    enumerate_limit: int,
    improve: Improve | None,
    *,
    cheapest: bool = True,
) -> tuple[float, str, bool, bool]:
    """The proof (the module docstring's step 3): a quick enumeration first (a short
    list), then ``improve``'s better plan and the full one; ``best`` is bettered in
    place. The bound, the proof used ("" for none), whether the enumeration raised the
    column generation's bound, and whether the full list was too long (not the clock;
    with ``cheapest``, a plan from each site's cheapest hubs is then tried)."""
    tol = _tolerance(pool, k)
    lower = gen.lower
    raised = too_long = False
    least = _Least()  # each site's least reduced cost at the proof's prices
    for quick in (True, False) if improve is not None else (False,):
        if not quick and improve is not None and not _closed(best.value, lower):
            plan = improve(area.plan(pool.columns[p] for p in best.chosen),
                           clock.within(IMPROVE_SHARE * clock.left()))  # fmt: skip
            master.add(pool, pool.add(area.columns_of(plan)))
            cols = _plan_columns(pool, plan)
            if cols is not None and _value(pool, cols, k) < best.value - tol:
                best.take(cols, _value(pool, cols, k), "neighbourhood search", False)
        if _closed(best.value, lower):
            return lower, "column generation bound", raised, False
        if gen.prices is None or not np.isfinite(lower) or clock.left() <= 0:
            break
        before = lower
        found = _enumeration_proof(
            area, pool, master, pricing, gen.prices, gen.lp_value, lower, best.value,
            clock.within(QUICK_SHARE * clock.left()) if quick else clock,
            QUICK_LIMIT if quick else enumerate_limit, say, least, quick=quick,
            cheapest=cheapest,
        )  # fmt: skip
        lower = found.bound
        raised = raised or lower > before
        too_long = found.too_long
        if found.chosen is not None and found.value < best.value - tol:
            best.take(found.chosen, found.value, "price-and-branch over enumerated columns",
                      gen.by_work and found.by_work)  # fmt: skip
        lower = area.tighten(k, lower)
        if found.proven or _closed(best.value, lower):
            return best.value, "reduced-cost enumeration", raised, False
    return lower, "", raised, too_long


def _closed(value: float, lower: float) -> bool:
    """Whether a plan of ``value`` is proven optimal by bound ``lower``."""
    return value - lower <= GAP_TOL * max(1.0, abs(value))


def _record_bound(lower: float, lagrangian: float) -> float:
    """The best bound so far after an exact round over every site gave ``lagrangian``."""
    return max(lower, lagrangian)


def _value(pool: Pool, cols: Sequence[int], k: int) -> float:
    return float(sum(pool.costs[p][k] for p in cols))


@dataclass
class _Least:
    """Each site's least reduced cost at the proof's prices, whether every one was
    proven (not ended by :data:`PRICING_SECONDS`), and the threshold up to which a
    listing and its MIP were completed at these prices (a later attempt goes on from
    there: the quick attempt's rounds are not listed again)."""

    values: dict[int, float] = field(default_factory=dict)
    proven: bool = True
    done: float = 0.0

    def fill(self, area: Area, pricing: ExactPricing, prices: Prices, clock: Clock) -> None:
        if self.values:
            return
        seconds = min(PRICING_SECONDS, max(0.01, clock.left()))
        every = pricing.price_all(list(area.sites.values()), prices, seconds=seconds, below=0.0)
        for j, res in zip(area.sites, every, strict=True):
            self.values[j] = min(0.0, res.bound)
            self.proven = self.proven and res.proven


@dataclass
class _Found:
    """What the enumeration proof found (:func:`_enumeration_proof`)."""

    proven: bool  # the optimum: ``value`` (or no plan better than the one given)
    value: float  # the best plan's value (the one given if none better)
    chosen: list[int] | None  # the best plan's columns, if better than the one given
    bound: float
    #: the plan came from a listing and a MIP that ended by work or a proof (not the
    #: clock), at prices proven: the same on any machine that gets this far
    by_work: bool = True
    too_long: bool = False  # a listing went over its limit (not the clock)


def _enumeration_proof(
    area: Area,
    pool: Pool,
    master: Master,
    pricing: ExactPricing,
    prices: Prices,
    lp_value: float,
    lower: float,
    upper: float,
    clock: Clock,
    limit: int,
    say: Callable[[str], None],
    least: _Least,
    *,
    quick: bool = False,
    cheapest: bool = True,
) -> _Found:
    """Enumerate the columns of reduced cost up to a threshold and solve the master over
    them, the threshold doubling up to the gap (module docstring, step 3).

    A plan better than ``upper`` uses only columns whose reduced cost is at most
    ``upper - LB`` (less at a site whose least reduced cost is negative); once the
    threshold reaches that, the master over the columns listed holds every such plan,
    and its proven optimum is the optimum. Below it, each round's MIP is the best plan
    among the cheapest columns: often the optimum already, which then shrinks the gap
    the proof must reach.

    ``least`` holds each site's least reduced cost at ``prices`` (filled here when
    empty). A ``quick`` attempt lists ``limit`` columns at most and, where that is too
    few, gives up without a plan from each site's cheapest hubs (so does a full one
    without ``cheapest``). A full one may list more with more time left (a repeatable
    run: with more time in its limit)."""
    least.fill(area, pricing, prices, clock)
    if not quick:
        left = ENUMERATION_NOMINAL * clock.seconds if clock.repeatable else clock.left()
        limit = max(limit, min(ENUMERATION_MOST, int(ENUMERATION_PER_SECOND * left)))
    lag = lp_value + sum(least.values.values())  # the Lagrangian bound at these prices
    if not np.isfinite(lag):  # a site's pricing ended without a bound: no threshold
        say("reduced-cost enumeration: a site's least reduced cost is unknown; no proof")
        return _Found(False, upper, None, lower)
    out = _Found(False, upper, None, max(lower, lag), least.proven)
    slack = 1e-7 * max(1.0, abs(upper))
    threshold = max(ENUMERATION_START * abs(lag), (upper - lag) / 16, 2 * least.done)
    threshold = min(upper - lag, threshold)
    while True:
        found: list[Column] = []
        for j, site in area.sites.items():
            cols = enumerate_site(area, site, prices, threshold + least.values[j] + slack,
                                  limit=limit - len(found),
                                  deadline=lambda: clock.left() <= 0)  # fmt: skip
            if cols is None:
                out.too_long = clock.left() > 0
                why = f"over {limit:,} columns" if out.too_long else "the clock ended it"
                say(f"reduced-cost enumeration to {threshold:,.0f}: {why}; no proof")
                if clock.left() > 0 and not quick and cheapest:  # a plan from the cheapest hubs
                    _cheapest_plan(area, pool, master, prices, lag, least, limit, clock, out,
                                   say)  # fmt: skip
                return out
            found += cols
        added = pool.add(found)
        master.add(pool, added)
        only = [pool.index[c] for c in found]
        chosen, value, mip_bound, proven = master.solve_mip(clock.stop_at, only)
        # a plan with a column not listed is worth at least lag + threshold
        out.bound = max(out.bound, min(lag + threshold, mip_bound))
        say(f"reduced-cost enumeration to {threshold:,.0f}: {len(found):,} columns "
            f"({len(added):,} new), plan {value:,.0f}{'' if proven else ' (not proven)'}, "
            f"bound {out.bound:,.0f}")  # fmt: skip
        if chosen and value < out.value:
            out.chosen, out.value, out.by_work = chosen, value, out.by_work and proven
        if not proven or clock.left() <= 0:
            return out
        least.done = threshold
        if threshold >= out.value - lag - slack:
            out.proven, out.bound = True, out.value
            return out
        threshold = min(out.value - lag, 2 * threshold)


def _cheapest_plan(
    area: Area,
    pool: Pool,
    master: Master,
    prices: Prices,
    lag: float,
    least: _Least,
    limit: int,
    clock: Clock,
    out: _Found,
    say: Callable[[str], None],
) -> None:
    """The master over each site's cheapest hubs within the gap (``limit`` in all): a
    plan where the proof's list would be too long, and a bound: a plan with a hub not
    listed at site j costs at least ``lag`` plus the reduced cost of the dearest hub
    listed there less the site's least (the master's bound over the list otherwise).
    ``out`` takes the plan if better, and the bound."""
    per_site = max(1, limit // max(1, len(area.sites)))
    found: list[Column] = []
    beyond = np.inf  # the least a plan with a hub not listed can cost
    for j, site in area.sites.items():
        cols = enumerate_site(area, site, prices, out.value - lag + least.values[j],
                              limit=per_site, deadline=lambda: clock.left() <= 0,
                              cheapest=True)  # fmt: skip
        if cols is None:
            return
        if len(cols) >= per_site:  # perhaps cut short: hubs above the dearest kept
            beyond = min(beyond, lag + reduced_cost(area, cols[-1], prices) - least.values[j])
        found += cols
    master.add(pool, pool.add(found))
    chosen, value, mip_bound, proven = master.solve_mip(
        clock.stop_at, [pool.index[c] for c in found]
    )
    bound = min(beyond, mip_bound)
    say(f"cheapest {per_site:,} hubs a site: {len(found):,} columns, plan {value:,.0f}, "
        f"bound {bound:,.0f}")  # fmt: skip
    out.bound = max(out.bound, bound)
    if chosen and value < out.value:
        out.chosen, out.value, out.by_work = chosen, value, out.by_work and proven


def _result(
    inst: Instance,
    area: Area,
    pool: Pool,
    outcomes: list[StageOutcome],
    best: list[int] | None,
    clock: Clock,
) -> SolveResult:
    """The stages' outcomes as one :class:`SolveResult` (values recomputed from the
    raw data by :meth:`Instance.stage_values`)."""
    records = []
    for k, out in enumerate(outcomes):
        off = float(area.offset[k])
        value = None if not out.chosen else out.value + off
        bound = out.bound + off if np.isfinite(out.bound) else None
        gap = 0.0 if out.status is Status.OPTIMAL else relative_gap(value, bound)
        if value is not None and value <= 0:
            gap = 0.0
        records.append(StageRecord(area.specs[k].name, out.status if gap != 0.0 else Status.OPTIMAL,
                                   value, gap, bound, out.seconds))  # fmt: skip
    if best is None:
        return SolveResult(
            status=Status.NO_SOLUTION, objective=None, bound=None, gap=None,
            seconds=clock.elapsed(), assignment=None, solver="highs",
            log="set partitioning: no plan", stages=tuple(records),
        )  # fmt: skip
    plan = area.plan(pool.columns[p] for p in best)
    status = Status.weakest([r.status for r in records])
    gaps = [r.gap for r in records]
    last = outcomes[-1]
    done = len(outcomes) == len(area.specs) and bool(last.chosen)
    if not done:
        status = Status.TIME_LIMITED
    stops = [o.stop for o in outcomes]
    return SolveResult(
        status=status,
        objective=records[-1].value if done else None,
        bound=records[-1].bound if done else None,
        gap=(max(g for g in gaps if g is not None) if all(g is not None for g in gaps) else None)
        if status is not Status.OPTIMAL else 0.0,
        seconds=clock.elapsed(),
        assignment=plan,
        solver="highs",
        log=f"set partitioning: {len(pool.columns):,} columns; " + "; ".join(
            f"{area.specs[k].name}: bound {o.bound_kind}, plan from {o.plan_source}"
            + (f", proof by {o.proof}" if o.proof else "")
            for k, o in enumerate(outcomes)
        ),
        stop=Stop.CLOCK if Stop.CLOCK in stops else Stop.WORK if Stop.WORK in stops else Stop.PROOF,
        work=sum(o.work for o in outcomes),
        stages=tuple(records),
        values=inst.stage_values(plan),
        bound_kind=last.bound_kind,
        plan_source=last.plan_source,
        proof=last.proof,
        plan_by_work=done and all(o.by_work for o in outcomes),
    )  # fmt: skip
