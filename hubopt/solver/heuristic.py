"""A fast incumbent for the hub model: capacitated locate-allocate with local search.

Used as a warm start and as the upper bound for :mod:`hubopt.solver.reduce`. It reads the
costs from the model's own objective (so patient-weighted or unweighted alike) and
respects eligibility (only pairs with a variable), the band's upper limit, fixed-size
singleton hubs and the number of hubs. The result is only a candidate: the caller
checks it against the whole problem before trusting it as a bound.

Steps
-----
1. Sites: the ``p`` candidates with the largest site value in the LP relaxation
   (or, without one, a greedy uncapacitated p-median; or given, :func:`from_sites`,
   e.g. by a Lagrangian subproblem).
2. Allocation: regret greedy. Practices with the largest gap between their best and
   second-best site with room go first, each to its cheapest site with room.
3. Local search until nothing improves: move one practice to another hub, swap two
   practices between hubs, move a hub's site to the member that minimises its cost
   (then re-allocate).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hubopt.model import HubModel

_BIG = 1e30


def _cost_matrix(m: HubModel) -> np.ndarray:
    """Cost of assigning practice i to site j (objective coefficient), inf if no variable."""
    codes = m.practices
    pos = {c: k for k, c in enumerate(codes)}
    cost = np.full((len(codes), len(codes)), np.inf)
    coef = m.problem.objective
    for (i, j), v in m.x.items():
        cost[pos[i], pos[j]] = coef.get(v, 0.0)
    return cost


def greedy_sites(cost: np.ndarray, p: int) -> list[int]:
    """Greedy uncapacitated p-median: add the site that lowers total cost most."""
    n = cost.shape[0]
    c = np.where(np.isinf(cost), _BIG, cost)
    best = np.full(n, _BIG)
    sites: list[int] = []
    for _ in range(p):
        totals = np.minimum(best[:, None], c).sum(axis=0)
        totals[sites] = np.inf
        j = int(np.argmin(totals))
        sites.append(j)
        best = np.minimum(best, c[:, j])
    return sites


def _allocate(cost: np.ndarray, w: np.ndarray, sites: list[int], cap: float) -> np.ndarray | None:
    """Regret-greedy capacitated allocation to ``sites``; each site serves itself."""
    n = cost.shape[0]
    assign = np.full(n, -1)
    load = {j: 0.0 for j in sites}
    for j in sites:
        assign[j] = j
        load[j] += w[j]
        if load[j] > cap + 1e-9:
            return None
    sub = cost[:, sites]
    site_arr = np.array(sites)
    room = np.array([cap - load[j] for j in sites])
    todo = np.array([i for i in range(n) if assign[i] < 0], dtype=int)
    while todo.size:
        ok = (w[todo, None] <= room[None, :] + 1e-9) & np.isfinite(sub[todo])
        if not ok.any(axis=1).all():
            return None
        c = np.where(ok, sub[todo], np.inf)
        if c.shape[1] > 1:
            two = np.partition(c, 1, axis=1)[:, :2]
            first, second = two[:, 0], np.where(np.isfinite(two[:, 1]), two[:, 1], _BIG)
        else:
            first, second = c[:, 0], np.full(len(todo), _BIG)
        k = int(np.argmax(second - first))  # largest regret first (ties: lowest index)
        i = int(todo[k])
        col = int(np.argmin(c[k]))
        assign[i] = site_arr[col]
        room[col] -= w[i]
        todo = np.delete(todo, k)
    return assign


def _total(cost: np.ndarray, assign: np.ndarray) -> float:
    return float(cost[np.arange(len(assign)), assign].sum())


def _improve(cost: np.ndarray, w: np.ndarray, assign: np.ndarray, cap: float) -> np.ndarray:
    """Shift and swap moves (sites stay where they are) until none improves."""
    n = len(assign)
    sites = sorted(set(assign.tolist()))
    load = {j: float(w[assign == j].sum()) for j in sites}
    improved = True
    while improved:
        improved = False
        for i in range(n):
            a = assign[i]
            if a == i:
                continue
            for j in sites:
                if j == a or load[j] + w[i] > cap + 1e-9:
                    continue
                if cost[i, j] < cost[i, a] - 1e-9:
                    load[a] -= w[i]
                    load[j] += w[i]
                    assign[i] = a = j
                    improved = True
        for i in range(n):
            for k in range(i + 1, n):
                a, b = assign[i], assign[k]
                if a == b or a == i or b == k:
                    continue
                delta = cost[i, b] + cost[k, a] - cost[i, a] - cost[k, b]
                if delta < -1e-9 and load[a] - w[i] + w[k] <= cap + 1e-9:
                    if load[b] - w[k] + w[i] <= cap + 1e-9:
                        load[a] += w[k] - w[i]
                        load[b] += w[i] - w[k]
                        assign[i], assign[k] = b, a
                        improved = True
    return assign


def locate_allocate(
    cost: np.ndarray,
    w: np.ndarray,
    sites: list[int],
    cap: float,
    *,
    fixed_sites: frozenset[int] = frozenset(),
    max_rounds: int = 50,
) -> np.ndarray | None:
    """Allocate, improve, re-site each hub at its best member, repeat while it pays."""
    assign = _allocate(cost, w, sites, cap)
    if assign is None:
        return None
    assign = _improve(cost, w, assign, cap)
    best = _total(cost, assign)
    for _ in range(max_rounds):
        new_sites = []
        for j in sorted(set(assign.tolist())):
            members = np.flatnonzero(assign == j)
            if j in fixed_sites:
                new_sites.append(j)
                continue
            totals = cost[np.ix_(members, members)].sum(axis=0)
            new_sites.append(int(members[int(np.argmin(totals))]))
        if sorted(new_sites) == sorted(set(assign.tolist())):
            break
        trial = _allocate(cost, w, new_sites, cap)
        if trial is None:
            break
        trial = _improve(cost, w, trial, cap)
        value = _total(cost, trial)
        if value >= best - 1e-9:
            break
        assign, best = trial, value
    return assign


def incumbent(
    m: HubModel,
    *,
    n_hubs: int,
    site_scores: pd.Series | None = None,
) -> pd.Series | None:
    """A good feasible-looking assignment (practice -> site), or None if none found.

    ``site_scores`` (e.g. the LP values of the site variables) rank the candidate
    sites; without them a greedy p-median picks them. The band's lower limit is
    checked at the end (the heuristic does not aim for it).
    """
    codes, pos, cost, w, fixed = _arrays(m)
    if site_scores is not None:
        ranked = [pos[c] for c in site_scores.sort_values(ascending=False, kind="stable").index]
        ranked = [j for j in ranked if j not in fixed]
        sites = sorted(fixed) + ranked[: max(0, n_hubs - len(fixed))]
    else:
        sites = sorted(fixed)
        free = greedy_sites(cost, n_hubs)
        sites += [j for j in free if j not in fixed][: max(0, n_hubs - len(fixed))]
    if len(sites) != n_hubs:
        return None
    assign = locate_allocate(cost, w, sites, m.pop_max, fixed_sites=fixed)
    if assign is None or not np.isfinite(_total(cost, assign)):
        return None
    if m.pop_min > 0:
        for j in set(assign.tolist()):
            if j not in fixed and w[assign == j].sum() < m.pop_min - 1e-9:
                return None
    return pd.Series([codes[a] for a in assign], index=codes, name="hub_site", dtype=object)


def _arrays(m: HubModel):
    """Codes, their positions, the cost matrix (a singleton serves only itself: nobody
    else may join it), weights and the singleton positions."""
    codes = m.practices
    pos = {c: k for k, c in enumerate(codes)}
    cost = _cost_matrix(m)
    w = m.weights.reindex(codes).to_numpy(dtype=float)
    fixed = frozenset(pos[s] for s in m.singletons)
    for s in fixed:
        col = cost[:, s].copy()
        cost[:, s] = np.inf
        cost[s, s] = col[s]
    return codes, pos, cost, w, fixed


def from_sites(m: HubModel, sites: list[str]) -> tuple[pd.Series | None, float | None]:
    """Locate-allocate started from the given sites (e.g. a Lagrangian subproblem's):
    the assignment and its objective, or (None, None). Singletons are always sites."""
    codes, pos, cost, w, fixed = _arrays(m)
    chosen = sorted(fixed | {pos[s] for s in sites})
    assign = locate_allocate(cost, w, chosen, m.pop_max, fixed_sites=fixed)
    if assign is None:
        return None, None
    value = _total(cost, assign)
    if not np.isfinite(value):
        return None, None
    if m.pop_min > 0:
        for j in set(assign.tolist()):
            if j not in fixed and w[assign == j].sum() < m.pop_min - 1e-9:
                return None, None
    return pd.Series([codes[a] for a in assign], index=codes, name="hub_site", dtype=object), value
