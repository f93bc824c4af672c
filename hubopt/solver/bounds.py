r"""Lower bounds on a model's optimum: its LP relaxation and, for the core model, the
Lagrangian bound. One module for every bound (what comes next, e.g. set
partitioning's column-generation bound, lands here too).

:func:`relaxed_bound` is what the large-area path uses (:mod:`hubopt.solver.plan`)
when CBC prints no bound before the deadline: the better of the LP bound and the
Lagrangian bound started from the LP's duals.

**LP relaxation** (:func:`lp_relaxation`): binaries relaxed to :math:`[0, 1]`, solved
with HiGHS through :func:`scipy.optimize.linprog` (scipy is a core dependency) from the
problem's own rows, so no file is written and the problem is not changed.

**Lagrangian bound** of the core model: it applies to a
:class:`~hubopt.model.HubModel` from :func:`~hubopt.model.build_model`
whose rule families (:attr:`~hubopt.model.HubModel.rules`) are only the core ones
(:data:`~hubopt.model.program.CORE_FAMILIES`: ``assign_once`` as equalities,
``join_open_site``, ``population_max``/``population_min``, ``singleton_site``,
``fixed_site``, ``hub_count``) and whose objective is a linear function of the
assignment variables; :func:`core_data` returns None for anything else (extra rules,
soft bands, optional practices), and :func:`relaxed_bound` then gives the LP bound.

Relaxing the assignment rows :math:`\sum_j x_{ij} = 1` with multipliers
:math:`\lambda_i` leaves one problem per site :math:`j`:

.. math::

    v_j(\lambda) = c_{jj} - \lambda_j + \min \Big\{ \sum_{i \ne j} (c_{ij} - \lambda_i) x_{ij}
        : \sum_{i \ne j} w_i x_{ij} \le U - w_j,\ x \in \{0,1\} \Big\},

a 0/1 knapsack (solved by dynamic programming for all sites at once), and
:math:`L(\lambda) = \sum_i \lambda_i + \min_{S} \sum_{j \in S} v_j(\lambda)` over site
sets :math:`S` allowed by the hub count (singletons and fixed sites always in). Every
:math:`L(\lambda)` is a lower bound on the model's optimum. Each knapsack keeps the
band's lower limit too (the fewest units of others at the site). Demands are scaled
to at most :data:`RESOLUTION` units with :math:`\lfloor w_i / s \rfloor` and
capacity :math:`\lfloor (U - w_j)/s \rfloor`, which keeps every feasible hub
feasible (still a relaxation; exact for the integer OR-Library data, where
:math:`s = 1`); the lower limit is lowered by the most members a hub can hold, as
each loses less than one unit.

Multipliers follow subgradient optimisation with Polyak steps toward the best plan's value.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pulp
from scipy import sparse
from scipy.optimize import linprog

from hubopt import model
from hubopt.model import HubModel

# ------------------------------------------------------------------ LP relaxation


@dataclass
class LPRelaxation:
    """The LP relaxation of a problem, in *minimisation* terms."""

    status: str  # "optimal", "infeasible", "unbounded" or "error"
    objective: float | None
    values: np.ndarray
    reduced_costs: np.ndarray
    variables: list[pulp.LpVariable]
    seconds: float
    #: the dual value of each equality row, by constraint name (minimisation terms)
    eq_duals: dict[str, float] = field(default_factory=dict)


def _sign(problem: pulp.LpProblem) -> float:
    return -1.0 if problem.sense == pulp.LpMaximize else 1.0


def lp_relaxation(problem: pulp.LpProblem) -> LPRelaxation:
    """Solve the LP relaxation of ``problem`` (integrality dropped, bounds kept).

    The problem is not modified. Objective and reduced costs are for *minimising*
    (a maximisation problem is negated).
    """
    start = time.perf_counter()
    variables = problem.variables()
    index = {v.name: k for k, v in enumerate(variables)}
    sign = _sign(problem)
    n = len(variables)
    c = np.zeros(n)
    for v, a in problem.objective.items():
        c[index[v.name]] += sign * a
    const = sign * float(problem.objective.constant or 0.0)
    ub_rows: list[int] = []
    ub_cols: list[int] = []
    ub_vals: list[float] = []
    b_ub: list[float] = []
    eq_names: list[str] = []
    eq_rows: list[int] = []
    eq_cols: list[int] = []
    eq_vals: list[float] = []
    b_eq: list[float] = []
    for con in problem.constraints():
        rhs = -float(con.constant)
        if con.sense == pulp.LpConstraintEQ:
            r = len(b_eq)
            eq_names.append(con.name)
            for v, a in con.items():
                eq_rows.append(r)
                eq_cols.append(index[v.name])
                eq_vals.append(a)
            b_eq.append(rhs)
        else:
            s = 1.0 if con.sense == pulp.LpConstraintLE else -1.0
            r = len(b_ub)
            for v, a in con.items():
                ub_rows.append(r)
                ub_cols.append(index[v.name])
                ub_vals.append(s * a)
            b_ub.append(s * rhs)
    a_ub = sparse.csr_array((ub_vals, (ub_rows, ub_cols)), shape=(len(b_ub), n)) if b_ub else None
    a_eq = sparse.csr_array((eq_vals, (eq_rows, eq_cols)), shape=(len(b_eq), n)) if b_eq else None
    bounds = [(v.lowBound, v.upBound) for v in variables]
    res = linprog(
        c,
        A_ub=a_ub,
        b_ub=b_ub or None,
        A_eq=a_eq,
        b_eq=b_eq or None,
        bounds=bounds,
        method="highs",
    )
    seconds = time.perf_counter() - start
    status = {0: "optimal", 2: "infeasible", 3: "unbounded"}.get(res.status, "error")
    if status != "optimal":
        empty = np.full(n, np.nan)
        return LPRelaxation(status, None, empty, empty, variables, seconds)
    rc = np.asarray(res.lower.marginals) + np.asarray(res.upper.marginals)
    duals = dict(zip(eq_names, np.asarray(res.eqlin.marginals), strict=True)) if b_eq else {}
    return LPRelaxation(
        status, float(res.fun) + const, np.asarray(res.x), rc, variables, seconds, duals
    )


def objective_is_integral(problem: pulp.LpProblem) -> bool:
    """True when every feasible solution has an integer objective value."""
    if abs(float(problem.objective.constant or 0.0)) % 1 > 1e-9:
        return False
    for v, a in problem.objective.items():
        if v.cat != pulp.LpInteger or abs(a - round(a)) > 1e-9:
            return False
    return True


# ------------------------------------------------------------------ Lagrangian bound

#: Most capacity units in the knapsack DP (demands are scaled down beyond this).
RESOLUTION = 1000


@dataclass
class CoreData:
    """The core model as arrays (rows = practices, columns = sites, same order)."""

    codes: list[str]
    cost: np.ndarray  # objective coefficient of x_ij, inf where there is no variable
    weights: np.ndarray  # demand w_i
    units: np.ndarray  # scaled integer demand floor(w_i / s)
    room: np.ndarray  # most scaled units of others at each site; -1 if it cannot be a site
    room_lo: np.ndarray  # fewest scaled units of others at each site (the band's lower limit)
    forced: np.ndarray  # bool per site: always open (singleton, fixed site)
    lo: int
    hi: int
    capacity: float
    scale: float
    integral: bool
    var: dict[tuple[int, int], pulp.LpVariable]


def core_data(m: HubModel) -> CoreData | None:
    """Arrays of the core model, or None when the problem has anything else."""
    prob = m.problem
    if m.optional or prob.sense != pulp.LpMinimize:
        return None
    xs = {v.name for v in m.x.values()}
    if any(v.name not in xs for v in prob.variables()):
        return None
    if any(v.name not in xs for v in prob.objective):
        return None
    if not set(m.rules) <= model.CORE_FAMILIES:
        return None
    if sum(map(len, m.rules.values())) != len(prob.constraints()):
        return None  # a row added behind the model's back: its structure is unknown
    if any(con.sense != pulp.LpConstraintEQ for con in m.rules.get(model.ASSIGN_ONCE, [])):
        return None
    codes = m.practices
    pos = {c: k for k, c in enumerate(codes)}
    n = len(codes)
    lo, hi = m.hub_range
    lo, hi = (0 if lo is None else lo), (n if hi is None else hi)
    forced = np.isin(codes, list(m.forced_sites))
    if any(v.lowBound not in (0, None) or v.upBound != 1 for v in m.x.values()):
        return None  # already fixed by someone: keep it simple
    cost = np.full((n, n), np.inf)
    var = {}
    obj = prob.objective
    for (i, j), v in m.x.items():
        cost[pos[i], pos[j]] = float(obj.get(v, 0.0))
        var[pos[i], pos[j]] = v
    if not all(np.isfinite(cost[j, j]) or not np.isfinite(cost[:, j]).any() for j in range(n)):
        return None
    w = m.weights.reindex(codes).to_numpy(dtype=float)
    cap = float(m.pop_max)
    integer = np.all(w == np.round(w)) and cap == round(cap)
    scale = 1.0 if integer and cap <= RESOLUTION else cap / RESOLUTION
    # Scaled demands round down, so a hub's scaled total never exceeds its true one over
    # s: the upper limit is kept exactly. Each member loses less than one unit, so the
    # lower limit is lowered by the most members a hub at j can hold (still a relaxation;
    # nothing moves when s = 1 and demands are integers).
    units = np.floor(w / scale + 1e-9).astype(int)
    room = np.floor((cap - w) / scale + 1e-9).astype(int)
    most = np.zeros(n) if scale == 1.0 else _most_members(cost, w, cap)
    room_lo = np.ceil((float(m.pop_min) - w) / scale - most - 1e-9).astype(int)
    room_lo = np.maximum(room_lo, 0)
    room[room < 0] = -1
    for k in range(n):  # a singleton has no band rows: only itself
        if codes[k] in m.singletons:
            room[k], room_lo[k] = 0, 0
    has_site = np.isfinite(np.diag(cost))
    room[~has_site] = -1
    room[room_lo > room] = -1
    return CoreData(
        codes=codes,
        cost=cost,
        weights=w,
        units=units,
        room=room,
        room_lo=room_lo,
        forced=forced,
        lo=lo,
        hi=hi,
        capacity=cap,
        scale=scale,
        integral=objective_is_integral(prob),
        var=var,
    )


def lp_duals(m: HubModel, d: CoreData, lp: LPRelaxation) -> np.ndarray | None:
    r"""Multipliers from the LP relaxation's duals of the assignment rows, a start at
    which :math:`L(\lambda)` is already at least the LP bound; None without them."""
    if lp.status != "optimal" or not lp.eq_duals:
        return None
    owner = {v.name: i for (i, _), v in m.x.items()}
    lam = {}
    for con in m.rules.get(model.ASSIGN_ONCE, []):
        if con.name not in lp.eq_duals:
            return None
        lam[owner[next(iter(con)).name]] = lp.eq_duals[con.name]
    if set(lam) != set(d.codes):
        return None
    return np.array([lam[c] for c in d.codes], dtype=float)


def relaxed_bound(
    m: HubModel, *, seconds: float, upper: float | None = None
) -> tuple[float | None, str]:
    """A lower bound on ``m``'s optimum: the best of its LP relaxation and the
    Lagrangian bound from the LP's duals, subgradient steps for ``seconds``. For a model
    with only the core rows (:func:`core_data`), else the LP bound alone. Returns the
    bound (None if the LP failed) and which of the two it is."""
    lp = lp_relaxation(m.problem)
    bound = lp.objective if lp.status == "optimal" else None
    d = core_data(m)
    if bound is None or d is None or seconds <= 0:
        return bound, "LP"
    lag = optimise(d, upper=upper, seconds=seconds, lam0=lp_duals(m, d, lp))
    if np.isfinite(lag.bound) and lag.bound > bound:
        return lag.bound, "Lagrangian"
    return bound, "LP"


def _most_members(cost: np.ndarray, w: np.ndarray, cap: float) -> np.ndarray:
    """For each site j: the most other practices that fit in one hub there (the
    smallest of those that may join j, added until the band's upper limit)."""
    n = len(w)
    out = np.zeros(n)
    for j in range(n):
        others = np.sort(w[np.isfinite(cost[:, j]) & (np.arange(n) != j)])
        out[j] = np.searchsorted(np.cumsum(others), cap - w[j] + 1e-9, side="right")
    return out


@dataclass
class Subproblem:
    """Everything the Lagrangian subproblem gives at one ``lam``."""

    lam: np.ndarray
    value: float  # L(lam)
    site_value: np.ndarray  # v_j
    selected: np.ndarray  # bool per site
    x: np.ndarray  # bool n x n: x_ij of the subproblem optimum (selected sites only)
    dp: np.ndarray  # knapsack values per site and room


def _knapsacks(d: CoreData, red: np.ndarray, *, want_take: bool):
    """DP over items for all sites at once: dp[j, r] = min sum of red[i, j] over sets of
    items i != j of total units exactly r. Returns dp and (optionally) take[i, j, r]: item i
    improved site j's table at room r (for backtracking)."""
    n = len(d.codes)
    rmax = max(0, int(d.room.max()))
    dp = np.full((n, rmax + 1), np.inf)
    dp[:, 0] = 0.0
    take = np.zeros((n, n, rmax + 1), dtype=bool) if want_take else None
    banded = bool((d.room_lo > 0).any())
    for i in range(n):
        r = red[i]  # over sites
        # Items of positive reduced cost only matter when a lower limit must be reached.
        cols = np.flatnonzero(np.isfinite(r) if banded else r < -1e-12)
        u = int(d.units[i])
        if cols.size == 0 or u > rmax:
            continue
        sub = dp[cols, u:]
        cand = dp[cols, : rmax + 1 - u] + r[cols, None]
        better = cand < sub - 1e-12
        dp[cols, u:] = np.where(better, cand, sub)
        if take is not None:
            take[i, cols, u:] = better
    return dp, take


def select_sites(d: CoreData, v: np.ndarray) -> np.ndarray:
    """The cheapest site set allowed by the hub count (forced sites in, others by v)."""
    n = len(v)
    sel = d.forced.copy()
    order = [j for j in np.argsort(v, kind="stable") if not sel[j] and np.isfinite(v[j])]
    count = int(sel.sum())
    for j in order:
        if count >= d.hi or (count >= d.lo and v[j] >= 0):
            break
        sel[j] = True
        count += 1
    if count < d.lo or count > d.hi:
        sel[:] = False  # infeasible subproblem
        return np.zeros(n, dtype=bool) if count < d.lo else sel
    return sel


def evaluate(d: CoreData, lam: np.ndarray, *, want_x: bool = True) -> Subproblem:
    n = len(d.codes)
    red = d.cost - lam[:, None]  # inf stays inf
    diag = np.diag(red).copy()
    np.fill_diagonal(red, np.inf)  # a site is not an item of its own knapsack
    dp, take = _knapsacks(d, red, want_take=want_x)
    v = np.full(n, np.inf)
    best_r = np.zeros(n, dtype=int)
    for j in np.flatnonzero(d.room >= 0):
        lo, hi = int(d.room_lo[j]), int(d.room[j])
        k = int(np.argmin(dp[j, lo : hi + 1]))
        best_r[j] = lo + k
        v[j] = diag[j] + dp[j, lo + k]
    sel = select_sites(d, v)
    if sel.sum() < d.lo or not np.isfinite(v[sel]).all():
        value = np.inf
    else:
        value = float(lam.sum() + v[sel].sum())
    x = np.zeros((n, n), dtype=bool)
    if want_x and np.isfinite(value):
        for j in np.flatnonzero(sel):
            x[j, j] = True
            r = int(best_r[j])
            tj = take[:, j, :]
            for i in np.flatnonzero(tj.any(axis=1))[::-1]:
                if tj[i, r]:
                    x[i, j] = True
                    r -= int(d.units[i])
    return Subproblem(lam=lam, value=value, site_value=v, selected=sel, x=x, dp=dp)


@dataclass
class LagrangeResult:
    bound: float  # best L(lambda) (rounded up when the objective is integral)
    raw_bound: float
    lam: np.ndarray
    iterations: int
    seconds: float
    history: list[float] = field(default_factory=list)


def _round_bound(d: CoreData, value: float) -> float:
    if d.integral and np.isfinite(value):
        return float(math.ceil(value - 1e-6 * max(1.0, abs(value))))
    return value


def optimise(
    d: CoreData,
    *,
    upper: float | None = None,
    iterations: int = 1500,
    seconds: float = 10.0,
    patience: int = 20,
    mu0: float = 2.0,
    min_step: float = 1e-3,
    lam0: np.ndarray | None = None,
) -> LagrangeResult:
    """Subgradient optimisation of L(lambda) from ``lam0`` (default: each practice's
    cheapest other site), with Polyak steps toward ``upper`` (a plan's value, where
    known); stops when the bound meets ``upper``, the subproblem's solution is
    feasible, the step vanishes, or after ``iterations`` or ``seconds``."""
    start = time.perf_counter()
    n = len(d.codes)
    if lam0 is not None:
        lam = np.asarray(lam0, dtype=float).copy()
    else:  # each practice's cheapest other site (0 where it has none)
        off = d.cost.copy()
        np.fill_diagonal(off, np.inf)
        lam = off.min(axis=1, initial=np.inf) if n > 1 else np.zeros(n)
        lam[~np.isfinite(lam)] = 0.0
    best = LagrangeResult(-np.inf, -np.inf, lam.copy(), 0, 0.0)
    mu, stall = mu0, 0
    it = 0
    for it in range(1, iterations + 1):  # noqa: B007
        sp = evaluate(d, lam)
        if not np.isfinite(sp.value):
            break
        best.history.append(sp.value)
        if sp.value > best.raw_bound + 1e-9:
            best.raw_bound, best.lam = sp.value, lam.copy()
            best.bound = _round_bound(d, sp.value)
            stall = 0
        else:
            stall += 1
            if stall >= patience:
                mu, stall = mu / 2, 0
        if upper is not None and best.bound >= upper - 1e-9:
            break  # proven
        g = 1.0 - sp.x.sum(axis=1)
        norm = float(g @ g)
        if norm == 0:
            break  # the subproblem's solution is feasible: optimal
        target = upper if upper is not None else sp.value + 0.05 * max(1.0, abs(sp.value))
        step = mu * max(target - sp.value, 1e-3 * max(1.0, abs(sp.value))) / norm
        lam = lam + step * g
        if mu < min_step or time.perf_counter() - start > seconds:
            break
    best.iterations = it
    best.seconds = time.perf_counter() - start
    return best
