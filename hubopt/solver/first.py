"""First plans for an area: grown hub by hub in well under a second, else piece by piece.

**Grown** (:func:`grow`): sites are taken from the edge of the area inwards (fixed
sites first, then the practice farthest from the area's centre), and each hub grows
from its site by adding the nearest free practice the model lets join it: a variable for the pair
(:func:`hubopt.model.scenario_pairs`: cap, candidate sites, zones, singletons) and,
under ``contiguous``, a member neighbour one step nearer the site (the model's own
shortest-path contiguity rows), while the hub stays within the upper band, until it
reaches the lower band. Locked groups join whole, apart groups never share a hub,
singletons are hubs on their own, site-only rows stay closed and optional practices
join where they can. A practice no hub took joins the nearest hub with room; hubs
left below the band are dissolved where every practice of theirs can join another hub.

The plan may still break a strict lower band (the neighbourhood search of
:mod:`hubopt.solver.search` removes that first). The greedy knows neither the hub
count nor the mean-travel cap: with either rule :func:`grow` returns None and the
construction goes piece by piece, as it does when a practice that must be in a hub is
left out.

**Piece by piece** (:func:`construct`): the area is cut into pieces of a few hubs'
population by recursive bisection of the practices' positions (each ``within`` zone
and each locked group stays whole) and each piece is solved on its own with the model
code itself (:func:`hubopt.solver.instance.solve_part`), so every rule holds by
construction. Under a strict band a piece is solved with an elastic band, so that it
always has a plan; the breaches are then the first thing the search removes (a plan
is valid only once they are gone). A hub count is shared among the pieces by
population (largest remainders), so the pieces' counts add up within the range. A
piece with no plan is merged with the piece beside it and solved again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import networkx as nx
import numpy as np
import pandas as pd

from hubopt import model
from hubopt.inputs import site_only_codes
from hubopt.solver.backends import Options
from hubopt.solver.clock import Clock
from hubopt.solver.instance import Instance, positions, solve_part
from hubopt.text import plural

#: Population of a construction piece, in hubs at the band's upper limit.
PIECE_HUBS = 5


class _Hubs:
    """Hubs being grown, with what the model allows (eligible pairs, hop distances)."""

    def __init__(self, inst: Instance):
        s, p = inst.scenario, inst.practices
        self.inst = inst
        self.w = p["list_size"].astype(float).to_dict()
        self.t = inst.minutes.loc[p.index, p.index]
        self.pos = {c: k for k, c in enumerate(p.index)}
        self.tt = self.t.to_numpy()
        pairs = model.scenario_pairs(inst.minutes, p, s, neighbours=inst.neighbours, hops=inst.hops)
        self.eligible: dict[str, set[str]] = {}
        for i, j in pairs:
            self.eligible.setdefault(j, set()).add(i)
        self.hops = inst.area_hops if s.contiguous else None
        #: practice neighbours (empty without): who may join next and who is around
        self.nb: nx.Graph = inst.neighbours if inst.neighbours is not None else nx.Graph()
        self.bordered = inst.neighbours is not None
        self.group: dict[str, tuple[str, ...]] = {c: (c,) for c in p.index}
        for g in s.locked_groups:
            members = tuple(c for c in g if c in self.group)
            for c in members:
                self.group[c] = members
        self.apart: dict[str, set[int]] = {}
        for k, g in enumerate(s.apart):
            for c in g:
                self.apart.setdefault(c, set()).add(k)
        self.members: dict[str, list[str]] = {}
        self.load: dict[str, float] = {}
        self.site_of: dict[str, str] = {}

    def may_join(self, group: tuple[str, ...], j: str) -> bool:
        """The whole group may join the hub at ``j`` (pairs, upper band, apart,
        contiguity)."""
        ok = self.eligible.get(j, set())
        if any(i not in ok for i in group):
            return False
        if self.load[j] + sum(self.w[c] for c in group) > self.inst.scenario.population_max:
            return False
        taken = set().union(*(self.apart.get(c, set()) for c in self.members[j]))
        if any(self.apart.get(c, set()) & taken for c in group):
            return False
        return self._contiguous(j, set(self.members[j]) | set(group), group)

    def _contiguous(self, j: str, inside: set[str], checked: Iterable[str]) -> bool:
        """The model's contiguity rows hold for the ``checked`` members of a hub of
        ``inside`` at ``j``: each has a neighbour inside one step nearer the site."""
        if self.hops is None:
            return True
        h = self.hops[j]
        return all(
            i == j
            or any(k in inside and h.get(k, 1e9) < h.get(i, -1) for k in self.nb.neighbors(i))
            for i in checked
        )

    def open(self, j: str) -> None:
        self.members[j], self.load[j] = [], 0.0
        self.add(self.group[j], j)

    def add(self, group: tuple[str, ...], j: str) -> None:
        for c in group:
            self.members[j].append(c)
            self.site_of[c] = j
        self.load[j] += sum(self.w[c] for c in group)

    def remove(self, j: str) -> list[str]:
        members = self.members.pop(j)
        del self.load[j]
        for c in members:
            del self.site_of[c]
        return members

    def frontier(self, j: str, free: set[str]) -> set[str]:
        """Free practices that might join the hub at ``j`` next."""
        if not self.bordered:
            return free & self.eligible.get(j, set())
        out: set[str] = set()
        for c in self.members[j]:
            out.update(k for k in self.nb.neighbors(c) if k in free)
        return out & self.eligible.get(j, set())

    def minutes(self, i: str, j: str) -> float:
        return float(self.tt[self.pos[i], self.pos[j]])

    def nearest_hub(self, c: str, exclude: str | None = None) -> str | None:
        g = self.group[c]
        options = [j for j in self.members if j != exclude and self.may_join(g, j)]
        return min(options, key=lambda j: (self.minutes(c, j), j)) if options else None

    def connected_without(self, j: str, leaving: set[str]) -> bool:
        """The hub at ``j`` keeps the model's contiguity rows once ``leaving`` go."""
        inside = set(self.members[j]) - leaving
        return self._contiguous(j, inside, inside)

    def may_site(self, j: str, members: list[str]) -> bool:
        """``j`` may be the site of a hub of exactly ``members`` (pairs, contiguity)."""
        ok = self.eligible.get(j, set())
        if j not in ok or any(i not in ok for i in members):
            return False
        return self._contiguous(j, set(members), members)

    def move(self, group: tuple[str, ...], a: str, b: str) -> None:
        for c in group:
            self.members[a].remove(c)
        self.load[a] -= sum(self.w[c] for c in group)
        self.add(group, b)

    def resite(self, j: str, k: str) -> None:
        """The hub sited at ``j`` is sited at ``k`` (one of its members) instead."""
        self.members[k] = self.members.pop(j)
        self.load[k] = self.load.pop(j)
        for c in self.members[k]:
            self.site_of[c] = k


def grow(inst: Instance) -> pd.Series | None:
    """A plan grown hub by hub (see the module docstring); None where the greedy cannot
    give one (hub count, mean-travel cap, or a practice it could not place)."""
    s, p = inst.scenario, inst.practices
    if s.hub_range != (None, None) or s.mean_travel_cap_minutes is not None:
        return None
    hubs = _Hubs(inst)
    site_only = set(site_only_codes(p))
    free = set(p.index) - site_only
    for j in sorted(model.singleton_practices(p, s)):
        if j in free and j in hubs.eligible.get(j, ()):
            hubs.open(j)
            free.discard(j)
    xy = positions(p)
    w = p["list_size"].to_numpy(dtype=float)
    centre = (xy * w[:, None]).sum(axis=0) / max(w.sum(), 1.0)
    far = pd.Series(np.hypot(*(xy - centre).T), index=p.index)
    fixed = [c for c in s.fixed_sites if c in free]
    seeds = fixed + [c for c in far.sort_values(ascending=False, kind="stable").index]
    for j in seeds:
        if j not in free or j not in hubs.eligible.get(j, ()):
            continue
        group = hubs.group[j]
        if any(c not in free for c in group):
            continue
        hubs.members[j], hubs.load[j] = [], 0.0
        if not hubs.may_join(group, j):
            del hubs.members[j], hubs.load[j]
            continue
        hubs.add(group, j)
        free -= set(group)
        while hubs.load[j] < s.population_min:
            options = [
                c for c in hubs.frontier(j, free)
                if all(m in free for m in hubs.group[c]) and hubs.may_join(hubs.group[c], j)
            ]  # fmt: skip
            if not options:
                break
            c = min(options, key=lambda c: (hubs.minutes(c, j), c))
            hubs.add(hubs.group[c], j)
            free -= set(hubs.group[c])
    for c in sorted(free, key=lambda c: (-far[c], c)):  # placed nowhere yet
        if c not in free:
            continue
        k = hubs.nearest_hub(c)
        if k is not None:
            hubs.add(hubs.group[c], k)
            free -= set(hubs.group[c])
    singles = model.singleton_practices(p, s)
    _dissolve_small(hubs, singles)
    polish(hubs, singles)
    if free - set(s.optional):
        return None
    plan = pd.Series(np.nan, index=p.index, dtype=object)
    for c, j in hubs.site_of.items():
        plan[c] = j
    return plan


def _dissolve_small(hubs: _Hubs, singletons: frozenset[str]) -> None:
    """Hubs below the band give their practices to other hubs, where all of them fit."""
    lo = hubs.inst.scenario.population_min
    for j in sorted(hubs.members, key=lambda j: hubs.load[j]):
        if j in singletons or j not in hubs.members or hubs.load[j] >= lo:
            continue
        members = hubs.remove(j)
        moved: list[tuple[tuple[str, ...], str]] = []
        pending: list[tuple[str, ...]] = list(dict.fromkeys(hubs.group[c] for c in members))
        progress = True
        while pending and progress:  # members may need each other to stay contiguous
            progress = False
            for g in list(pending):
                k = hubs.nearest_hub(g[0], exclude=j)
                if k is not None:
                    hubs.add(g, k)
                    moved.append((g, k))
                    pending.remove(g)
                    progress = True
        if pending:  # cannot dissolve: put everything back
            for g, k in moved:
                for c in g:
                    hubs.members[k].remove(c)
                    del hubs.site_of[c]
                hubs.load[k] -= sum(hubs.w[c] for c in g)
            hubs.members[j], hubs.load[j] = [], 0.0
            for g in dict.fromkeys(hubs.group[c] for c in members):
                hubs.add(g, j)


def _breach(load: float, inst: Instance) -> float:
    s = inst.scenario
    short = max(0.0, s.population_min - load) if s.band != "strict" else 0.0
    over = max(0.0, load - s.population_max) if s.band == "elastic" else 0.0
    return short + over


def polish(hubs: _Hubs, singletons: frozenset[str], *, rounds: int = 20) -> None:
    """Local search on the grown plan, keeping every rule: move a practice (or locked
    group) to a hub around it, and move a hub's site to the member that minimises its
    patient-weighted travel, while either lowers (band breach, travel). Only for the
    objectives whose change it can count hub by hub (band breach, weighted travel)."""
    s = hubs.inst.scenario
    if set(s.objectives) != {"weighted_travel"}:
        return
    fixed = set(s.fixed_sites) | set(singletons)
    strict = s.band == "strict"
    for _ in range(rounds):
        changed = False
        for c in list(hubs.site_of):
            a = hubs.site_of[c]
            g = hubs.group[c]
            if c == a or g[0] != c or a in g:
                continue
            w = sum(hubs.w[m] for m in g)
            if strict and hubs.load[a] - w < s.population_min:
                continue
            others = {
                hubs.site_of[k]
                for m in g
                for k in (hubs.nb.neighbors(m) if m in hubs.nb else [])
                if k in hubs.site_of
            } - {a}
            if not hubs.bordered:
                others = set(hubs.members) - {a}
            best = None
            for b in sorted(others):
                d_travel = sum(hubs.w[m] * (hubs.minutes(m, b) - hubs.minutes(m, a)) for m in g)
                la, lb = hubs.load[a], hubs.load[b]
                d_breach = (
                    _breach(la - w, hubs.inst)
                    + _breach(lb + w, hubs.inst)
                    - _breach(la, hubs.inst)
                    - _breach(lb, hubs.inst)
                )
                key = (round(d_breach, 6), d_travel)
                if key >= (0.0, -1e-9) or (best is not None and key >= best[0]):
                    continue
                if hubs.may_join(g, b) and hubs.connected_without(a, set(g)):
                    best = (key, b)
            if best is not None:
                hubs.move(g, a, best[1])
                changed = True
        for j in list(hubs.members):
            if j in fixed:
                continue
            members = hubs.members[j]

            def cost(k: str, members: list[str] = members) -> float:
                return sum(hubs.w[m] * hubs.minutes(m, k) for m in members)

            here = cost(j)
            for k in sorted(members, key=cost):
                if cost(k) >= here - 1e-9:
                    break
                if hubs.may_site(k, members):
                    hubs.resite(j, k)
                    changed = True
                    break
        if not changed:
            return


# --- piece by piece ----------------------------------------------------------------


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


def construct(
    inst: Instance,
    clock: Clock,
    options: Options,
    *,
    report: Callable[[str], None] | None = None,
) -> pd.Series | None:
    """A first plan for the whole area by ``clock``'s deadline: grown hub by hub
    (:func:`grow`) where the greedy can, else piece by piece (see the module
    docstring); None when some piece has no plan even merged with the rest, or time
    ran out."""
    plan = grow(inst)
    if plan is not None:
        return plan
    s = inst.scenario
    band = "elastic" if s.band == "strict" else None
    todo = pieces(inst, target=PIECE_HUBS * s.population_max)
    most = clock.part_seconds()
    plan = pd.Series(np.nan, index=inst.practices.index, dtype=object)
    while todo:
        sizes = [float(inst.practices.loc[c, "list_size"].sum()) for c in todo]
        lo, hi = inst.hub_range_left(int(plan.dropna().nunique()))  # left for the pieces
        los = apportion(None if lo is None else max(lo, 0), sizes)
        his = apportion(None if hi is None else max(hi, 0), sizes)
        hub_range = (los[0], his[0] if los[0] is None or his[0] is None else max(his[0], los[0]))
        codes = todo[0]
        left = clock.left()
        if left <= 0:
            clock.stopped("first plan")
            return None
        part = inst.part(codes, hub_range=hub_range, band=band)
        got = None
        if part is not None:
            got = solve_part(part, clock, options, seconds=min(most, left))
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
