r"""Lagrangian bound, exact Lagrangian fixing and a Lagrangian heuristic for the core model.

Applies to a :class:`~hubopt.model.HubModel` from :func:`~hubopt.model.build_model`
whose rule families (:attr:`~hubopt.model.HubModel.rules`) are only the core ones
(:data:`~hubopt.model.program.CORE_FAMILIES`: ``assign_once`` as equalities,
``join_open_site``, ``population_max``/``population_min``, ``singleton_site``,
``fixed_site``, ``hub_count``) and whose objective is a linear function of the
assignment variables; :func:`core_data` returns None for anything else (extra rules,
soft bands, optional practices), and callers then skip this module.

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

Fixing: forcing :math:`x_{ij} = 1` turns :math:`v_j` into at least :math:`c_{jj} -
\lambda_j + (c_{ij} - \lambda_i) + K_j(U - w_j - w_i)` (the knapsack with less room; it
may still count :math:`i` again, which only lowers it) and forces :math:`j` into
:math:`S`. When that bound exceeds the threshold (the incumbent's value; minus 1 when
every solution has an integer objective), no solution better than the incumbent (resp.
strictly better) uses :math:`x_{ij}`, which is fixed to 0; likewise a site whose
forced opening pushes the bound over. With the integral rule the incumbent itself may be
cut off: then the reduced problem holds only strictly better solutions, and if it has
none the incumbent is optimal.

Multipliers follow subgradient optimisation with Polyak steps toward the incumbent.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pulp

from hubopt import model
from hubopt.model import HubModel
from hubopt.solver import reduce as reduce_mod

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
    for j in range(n):  # a singleton has no band rows: only itself
        if codes[j] in m.singletons:
            room[j], room_lo[j] = 0, 0
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
        integral=reduce_mod.objective_is_integral(prob),
        var=var,
    )


def lp_duals(m: HubModel, d: CoreData, lp: reduce_mod.LPRelaxation) -> np.ndarray | None:
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
    lp = reduce_mod.lp_relaxation(m.problem)
    bound = lp.objective if lp.status == "optimal" else None
    d = core_data(m)
    if bound is None or d is None or seconds <= 0:
        return bound, "LP"
    lag = optimise(m, d, upper=upper, seconds=seconds, lam0=lp_duals(m, d, lp), max_heuristics=0)
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


def forced_totals(d: CoreData, sp: Subproblem) -> np.ndarray:
    """For each site j: min of sum v over allowed site sets that contain j."""
    v, sel = sp.site_value, sp.selected
    base = float(v[sel].sum())
    count = int(sel.sum())
    free_sel = sel & ~d.forced
    worst = float(v[free_sel].max()) if free_sel.any() else None
    out = np.full(len(v), np.inf)
    out[sel] = base
    rest = ~sel & np.isfinite(v)
    if count < d.hi:
        out[rest] = np.minimum(out[rest], base + v[rest])
    if worst is not None:
        out[rest] = np.minimum(out[rest], base - worst + v[rest])
    return out


@dataclass
class LagrangeResult:
    bound: float  # best L(lambda) (rounded up when the objective is integral)
    raw_bound: float
    lam: np.ndarray
    incumbent: pd.Series | None
    incumbent_value: float | None
    iterations: int
    seconds: float
    history: list[float] = field(default_factory=list)
    site_sets: list[np.ndarray] = field(default_factory=list)


def _round_bound(d: CoreData, value: float) -> float:
    if d.integral and np.isfinite(value):
        return float(math.ceil(value - 1e-6 * max(1.0, abs(value))))
    return value


def optimise(
    m: HubModel,
    d: CoreData,
    *,
    upper: float | None = None,
    incumbent: pd.Series | None = None,
    iterations: int = 1500,
    seconds: float = 10.0,
    max_heuristics: int = 50,
    patience: int = 20,
    mu0: float = 2.0,
    min_step: float = 1e-3,
    lam0: np.ndarray | None = None,
) -> LagrangeResult:
    """Subgradient optimisation of L(lambda) from ``lam0`` (default: each practice's
    cheapest other site); a Lagrangian heuristic on the way."""
    from hubopt.solver import heuristic

    start = time.perf_counter()
    n = len(d.codes)
    if lam0 is not None:
        lam = np.asarray(lam0, dtype=float).copy()
    else:  # each practice's cheapest other site (0 where it has none)
        off = d.cost.copy()
        np.fill_diagonal(off, np.inf)
        lam = off.min(axis=1, initial=np.inf) if n > 1 else np.zeros(n)
        lam[~np.isfinite(lam)] = 0.0
    best = LagrangeResult(-np.inf, -np.inf, lam.copy(), incumbent, upper, 0, 0.0)
    tried: set[frozenset[int]] = set()
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
        key = frozenset(np.flatnonzero(sp.selected).tolist())
        improved = stall == 0
        if improved and it >= 30 and key not in tried and len(tried) < max_heuristics:
            tried.add(key)
            best.site_sets.append(sp.selected.copy())
            a, val = heuristic.from_sites(m, [d.codes[j] for j in key])
            if a is not None and (best.incumbent_value is None or val < best.incumbent_value):
                best.incumbent, best.incumbent_value = a, val
        ub = best.incumbent_value
        if ub is not None and best.bound >= ub - 1e-9:
            break  # proven
        g = 1.0 - sp.x.sum(axis=1)
        norm = float(g @ g)
        if norm == 0:
            break  # the subproblem's solution is feasible: optimal
        target = ub if ub is not None else sp.value + 0.05 * max(1.0, abs(sp.value))
        step = mu * max(target - sp.value, 1e-3 * max(1.0, abs(sp.value))) / norm
        lam = lam + step * g
        if mu < min_step or time.perf_counter() - start > seconds:
            break
    best.iterations = it
    best.seconds = time.perf_counter() - start
    return best


def fix(
    d: CoreData, lam: np.ndarray, upper: float, *, integral: bool | None = None
) -> reduce_mod.Fixing:
    """Fix to 0 every x_ij (and site) whose forcing pushes L(lam) above the threshold.

    Threshold: ``upper`` (keeps every solution as good as the incumbent), or
    ``upper - 1`` with ``integral`` (keeps only strictly better ones). Exact.
    """
    integral = d.integral if integral is None else integral
    sp = evaluate(d, lam, want_x=False)
    threshold = upper - (1.0 if integral else 0.0)
    threshold += 1e-6 * max(1.0, abs(upper))
    out = reduce_mod.Fixing(lower_bound=sp.value, upper_bound=upper, threshold=threshold)
    if not np.isfinite(sp.value):
        return out
    n = len(d.codes)
    ft = forced_totals(d, sp)
    site_bound = lam.sum() + ft  # per site j
    red = d.cost - lam[:, None]
    closed = (site_bound > threshold) & ~d.forced
    # forcing x_ij: v_j -> c_jj - lam_j + red_ij + min of K_j over the range shifted by u_i
    kn = np.full((n, n), np.inf)
    uniq = np.unique(d.units)
    for j in np.flatnonzero(d.room >= 0):
        lo, hi = int(d.room_lo[j]), int(d.room[j])
        by_u = {}
        for u in uniq:
            a, b = max(0, lo - int(u)), hi - int(u)
            by_u[int(u)] = float(sp.dp[j, a : b + 1].min()) if b >= 0 else np.inf
        kn[:, j] = [by_u[int(u)] for u in d.units]
    feasible = np.isfinite(kn)
    vij = np.diag(red)[None, :] + red + kn
    with np.errstate(invalid="ignore"):
        pair_bound = lam.sum() + ft[None, :] - sp.site_value[None, :] + vij
    for (i, j), v in d.var.items():
        if v.lowBound == v.upBound:
            continue
        if i == j:
            kill = closed[j]
        else:
            kill = closed[j] or not feasible[i, j] or bool(pair_bound[i, j] > threshold)
        if kill:
            out.fixed.append((v, v.lowBound, v.upBound))
            v.upBound = 0
    return out
