"""Large areas: a valid plan in seconds, then improved exactly, a few hubs at a time.

Both steps solve parts of the area with the model code itself
(:func:`hubopt.model.build` on the part's practices, :func:`hubopt.solver.stages.solve_stages`
on that small model), so every rule of the scenario holds by construction: band and
soft band modes, cap, contiguity (through the part's own neighbours, which is
stricter, never looser), singletons, locked and apart groups, fixed and candidate
sites, site-only rows, ``within`` zones, optional practices, and the hub count (each
part gets the range left by the hubs outside it).

1. **Construct** (:func:`construct`): the area is cut into pieces of a few hubs'
   population by recursive bisection of the practices' positions (each ``within``
   zone and each locked group stays whole) and each piece is solved on its own. Under
   a strict band a piece is solved with an elastic band, so that it always has a
   plan; the breaches are then the first thing the search removes (a plan is valid
   only once they are gone). A hub count is shared among the pieces by population
   (largest remainders), so the pieces' counts add up within the range. A piece with
   no plan is merged with the piece beside it and solved again.
2. **Improve** (:func:`improve`): a large-neighbourhood search. A neighbourhood is a
   hub and the hubs around it (sharing a practice border, or nearest by site), up to
   :data:`NEIGHBOURHOOD_PRACTICES` practices; their practices are freed and the small
   problem is solved exactly with the rest of the plan held, warm-started from the
   current plan. The new part is kept only when the whole plan's stage values (band
   breach, patients left out, the objectives, weighted travel; see
   :func:`Instance.values`) improve lexicographically. The search stops when a full
   round of neighbourhoods improves nothing, or at the deadline (in a repeatable run,
   also after a fixed amount of work: :class:`hubopt.solver.instance.Budget`).

The merge-and-re-split move is GerryChain's ReCom idea with the exact model doing the
split; the search never makes a plan worse and never breaks a rule.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from hubopt import model
from hubopt.solver import greedy
from hubopt.solver.instance import (
    PART_SECONDS_REPEATABLE,
    Budget,
    Instance,
    Values,
    better,
    positions,
    solve_part,
)
from hubopt.text import plural

#: Population of a construction piece, in hubs at the band's upper limit.
PIECE_HUBS = 5
#: Most practices freed at once by the search.
NEIGHBOURHOOD_PRACTICES = 30
#: Seconds for one piece or neighbourhood solve at most.
PART_SECONDS = 3.0
#: Seconds a neighbourhood's solve takes beyond its solver's time limit (writing,
#: starting and reading the solver) until one is seen to take more: kept free so the
#: search ends by its deadline.
PART_OVERHEAD = 0.5
#: Hubs nearest by site always count as around a hub (besides shared borders).
NEAREST_HUBS = 3
# --- construction -------------------------------------------------------------------


def pieces(inst: Instance, *, target: float) -> list[list[str]]:
    """Cut the area into pieces of at most ``target`` patients (where it can): each
    ``within`` zone apart, then recursive bisection at the population's median along
    the longer side. Locked groups stay whole."""
    p = inst.practices
    s = inst.scenario
    item = pd.Series(p.index, index=p.index)
    for group in s.locked_groups:
        members = [c for c in group if c in item.index]
        if members:
            item[members] = members[0]
    zones = p[s.within].astype(str) if s.within else pd.Series("", index=p.index)
    xy = pd.DataFrame(positions(p), index=p.index, columns=["x", "y"])
    sizes = p["list_size"].astype(float)
    out: list[list[str]] = []

    def split(keys: list[str]) -> None:
        members = item.index[item.isin(keys)]
        if sizes[members].sum() <= target or len(keys) == 1:
            out.append(list(members))
            return
        pos = xy.loc[members].groupby(item[members]).mean()
        pop = sizes[members].groupby(item[members]).sum()
        axis = "x" if np.ptp(pos["x"]) >= np.ptp(pos["y"]) else "y"
        order = pos[axis].sort_values(kind="stable").index
        cum = pop[order].cumsum().to_numpy()
        cut = int(np.searchsorted(cum, cum[-1] / 2)) + 1
        cut = min(max(cut, 1), len(order) - 1)
        split(list(order[:cut]))
        split(list(order[cut:]))

    for zone in sorted(zones.unique()):
        in_zone = zones.index[zones.to_numpy() == zone]
        split(sorted(set(item[in_zone])))
    return out


def apportion(total: int | None, weights: list[float]) -> list[int | None]:
    """Split ``total`` into whole numbers proportional to ``weights`` (largest
    remainders); None stays None."""
    if total is None:
        return [None] * len(weights)
    w = np.asarray(weights, dtype=float)
    share = total * w / w.sum() if w.sum() > 0 else np.full(len(w), total / max(len(w), 1))
    base = np.floor(share).astype(int)
    for k in np.argsort(-(share - base), kind="stable")[: total - int(base.sum())]:
        base[k] += 1
    return [int(v) for v in base]


def _part_seconds(budget: Budget | None) -> float:
    """Seconds one piece or neighbourhood solve may take at most: in a repeatable run
    its node limit ends it first, so the clock is only the safety net."""
    return PART_SECONDS_REPEATABLE if budget is not None and budget.repeatable else PART_SECONDS


def construct(
    inst: Instance,
    *,
    deadline: float,
    threads: int = 1,
    solver: str = "cbc",
    report: Callable[[str], None] | None = None,
    budget: Budget | None = None,
) -> pd.Series | None:
    """A first plan for the whole area: grown hub by hub (:func:`hubopt.solver.greedy.grow`)
    where the greedy can, else piece by piece (see the module docstring); None when
    some piece has no plan even merged with the rest, or time ran out."""
    plan = greedy.grow(inst)
    if plan is not None:
        return plan
    s = inst.scenario
    band = "elastic" if s.band == "strict" else None
    todo = pieces(inst, target=PIECE_HUBS * s.population_max)
    most = _part_seconds(budget)
    plan = pd.Series(np.nan, index=inst.practices.index, dtype=object)
    while todo:
        sizes = [float(inst.practices.loc[c, "list_size"].sum()) for c in todo]
        lo, hi = inst.hub_range_left(int(plan.dropna().nunique()))  # left for the pieces
        los = apportion(None if lo is None else max(lo, 0), sizes)
        his = apportion(None if hi is None else max(hi, 0), sizes)
        hub_range = (los[0], his[0] if los[0] is None or his[0] is None else max(his[0], los[0]))
        codes = todo[0]
        left = deadline - time.perf_counter()
        if left <= 0:
            if budget is not None:
                budget.stopped("first plan")
            return None
        part = inst.part(codes, hub_range=hub_range, band=band)
        got = None
        if part is not None:
            got = solve_part(
                part, seconds=min(most, left), threads=threads, solver=solver, budget=budget,
            )  # fmt: skip
        if got is None:
            if len(todo) == 1:
                return None
            todo = [codes + todo[1], *todo[2:]]  # merge with the next piece, try again
            continue
        plan[got.index] = got
        if report is not None:
            hubs = plural(int(got.dropna().nunique()), "hub")
            report(f"piece of {plural(len(codes), 'practice')}: {hubs}")
        todo = todo[1:]
    return plan


# --- improvement --------------------------------------------------------------------


def hub_members(plan: pd.Series) -> dict[str, list[str]]:
    a = plan.dropna()
    return {site: list(m) for site, m in a.groupby(a).groups.items()}


def hubs_around(
    inst: Instance, plan: pd.Series, hubs: dict[str, list[str]]
) -> dict[str, list[str]]:
    """For each hub site, the other hub sites around it: sharing a practice border,
    then the nearest by minutes between sites; nearest first."""
    of = plan.dropna()
    near: dict[str, set[str]] = {h: set() for h in hubs}
    if inst.neighbours is not None:
        for a, b in inst.neighbours.edges():
            ha, hb = of.get(a), of.get(b)
            if ha is not None and hb is not None and ha != hb:
                near[ha].add(hb)
                near[hb].add(ha)
    sites = list(hubs)
    t = inst.minutes.loc[sites, sites].to_numpy()
    t = np.minimum(t, t.T)
    out = {}
    for k, h in enumerate(sites):
        order = [sites[j] for j in np.argsort(t[k], kind="stable") if sites[j] != h]
        near[h] |= set(order[:NEAREST_HUBS])
        out[h] = sorted(near[h], key=lambda g: t[k, sites.index(g)])
    return out


def neighbourhood(seed: str, hubs: dict[str, list[str]], around: dict[str, list[str]]) -> list[str]:
    """The seed hub and the hubs around it, nearest first, while they fit in
    :data:`NEIGHBOURHOOD_PRACTICES` practices (always at least two hubs)."""
    chosen = [seed]
    size = len(hubs[seed])
    for h in around[seed]:
        if len(chosen) >= 2 and size + len(hubs[h]) > NEIGHBOURHOOD_PRACTICES:
            continue
        chosen.append(h)
        size += len(hubs[h])
    return chosen


def _loose(inst: Instance, plan: pd.Series, freed: list[str]) -> list[str]:
    """Rows in no hub (optional practices left out, closed candidate sites) within the
    cap of a freed practice: they may join or open a hub in the neighbourhood."""
    out = plan.index[plan.isna()]
    if not len(out) or not freed:
        return []
    t = inst.minutes.loc[out, freed].to_numpy()
    return list(out[(t <= inst.scenario.travel_cap_minutes).any(axis=1)])


def _part_band(
    inst: Instance, hubs: dict[str, list[str]], chosen: list[str], singles: frozenset[str]
) -> str:
    """The band mode for a neighbourhood: strict when its hubs are all within the band
    already (no plan the search keeps may breach more, so this is the same problem with
    one objective stage fewer), else elastic under a strict band (the breach is what
    to remove first) or the scenario's soft mode."""
    s = inst.scenario
    sizes = inst.practices["list_size"]
    loads = [float(sizes[hubs[h]].sum()) for h in chosen if h not in singles]
    if all(s.population_min <= w <= s.population_max for w in loads):
        return "strict"
    return "elastic" if s.band == "strict" else s.band


def improve(
    inst: Instance,
    plan: pd.Series,
    *,
    deadline: float,
    threads: int = 1,
    solver: str = "cbc",
    seed: int = 0,
    report: Callable[[Values, pd.Series], None] | None = None,
    budget: Budget | None = None,
    work: int | None = None,
) -> pd.Series:
    """Large-neighbourhood search from ``plan`` until a round improves nothing, the
    deadline, or (where given: a work limit) ``work`` more of the budget's work (see
    :class:`hubopt.solver.instance.Budget` and the module docstring). Never returns a
    worse plan; ``report`` hears of every better one. Ctrl-C raises
    :class:`Interrupted` with the best plan."""
    holder = [plan]
    budget = budget if budget is not None else Budget()
    try:
        return _search(inst, holder, deadline=deadline, threads=threads, solver=solver,
                       seed=seed, report=report, budget=budget, work=work)  # fmt: skip
    except KeyboardInterrupt:
        raise Interrupted(holder[0]) from None


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during the search; ``plan`` is the best plan found so far."""

    def __init__(self, plan: pd.Series):
        super().__init__("interrupted")
        self.plan = plan


def _search(
    inst: Instance,
    holder: list[pd.Series],
    *,
    deadline: float,
    threads: int,
    solver: str,
    seed: int,
    report: Callable[[Values, pd.Series], None] | None,
    budget: Budget,
    work: int | None,
) -> pd.Series:
    plan = holder[0]
    rng = np.random.default_rng(seed)
    value = inst.values(plan)
    singles = model.singleton_practices(inst.practices, inst.scenario)
    stale: set[frozenset[str]] = set()  # neighbourhoods solved with no gain since
    extra = PART_OVERHEAD  # the most a solve took beyond its time limit so far
    until = None if work is None else budget.work + work
    part_seconds = _part_seconds(budget)
    while True:
        if time.perf_counter() >= deadline:
            budget.stopped("neighbourhood search")
            break
        hubs = hub_members(plan)
        around = hubs_around(inst, plan, hubs)
        gained = False
        for hub in rng.permutation(sorted(hubs)):
            if hub not in hubs:
                continue  # changed earlier in this round
            chosen = neighbourhood(hub, hubs, around)
            freed = [c for h in chosen for c in hubs[h]]
            key = frozenset(freed)
            if key in stale:
                continue
            left = deadline - time.perf_counter() - extra
            if left <= 0.5:
                budget.stopped("neighbourhood search")
                return plan
            if until is not None and budget.work >= until:
                return plan
            codes = freed + _loose(inst, plan, freed)
            part = inst.part(
                codes,
                hub_range=inst.hub_range_left(len(hubs) - len(chosen)),
                band=_part_band(inst, hubs, chosen, singles),
            )
            got = None
            if part is not None:
                began, seconds = time.perf_counter(), min(part_seconds, left)
                got = solve_part(
                    part,
                    seconds=seconds,
                    warm=plan.reindex(part.practices.index),
                    threads=threads,
                    solver=solver,
                    budget=budget,
                )
                extra = max(extra, time.perf_counter() - began - seconds)
            if got is None:
                stale.add(key)
                continue
            trial = plan.copy()
            trial[got.index] = got
            new = inst.values(trial)
            if better(new, value):
                plan, value, gained = trial, new, True
                holder[0] = plan
                if report is not None:
                    report(value, plan)
                hubs = hub_members(plan)
                around = hubs_around(inst, plan, hubs)
                stale = {k for k in stale if not (k & set(codes))}
            else:
                stale.add(key)
        if not gained:
            break
    return plan
