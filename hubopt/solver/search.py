"""The neighbourhood search: a plan improved exactly, a few hubs at a time.

:func:`improve` is a large-neighbourhood search. A neighbourhood is a hub and the
hubs around it (sharing a practice border, or nearest by site), up to
:data:`NEIGHBOURHOOD_PRACTICES` practices; their practices are freed and the small
problem is solved exactly with the rest of the plan held, warm-started from the
current plan, with the model code itself and through the same door as the whole area
(:func:`hubopt.solver.instance.solve_part`), so every rule of the scenario holds by
construction: band and soft band modes, cap, contiguity (through the part's own
neighbours, which is stricter, never looser), singletons, locked and apart groups,
fixed and candidate sites, site-only rows, ``within`` zones, optional practices, and
the hub count (each part gets the range left by the hubs outside it). The new part is
kept only when the whole plan's stage values (band breach, patients left out, the
objectives, weighted travel; see :meth:`Instance.values
<hubopt.solver.instance.Instance.values>`) improve lexicographically. The search stops
when a full round of neighbourhoods improves nothing, at the clock's deadline, or (a
repeatable run) after a fixed amount of work (:mod:`hubopt.solver.clock`).

:func:`differing_start` is the same move aimed elsewhere: a few neighbouring hubs of
the best plan re-solved so that the plan differs from the earlier ones, a quick first
alternative for :mod:`hubopt.solver.choices`.

The merge-and-re-split move is GerryChain's ReCom idea with the exact model doing the
split; the search never makes a plan worse and never breaks a rule.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from hubopt import model
from hubopt.errors import HuboptError
from hubopt.model import alternatives as alternative_rows
from hubopt.solver.backends import Options
from hubopt.solver.clock import PART_SECONDS, Clock
from hubopt.solver.instance import Instance, Values, better, moved_among, solve_part
from hubopt.solver.stages import solve_model

#: Most practices freed at once by the search.
NEIGHBOURHOOD_PRACTICES = 30
#: Seconds a neighbourhood's solve takes beyond its solver's time limit (writing,
#: starting and reading the solver) until one is seen to take more: kept free so the
#: search ends by its deadline.
PART_OVERHEAD = 0.5
#: Hubs nearest by site always count as around a hub (besides shared borders).
NEAREST_HUBS = 3
#: Hubs re-solved together by :func:`differing_start` (small: each solve takes a second).
DIFFERING_HUBS = 3


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
    clock: Clock,
    options: Options,
    *,
    seed: int = 0,
    report: Callable[[Values, pd.Series], None] | None = None,
    work: int | None = None,
) -> pd.Series:
    """Large-neighbourhood search from ``plan`` until a round improves nothing,
    ``clock``'s deadline, or (where given: a work limit) ``work`` more of the clock's
    work (see the module docstring). Never returns a worse plan; ``report`` hears of
    every better one. Ctrl-C raises :class:`Interrupted` with the best plan."""
    holder = [plan]
    try:
        return _search(inst, holder, clock, options, seed=seed, report=report, work=work)
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
    clock: Clock,
    options: Options,
    *,
    seed: int,
    report: Callable[[Values, pd.Series], None] | None,
    work: int | None,
) -> pd.Series:
    plan = holder[0]
    rng = np.random.default_rng(seed)
    value = inst.values(plan)
    singles = model.singleton_practices(inst.practices, inst.scenario)
    stale: set[frozenset[str]] = set()  # neighbourhoods solved with no gain since
    extra = PART_OVERHEAD  # the most a solve took beyond its time limit so far
    until = None if work is None else clock.work + work
    part_seconds = clock.part_seconds()
    while True:
        if clock.left() <= 0:
            clock.stopped("neighbourhood search")
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
            left = clock.left() - extra
            if left <= 0.5:
                clock.stopped("neighbourhood search")
                return plan
            if until is not None and clock.work >= until:
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
                    part, clock, options, seconds=seconds, warm=plan.reindex(part.practices.index)
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


def differing_start(
    inst: Instance,
    plans: list[pd.Series],
    values: dict[str, float],
    clock: Clock,
    options: Options,
    *,
    within: float,
    differ: int,
    counted: set[str],
) -> pd.Series | None:
    """A first alternative, quickly: :data:`DIFFERING_HUBS` neighbouring hubs of the best
    plan (``plans[0]``, :func:`hubs_around`) re-solved exactly with the rest kept,
    grouped at least ``differ`` practices differently and within the tolerance; the
    first that also differs enough from every earlier plan. None if none is found by
    ``clock``'s deadline (the whole model then starts from nothing)."""
    best = plans[0]
    hubs = hub_members(best)
    around = hubs_around(inst, best, hubs)
    slack = within * values[model.stage_names(inst.practices, inst.scenario)[-1]]
    tried: set[frozenset[str]] = set()
    seeds = sorted(hubs, key=lambda h: (-len(hubs[h]), h))
    turn = (DIFFERING_HUBS * (len(plans) - 1)) % max(1, len(seeds))  # later plans look elsewhere
    for seed in seeds[turn:] + seeds[:turn]:
        chosen = [seed, *around[seed][: DIFFERING_HUBS - 1]]
        codes = [c for h in chosen for c in hubs[h]]
        left = clock.left()
        if left < 0.5:
            return None
        inside = counted & set(codes)
        if frozenset(codes) in tried or len(inside) < differ:
            continue
        tried.add(frozenset(codes))
        part = inst.part(codes, hub_range=inst.hub_range_left(len(hubs) - len(chosen)))
        if part is None:
            continue
        try:
            m = part.build()
        except HuboptError:
            continue
        here = part.stage_values(best.reindex(part.practices.index))
        last = list(here)[-1]
        alternative_rows.add_near_best(m, {**here, last: here[last] + slack}, 0.0)
        alternative_rows.add_differ(m, best, differ, inside, "local")
        r = solve_model(m, clock.within(min(PART_SECONDS, left)), options, stages=m.stages[-1:])
        if r.assignment is None:
            continue
        trial = best.copy()
        trial[r.assignment.index] = r.assignment
        if all(len(moved_among(trial, p, counted)) >= differ for p in plans):
            return trial
    return None
