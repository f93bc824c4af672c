r"""Hubs as columns: the set-partitioning view of an area.

A *column* is one feasible hub: a site and its members, already within the band, the
cap, contiguous, and keeping every rule that concerns one hub. The area's rules are
split in two:

* **rules of one hub** (here, in :meth:`Area.feasible` and in each site's
  :class:`Site` data used by the pricing): the eligible (practice, site) pairs of the
  compact model (:func:`hubopt.model.scenario_pairs`: cap, candidate sites, ``within``
  zones, singletons, site-only rows), its shortest-path contiguity
  (:func:`hubopt.model.hop_distances`: a member joins only through a neighbour one
  step nearer the site), the band (strict; under ``rural_exception`` and ``elastic``
  a breach is a cost), the mean travel cap, locked groups (all of a group or none) and
  apart groups (at most one of each);
* **rules that tie hubs together** (the master, :mod:`hubopt.solver.partition`):
  every practice in one hub (optional ones in at most one), fixed and singleton sites
  open, the hub count, each of today's groups matched with one hub at most (for
  ``fewest_moved``), and the optima of earlier objective stages.

A column's cost in an objective stage is the sum over its members (patient-minutes,
patients of optional practices kept, negated) plus a function of its patients (band
breach, distance from the balance target); :func:`hub_values` gives each, and a
plan's value is the sum over its hubs plus :attr:`Area.offset` (patients of optional
practices, all left out). For ``fewest_moved`` a column also names the group of today
it is matched with (:attr:`Column.match`, as the compact model's :math:`y_{gj}`): its
members in another group (or in any group, when it is matched with none) are moved.
``worst_travel`` is not a sum over hubs and stays with the compact model
(:func:`supports`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pandas as pd

from hubopt import model
from hubopt.inputs import site_only_codes
from hubopt.model import StageSpec, check
from hubopt.solver.instance import Instance

#: The objectives a hub's cost can carry (each a sum over hubs).
PER_HUB = frozenset(
    {"weighted_travel", model.BAND_BREACH, model.UNASSIGNED, "balance", model.FEWEST_MOVED}
)


def supports(inst: Instance) -> bool:
    """Whether every objective stage of the instance is a sum over hubs."""
    return all(
        name in PER_HUB
        for spec in model.stage_specs(inst.practices, inst.scenario)
        for name, _ in spec.parts
    )


@dataclass(frozen=True)
class Column:
    """One hub: its site, its members (positions in :attr:`Area.codes`, sorted, the
    site among them) and the group of today it is matched with (an index into
    :attr:`Area.groups`; -1: none, and always -1 without ``fewest_moved``)."""

    site: int
    members: tuple[int, ...]
    match: int = -1


@dataclass
class Site:
    """What a hub sited at one practice may hold.

    ``members`` are the positions of the practices eligible for the site, the site
    first, then by neighbour steps from the site (so a member's nearer neighbours come
    before it); ``parents[k]`` are the indices (into ``members``) of member ``k``'s
    neighbours one or more steps nearer the site (empty for the site; None for every
    member when the hub need not be contiguous).
    """

    site: int
    members: np.ndarray
    parents: list[np.ndarray] | None
    weight: np.ndarray
    travel: np.ndarray  # patient-minutes of each member to the site
    singleton: bool
    at: dict[int, int] = field(default_factory=dict)  # position -> index in members
    #: per member, the members it lets join (those it is a nearer neighbour of); None
    #: when the hub need not be contiguous
    children: list[np.ndarray] | None = None

    def __post_init__(self) -> None:
        self.at = {int(p): k for k, p in enumerate(self.members)}
        if self.parents is not None:
            kids: list[list[int]] = [[] for _ in self.members]
            for k, ps in enumerate(self.parents):
                for p in ps:
                    kids[int(p)].append(k)
            self.children = [np.array(k, dtype=int) for k in kids]


@dataclass
class Area:
    """An instance as columns see it (built by :meth:`of`)."""

    inst: Instance
    codes: list[str]
    minutes: np.ndarray  # practice x site minutes, by position
    weight: np.ndarray
    optional: np.ndarray  # bool per position
    sites: dict[int, Site]
    specs: list[StageSpec]
    pop_min: float
    pop_max: float
    band: str
    target: float
    mean_cap: float | None
    locked: list[np.ndarray]
    apart: list[np.ndarray]
    forced: frozenset[int]  # sites that must open (fixed, singletons)
    hub_range: tuple[int | None, int | None]
    #: today's groups (for ``fewest_moved``; empty otherwise), and each position's
    #: index into them (-1: in none)
    groups: list[str] = field(default_factory=list)
    group: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))

    @classmethod
    def of(cls, inst: Instance) -> Area:
        s, practices = inst.scenario, inst.practices
        codes = list(practices.index)
        pos = {c: k for k, c in enumerate(codes)}
        weight = practices["list_size"].to_numpy(dtype=float)
        site_only = frozenset(site_only_codes(practices))
        optional = np.isin(codes, [*s.optional, *site_only])
        singletons = model.singleton_practices(practices, s)
        pairs = model.scenario_pairs(
            inst.minutes, practices, s, neighbours=inst.neighbours, hops=inst.hops
        )
        minutes = inst.minutes.loc[codes, codes].to_numpy(dtype=float)
        by_site: dict[str, list[str]] = {}
        for i, j in pairs:
            by_site.setdefault(j, []).append(i)
        hops = inst.area_hops if s.contiguous else None
        sites = {}
        for j, members in by_site.items():
            if j not in members:
                continue
            sites[pos[j]] = _site(pos[j], members, pos, weight, minutes, hops, inst.neighbours,
                                  singleton=j in singletons)  # fmt: skip
        forced = {pos[c] for c in s.fixed_sites if c in pos} | {
            pos[c] for c in singletons if pos[c] in sites
        }
        specs = model.stage_specs(practices, s)
        moves = any(n == model.FEWEST_MOVED for spec in specs for n, _ in spec.parts)
        today = check.grouped(practices.index, inst.current) if moves else pd.Series(dtype=str)
        groups = sorted(set(today))
        at = {g: k for k, g in enumerate(groups)}
        group = np.array([at.get(today.get(c), -1) for c in codes], dtype=int)
        return cls(
            inst=inst,
            codes=codes,
            minutes=minutes,
            weight=weight,
            optional=optional,
            sites=sites,
            specs=specs,
            pop_min=float(s.population_min),
            pop_max=float(s.population_max),
            band=s.band,
            target=float(s.balance_target or (s.population_min + s.population_max) / 2),
            mean_cap=s.mean_travel_cap_minutes,
            locked=[np.array([pos[c] for c in g if c in pos]) for g in s.locked_groups],
            apart=[np.array([pos[c] for c in g if c in pos]) for g in s.apart],
            forced=frozenset(forced),
            hub_range=s.hub_range,
            groups=groups,
            group=group,
        )

    # -- what a hub costs ----------------------------------------------------------

    @property
    def offset(self) -> np.ndarray:
        """Each stage's value when no hub opens (patients of optional practices)."""
        return self._has(model.UNASSIGNED) * float(self.weight[self.optional].sum())

    def _has(self, name: str) -> np.ndarray:
        """Per stage, the weight of objective ``name`` in it (0 where it is absent)."""
        return np.array([sum(w for n, w in spec.parts if n == name) for spec in self.specs])

    def most(self, k: int) -> float:
        """More than any plan's value in stage ``k`` can be (in absolute value): each
        practice at its farthest eligible site, every hub short by the whole band or off
        the balance target, every practice moved."""
        far = np.zeros(len(self.codes))
        for j, site in self.sites.items():
            np.maximum.at(far, site.members, self.minutes[site.members, j])
        total, n = float(self.weight.sum()), len(self.codes)
        most = {
            "weighted_travel": float(np.dot(self.weight, far)),
            model.BAND_BREACH: n * self.pop_min + total,
            model.UNASSIGNED: total,
            "balance": n * self.target + total,
            model.FEWEST_MOVED: float(n),
        }
        return float(sum(abs(w) * most[name] for name, w in self.specs[k].parts))

    def tighten(self, k: int, bound: float) -> float:
        """A lower bound on stage ``k``'s sum over hubs, tightened by what every plan
        has: no hub's travel, breach, balance or moves below zero, and a whole number
        of practices moved when the stage counts only those."""
        floor = 0.0
        for name, w in self.specs[k].parts:
            least = -float(self.weight[self.optional].sum()) if name == model.UNASSIGNED else 0.0
            most = 0.0 if name == model.UNASSIGNED else np.inf
            floor += w * least if w >= 0 else -np.inf if most == np.inf else w * most
        bound = max(bound, floor)
        if [n for n, _ in self.specs[k].parts] == [model.FEWEST_MOVED] and np.isfinite(bound):
            (w,) = (w for _, w in self.specs[k].parts)
            if float(w).is_integer() and w > 0:
                bound = w * np.ceil(bound / w - 1e-6)
        return bound

    def objective_weights(self, stage_weights: np.ndarray) -> dict[str, float]:
        """The weight of each per-hub objective in ``sum_k stage_weights[k] * stage_k``."""
        return {name: float(np.dot(stage_weights, self._has(name))) for name in PER_HUB}

    def breach(self, patients: float) -> float:
        """Patients outside the band in a hub of ``patients`` (a soft band's cost)."""
        low = max(0.0, self.pop_min - patients) if self.band != "strict" else 0.0
        high = max(0.0, patients - self.pop_max) if self.band == "elastic" else 0.0
        return low + high

    def hub_values(self, col: Column) -> dict[str, float]:
        """The per-hub objectives of one hub."""
        site = self.sites[col.site]
        m = np.asarray(col.members)
        patients = float(self.weight[m].sum())
        travel = float(np.dot(self.weight[m], self.minutes_to(col.site, m)))
        exempt = site.singleton and len(m) == 1
        return {
            "weighted_travel": travel,
            model.BAND_BREACH: 0.0 if exempt else self.breach(patients),
            model.UNASSIGNED: -float(self.weight[m][self.optional[m]].sum()),
            "balance": 0.0 if exempt else abs(patients - self.target),
            model.FEWEST_MOVED: float(self.moved(m, col.match).sum()) if self.groups else 0.0,
        }

    def moved(self, members: np.ndarray, match: int) -> np.ndarray:
        """Per member (positions), whether it is moved in a hub matched with group
        ``match`` (-1: none): in a group of today, and not in ``match``."""
        g = self.group[members]
        return (g >= 0) & (g != match)

    def minutes_to(self, site: int, members: np.ndarray) -> np.ndarray:
        """Minutes from each of ``members`` (positions) to ``site``."""
        return self.minutes[members, site]

    def costs(self, col: Column) -> np.ndarray:
        """The hub's cost in each objective stage."""
        v = self.hub_values(col)
        return np.array([sum(w * v[n] for n, w in spec.parts) for spec in self.specs])

    # -- rules of one hub ------------------------------------------------------------

    def feasible(self, col: Column) -> bool:
        """Whether the hub keeps every rule of one hub (see the module docstring)."""
        site = self.sites.get(col.site)
        m = set(col.members)
        if site is None or col.site not in m or len(m) != len(col.members):
            return False
        if not -1 <= col.match < len(self.groups):
            return False
        allowed = site.at
        if any(i not in allowed for i in m):
            return False
        if site.singleton and m != {col.site}:
            return False
        patients = float(self.weight[list(m)].sum())
        if not (site.singleton and len(m) == 1):
            low_ok = self.band != "strict" or patients >= self.pop_min - 1e-9
            high_ok = self.band == "elastic" or patients <= self.pop_max + 1e-9
            if not (low_ok and high_ok):
                return False
        if site.parents is not None:
            inside = {allowed[i] for i in m}
            if any(k and not inside.intersection(site.parents[k].tolist()) for k in inside):
                return False
        if self.mean_cap is not None and patients > 0:
            arr = np.array(sorted(m))
            mean = float(np.dot(self.weight[arr], self.minutes_to(col.site, arr))) / patients
            if mean > self.mean_cap + 1e-9:
                return False
        for g in self.locked:
            if 0 < len(m.intersection(g.tolist())) < len(g):
                return False
        return all(len(m.intersection(g.tolist())) <= 1 for g in self.apart)

    # -- plans and columns ---------------------------------------------------------

    def plan(self, cols: Iterable[Column]) -> pd.Series:
        """The plan (practice -> site, NaN: left out) made of ``cols``."""
        out = pd.Series(np.nan, index=self.codes, dtype=object, name="hub_site")
        for c in cols:
            out.iloc[list(c.members)] = self.codes[c.site]
        return out

    def columns_of(self, plan: pd.Series) -> list[Column]:
        """The hubs of ``plan`` as columns (those that keep the rules of one hub), each
        matched with a group of today as :func:`hubopt.model.check.match_groups` does."""
        pos = {c: k for k, c in enumerate(self.codes)}
        a = plan.reindex(self.codes).dropna()
        at = {g: k for k, g in enumerate(self.groups)}
        matched = {}
        if self.groups:
            matched = {hub: at[g] for g, hub in check.match_groups(a, self.inst.current).items()}
        out = []
        for site, members in a.groupby(a.to_numpy()).groups.items():
            if site not in pos:
                continue
            col = Column(pos[site], tuple(sorted(pos[c] for c in members)),
                         matched.get(site, -1))  # fmt: skip
            if self.feasible(col):
                out.append(col)
        return out

    def singleton_columns(self) -> list[Column]:
        """Each singleton site's hub of itself, matched with none and with its group."""
        out = []
        for j, s in self.sites.items():
            if s.singleton:
                out.append(Column(j, (j,)))
                if self.groups and self.group[j] >= 0:
                    out.append(Column(j, (j,), int(self.group[j])))
        return out


def _site(
    j: int,
    members: Sequence[str],
    pos: dict[str, int],
    weight: np.ndarray,
    minutes: np.ndarray,
    hops: dict[str, dict] | None,
    neighbours: nx.Graph | None,
    *,
    singleton: bool,
) -> Site:
    """One site's data (see :class:`Site`); ``hops`` None when contiguity is off."""
    code = next(c for c, k in pos.items() if k == j)
    if hops is None:
        order = [code] + sorted((c for c in members if c != code), key=pos.__getitem__)
        parents = None
    else:
        h = hops[code]
        order = sorted(members, key=lambda c: (h[c], pos[c]))
        at = {c: k for k, c in enumerate(order)}
        assert neighbours is not None
        parents = [
            np.array(sorted(at[n] for n in neighbours.neighbors(c) if n in at and h[n] < h[c]),
                     dtype=int)
            for c in order
        ]  # fmt: skip
    idx = np.array([pos[c] for c in order], dtype=int)
    return Site(j, idx, parents, weight[idx], weight[idx] * minutes[idx, j], singleton)
