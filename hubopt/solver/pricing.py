r"""Pricing: the hubs whose reduced cost is negative, site by site, in the process.

Given the master's duals (:class:`Prices`: one per practice's cover row, one per
site for the rows that count sites and hubs, and the weights the earlier stages' rows
put on each objective), a hub :math:`S` sited at :math:`j` has reduced cost

.. math::

    \bar c(S) = \sum_{i \in S} r_i + g(W_S) - \kappa_j, \qquad
    r_i = \alpha_t\, w_i t_{ij} - \alpha_u\, w_i [i \text{ optional}]
          + \alpha_m [i \text{ moved}] - \pi_i, \quad
    g(W) = \alpha_b\, \mathrm{breach}(W) + \alpha_d\, |W - B|

With ``fewest_moved`` a hub is also matched with one of today's groups :math:`m` (or
none): member :math:`i` is moved unless it is in group :math:`m` (or in none), and
:math:`\kappa_j` takes the dual :math:`\sigma_m \le 0` of the row that matches group
:math:`m` once. The greedy and the enumeration price each match in turn; the exact
pricing too, the most promising match first, until a bound shows the others cannot do
better (a MIP choosing the match itself took 0.27 s a site on Leicester, against
5 ms without matches).

With subset-row cuts in the master (:attr:`Prices.cuts`), a hub also pays
:math:`-\sigma_c \ge 0` for each cut :math:`c` it holds two or more practices of. The
exact pricing gives each such cut a column :math:`z_c \ge y_a + y_b - 1` (each pair of
its practices) of that cost; the enumeration adds a cut's penalty once a branch holds
two of its practices (a penalty, once paid, stays paid as members are added, so it
bounds every completion too); the greedy counts a member's penalties in its change.

Three ways to find such hubs, cheapest first:

* :func:`greedy` grows a hub from each site (a few microseconds of numpy a site): a
  heuristic, so it proves nothing;
* :class:`ExactPricing` solves each site's problem exactly (a connected knapsack
  rooted at the site: one binary per eligible practice, the contiguity rows of the
  compact model, the band, the mean cap, locked and apart groups) as a small MIP in
  HiGHS, in the process, one model per site kept between rounds (only its costs
  change); its optimum (or proven bound) is what makes the column generation's
  Lagrangian bound valid. Only hubs below a cutoff (a reduced cost of 0) are sought;
  with ``fewest_moved`` (a MIP for each match) the LP relaxation comes first, and the
  MIP only where the LP is below the cutoff;
* :func:`enumerate_site` lists *every* hub of a site whose reduced cost is at most a
  threshold (a depth-first search over the site's members in order of neighbour
  steps, pruned by a fractional-knapsack bound): the proof of optimality by
  reduced-cost enumeration (:mod:`hubopt.solver.partition`).
"""

from __future__ import annotations

import dataclasses
import heapq
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import highspy
import numpy as np

from hubopt import model
from hubopt.solver import inprocess
from hubopt.solver.columns import Area, Column, Site

#: Reduced costs above this (relative to the scale of a hub's cost) count as zero.
EPS = 1e-7


@dataclass(frozen=True)
class Prices:
    """The master's duals, as the pricing needs them."""

    cover: np.ndarray  # per practice position
    site: np.ndarray  # per practice position: the site's fixed-site and hub-count duals
    weights: dict[str, float]  # objective -> weight in the reduced cost
    group: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per group of today
    #: the master's subset-row cuts (three practice positions a row) and their duals
    #: (:math:`\le 0`): a hub with two or more of a cut's practices pays minus its dual
    cuts: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), dtype=int))
    cut_duals: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def cut_penalty(self, members: tuple[int, ...]) -> float:
        """What a hub of ``members`` (positions) pays for the cuts it takes part in."""
        if not len(self.cut_duals):
            return 0.0
        hit = np.isin(self.cuts, members).sum(axis=1) >= 2
        return float(-self.cut_duals[hit].sum())

    def site_cuts(self, site: Site) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The cuts a hub at ``site`` can take part in (two or more of their practices
        among its members): their indices, their practices' places in
        :attr:`Site.members` (``len(members)`` where not one), and their penalties."""
        n = len(site.members)
        if not len(self.cut_duals):
            return np.zeros(0, dtype=int), np.zeros((0, 3), dtype=int), np.zeros(0)
        place = np.full(max(int(site.members.max()), int(self.cuts.max())) + 1, n)
        place[site.members] = np.arange(n)
        at = place[self.cuts]
        which = np.flatnonzero((at < n).sum(axis=1) >= 2)
        return which, at[which], -self.cut_duals[which]


@dataclass(frozen=True)
class Costs:
    """One site's reduced-cost data: ``r`` per member (in :attr:`Site.members` order),
    the breach and balance weights of :math:`g`, and :math:`\\kappa_j`."""

    r: np.ndarray
    breach: float
    balance: float
    kappa: float
    #: the site's cuts (:meth:`Prices.site_cuts`): places of their practices, penalties
    cut_at: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), dtype=int))
    cut_pen: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @classmethod
    def of(cls, area: Area, site: Site, prices: Prices, match: int = -1) -> Costs:
        """The costs of a hub at ``site`` matched with group ``match`` (-1: none)."""
        w = prices.weights
        m = site.members
        r = w["weighted_travel"] * site.travel - prices.cover[m]
        r -= w[model.UNASSIGNED] * site.weight * area.optional[m]
        if area.groups:
            r += w[model.FEWEST_MOVED] * area.moved(m, match)
        exempt = site.singleton
        group = float(prices.group[match]) if match >= 0 else 0.0
        _, cut_at, cut_pen = prices.site_cuts(site)
        paid = cut_pen > 0
        return cls(
            r=r,
            breach=0.0 if exempt else w[model.BAND_BREACH],
            balance=0.0 if exempt else w["balance"],
            kappa=float(prices.site[site.site]) + group,
            cut_at=cut_at[paid],
            cut_pen=cut_pen[paid],
        )


def matches(area: Area, site: Site) -> list[int]:
    """The groups a hub at ``site`` may be matched with: none (-1), and each group of
    today with a practice eligible for the site (a hub matched with a group it has no
    member of is never cheaper than the same hub matched with none)."""
    if not area.groups:
        return [-1]
    g = area.group[site.members[:1] if site.singleton else site.members]
    return [-1, *np.unique(g[g >= 0]).tolist()]


def g_of(area: Area, c: Costs) -> Callable[[np.ndarray], np.ndarray]:
    """:math:`g(W)` of the module docstring, for arrays of patients."""

    def g(patients: np.ndarray) -> np.ndarray:
        out = np.zeros_like(patients, dtype=float)
        if c.breach:
            low = np.maximum(0.0, area.pop_min - patients) if area.band != "strict" else 0.0
            high = np.maximum(0.0, patients - area.pop_max) if area.band == "elastic" else 0.0
            out = out + c.breach * (low + high)
        if c.balance:
            out = out + c.balance * np.abs(patients - area.target)
        return out

    return g


def reduced_cost(area: Area, col: Column, prices: Prices) -> float:
    """The reduced cost of one column under ``prices`` (from :meth:`Area.hub_values`)."""
    v = area.hub_values(col)
    w = prices.weights
    cost = sum(w[n] * v[n] for n in w)
    group = float(prices.group[col.match]) if col.match >= 0 else 0.0
    return (
        cost
        - float(prices.cover[list(col.members)].sum())
        - float(prices.site[col.site])
        - group
        + prices.cut_penalty(col.members)
    )


def _limits(area: Area, site: Site) -> tuple[float, float]:
    """The patients a hub of ``site`` must reach (strict band) and may not pass."""
    if site.singleton:
        return 0.0, np.inf
    lo = area.pop_min if area.band == "strict" else 0.0
    hi = area.pop_max if area.band != "elastic" else np.inf
    return lo, hi


def greedy(area: Area, site: Site, prices: Prices) -> list[Column]:
    """Hubs grown from ``site`` one member at a time (the member that lowers the
    reduced cost most, by itself or per patient while the hub is short of the band),
    kept when they pass :meth:`Area.feasible`. A heuristic: finds negative reduced
    costs quickly, proves nothing.

    With ``fewest_moved``, hubs are grown matched with none and with the site's own
    group of today, and each is then matched with the group that costs it least
    (growing with every match in turn took half of Leicester's column generation)."""
    if site.singleton:
        return []
    out: list[Column] = []
    for match in matches(area, site)[:1] if not area.groups else _grown_matches(area, site):
        for col in _grow(area, site, Costs.of(area, site, prices, match), match):
            col = _rematched(area, col, prices)
            if col not in out:
                out.append(col)
    return out


def _grown_matches(area: Area, site: Site) -> list[int]:
    """The matches :func:`greedy` grows hubs with: none, and the site's own group."""
    own = int(area.group[site.site])
    return [-1] if own < 0 else [-1, own]


def _rematched(area: Area, col: Column, prices: Prices) -> Column:
    """``col`` matched with the group that gives it the least reduced cost (or none):
    each member of the group matched is not moved, and the hub pays the group's dual."""
    if not area.groups:
        return col
    g = area.group[list(col.members)]
    groups, kept = np.unique(g[g >= 0], return_counts=True)
    if not len(groups):
        return dataclasses.replace(col, match=-1)
    gain = prices.weights[model.FEWEST_MOVED] * kept + prices.group[groups]
    k = int(np.argmax(gain))
    return dataclasses.replace(col, match=int(groups[k]) if gain[k] > 0 else -1)


def _grow(area: Area, site: Site, c: Costs, match: int) -> list[Column]:
    """:func:`greedy` for one match."""
    g = g_of(area, c)
    lo, hi = _limits(area, site)
    kids = site.children
    w = site.weight
    out = []
    # which members each cut holds, for the penalty a member would bring
    holds = np.zeros((len(w), len(c.cut_pen)), dtype=bool)
    for cut, places in enumerate(c.cut_at):
        holds[places[places < len(w)], cut] = True
    for per_patient in (False, True):
        inside = np.zeros(len(w), dtype=bool)
        inside[0] = True
        held = holds[0].astype(int)
        reach = np.zeros(len(w), dtype=bool)
        if kids is None:
            reach[:] = True
        else:
            reach[kids[0]] = True
        patients = float(w[0])
        flat = not (c.breach or c.balance)  # g is 0: a member's change is its r
        while True:
            cand = reach & ~inside & (patients + w <= hi)
            if not cand.any():
                break
            delta = c.r if flat else c.r + g(patients + w) - g(np.array([patients]))[0]
            if len(c.cut_pen):  # the cuts a member would be the second of
                delta = delta + holds @ (c.cut_pen * (held == 1))
            short = patients < lo
            score = delta / np.maximum(w, 1.0) if (short and per_patient) else delta
            score = np.where(cand, score, np.inf)
            k = int(np.argmin(score))
            if not short and delta[k] >= -EPS:
                break
            inside[k] = True
            held += holds[k]
            patients += float(w[k])
            if kids is not None:
                reach[kids[k]] = True
        if patients < lo:
            continue
        col = Column(site.site, tuple(sorted(site.members[inside].tolist())), match)
        if area.feasible(col) and col not in out:
            out.append(col)
    return out


#: What the LP relaxation may end with that settles a site's pricing below a cutoff.
_SETTLED = (highspy.HighsModelStatus.kObjectiveBound, highspy.HighsModelStatus.kInfeasible)


@dataclass
class ExactResult:
    """One site's exact pricing: the best column (None: no hub at this site), its
    reduced cost, and a proven lower bound on every hub's reduced cost at the site."""

    column: Column | None
    value: float
    bound: float
    proven: bool
    work: int = 0


@dataclass
class ExactPricing:
    """Each site's pricing problem as a HiGHS MIP, built once and re-costed per round."""

    area: Area
    threads: int = 1  # HiGHS's threads per site's model
    #: sites priced at once (:meth:`price_all`), in threads: HiGHS releases the GIL
    #: while it solves, and each site has a model of its own
    workers: int = 1
    _models: dict[int, tuple[highspy.Highs, int] | None] = field(default_factory=dict)
    #: per site, the cuts its model has a column for (three positions -> column)
    _cut_cols: dict[int, dict[tuple[int, ...], int]] = field(default_factory=dict)

    _pool: ThreadPoolExecutor | None = None

    def price_all(self, sites: Sequence[Site], prices: Prices, *, seconds: float,
                  below: float = np.inf) -> list[ExactResult]:  # fmt: skip
        """:meth:`price` of each of ``sites`` (in order), :attr:`workers` at a time."""

        def one(site: Site) -> ExactResult:
            return self.price(site, prices, seconds=seconds, below=below)

        if self.workers <= 1 or len(sites) <= 1:
            return [one(site) for site in sites]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="hubopt-pricing")
        return list(self._pool.map(one, sites))

    def close(self) -> None:
        """Stop the pricing threads (if any)."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def price(self, site: Site, prices: Prices, *, seconds: float, nodes: int | None = None,
              below: float = np.inf) -> ExactResult:  # fmt: skip
        """The least reduced cost of a hub at ``site``, within ``seconds``. With
        ``fewest_moved``, each match (:func:`matches`) is priced in turn, the most
        promising first by :class:`_Relaxation`'s bound, until that bound shows no other
        match can do better.

        Only hubs of reduced cost below ``below`` are sought (the column generation
        and the proof use no other: a cutoff for HiGHS, which then proves most sites
        have none at the root): where there is none, the result has no column and its
        bound is ``below``."""
        area = self.area
        if site.singleton:
            value, col = min(
                ((reduced_cost(area, col, prices), col)
                 for col in (Column(site.site, (site.site,), m) for m in matches(area, site))),
                key=lambda vc: vc[0],
            )  # fmt: skip
            return (
                ExactResult(col, value, value, True)
                if value < below
                else ExactResult(None, np.inf, below, True)
            )
        built = self._model(site)
        if built is None:
            return ExactResult(None, np.inf, np.inf, True)
        deadline = time.perf_counter() + seconds
        cut_costs = self._cuts(site, built, prices)
        options = [(m, Costs.of(area, site, prices, m)) for m in matches(area, site)]
        best = ExactResult(None, np.inf, np.inf, True)
        if len(options) > 1:
            least = {m: _Relaxation(area, site, c).least() for m, c in options}
            options.sort(key=lambda mc: least[mc[0]])
        for match, c in options:
            cutoff = min(best.value, below)
            if len(options) > 1 and least[match] >= cutoff:  # so are the rest
                best.bound = min(best.bound, least[match], cutoff)
                break
            res = self._solve(built, site, c, cut_costs, match, deadline, nodes, cutoff,
                              relax_first=len(options) > 1)  # fmt: skip
            bound = min(best.bound, res.bound)
            if res.column is not None and res.value < best.value:
                best = dataclasses.replace(res, work=best.work + res.work)
            else:
                best.work += res.work
            best.bound, best.proven = bound, best.proven and res.proven
        return best

    def _solve(self, built: tuple[highspy.Highs, int], site: Site, c: Costs,
               cut_costs: np.ndarray, match: int, deadline: float,
               nodes: int | None, cutoff: float = np.inf, *,
               relax_first: bool = False) -> ExactResult:  # fmt: skip
        """One match's pricing MIP, solved by ``deadline``: its hubs of reduced cost
        at most ``cutoff`` (none: bound ``cutoff``). With ``relax_first``, its LP
        relaxation first (where a site has a MIP for each of many matches: most are
        settled by the LP in 0.6 ms, against 5 ms for the MIP; with one MIP a site, the
        LP first made all of England at 120 s an area 13% slower, as the MIP settles
        most sites at its root anyway)."""
        h, n = built
        extra = h.getNumCol() - n - len(cut_costs)
        costs = np.concatenate([c.r, self._extra_costs(c, extra), cut_costs])
        h.changeColsCost(len(costs), np.arange(len(costs), dtype=np.int32), costs)
        if nodes is not None:
            h.setOptionValue("mip_max_nodes", int(nodes))
        h.setOptionValue("objective_bound", float(cutoff + c.kappa))
        lp_work = 0
        if relax_first and np.isfinite(cutoff):
            # the LP relaxation first: where even it reaches the cutoff, no hub is below
            # it (it settled 80% of Leicester's fewest-moved MIPs)
            h.setOptionValue("solve_relaxation", True)
            inprocess.run_until(h, deadline)
            h.setOptionValue("solve_relaxation", False)
            status = h.getModelStatus()
            lp_work = int(h.getInfo().simplex_iteration_count)
            if status in _SETTLED or (
                status == highspy.HighsModelStatus.kOptimal
                and h.getInfo().objective_function_value - c.kappa >= cutoff
            ):
                return ExactResult(None, np.inf, cutoff, True, lp_work)
        inprocess.run_until(h, deadline)
        status = h.getModelStatus()
        info = h.getInfo()
        work = lp_work + int(info.simplex_iteration_count) + int(info.mip_node_count)
        if status == highspy.HighsModelStatus.kInfeasible:
            return ExactResult(None, np.inf, cutoff, True, work)
        proven = status == highspy.HighsModelStatus.kOptimal
        bound = min(float(info.mip_dual_bound) - c.kappa, cutoff)
        if info.primal_solution_status != 2:  # no feasible solution
            return ExactResult(None, np.inf, bound if np.isfinite(bound) else -np.inf, False,
                               work)  # fmt: skip
        value = float(info.objective_function_value) - c.kappa
        if value > cutoff:  # a hub HiGHS found before the cutoff pruned the rest
            return ExactResult(None, np.inf, cutoff if proven else bound, proven, work)
        y = np.asarray(h.getSolution().col_value[:n]) > 0.5
        col = Column(site.site, tuple(sorted(site.members[y].tolist())), match)
        if proven:
            bound = value
        return ExactResult(col, value, bound, proven, work)

    def _cuts(self, site: Site, built: tuple[highspy.Highs, int], prices: Prices) -> np.ndarray:
        r"""Give the site's model a column for each cut it lacks (:math:`z \ge y_a + y_b
        - 1` for each pair of the cut's practices among the members: 1 when the hub
        takes part in the cut), and return every cut column's cost under ``prices``
        (after the members' and the other continuous columns, in the model's order)."""
        h, _ = built
        have = self._cut_cols.setdefault(site.site, {})
        which, at, pen = prices.site_cuts(site)
        n = len(site.members)
        inf = highspy.kHighsInf
        none = np.zeros(0, dtype=np.int32)
        keys = [tuple(int(p) for p in prices.cuts[k]) for k in which]
        for key, places in zip(keys, at, strict=True):
            if key in have:
                continue
            h.addCols(1, np.zeros(1), np.zeros(1), np.ones(1), 0, none, none, np.zeros(0))
            z = h.getNumCol() - 1
            have[key] = z
            inside = [int(p) for p in places if p < n]
            for a in range(len(inside)):
                for b in range(a + 1, len(inside)):
                    h.addRow(-1.0, inf, 3, np.array([z, inside[a], inside[b]], dtype=np.int32),
                             np.array([1.0, -1.0, -1.0]))  # fmt: skip
        cost = dict.fromkeys(have, 0.0) | {key: float(p) for key, p in zip(keys, pen, strict=True)}
        return np.array([cost[key] for key in sorted(have, key=have.__getitem__)])

    def _extra_costs(self, c: Costs, extra: int) -> np.ndarray:
        """Costs of the continuous columns after the members: shortfall, excess, and
        distance from the balance target (those the site's model has)."""
        a = self.area
        out = []
        if a.band != "strict" and a.pop_min > 0:
            out.append(c.breach)
        if a.band == "elastic":
            out.append(c.breach)
        if self._balanced:
            out.append(c.balance)
        assert len(out) == extra
        return np.array(out, dtype=float)

    @property
    def _balanced(self) -> bool:
        return any(n == "balance" for spec in self.area.specs for n, _ in spec.parts)

    def _model(self, site: Site) -> tuple[highspy.Highs, int] | None:
        if site.site not in self._models:
            self._models[site.site] = _build(self.area, site, self._balanced, self.threads)
        return self._models[site.site]


def _build(
    area: Area, site: Site, balanced: bool, threads: int
) -> tuple[highspy.Highs, int] | None:
    """The site's pricing MIP (costs zero until :meth:`ExactPricing.price` sets them)."""
    h = inprocess.new_model(mip_gap=0.0)
    h.setOptionValue("threads", threads)
    h.setOptionValue("presolve", "off")  # 3 x quicker here: 6.8 ms a site against 21
    n = len(site.members)
    lower = np.zeros(n)
    upper = np.ones(n)
    lower[0] = 1.0
    at = {int(p): k for k, p in enumerate(site.members)}
    for g in area.locked:  # all of a group or none: none if part of it cannot join
        inside = [at[int(p)] for p in g if int(p) in at]
        if len(inside) < len(g):
            upper[inside] = 0.0
    if (upper < lower).any():
        return None
    none = np.zeros(0, dtype=np.int32)
    h.addCols(n, np.zeros(n), lower, upper, 0, none, none, np.zeros(0))
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32),
                            np.full(n, highspy.HighsVarType.kInteger, dtype=np.uint8))  # fmt: skip
    w = site.weight
    ys = np.arange(n, dtype=np.int32)

    def col() -> int:
        h.addCols(1, np.zeros(1), np.zeros(1), np.full(1, np.inf), 0, none, none, np.zeros(0))
        return h.getNumCol() - 1

    inf = highspy.kHighsInf
    if area.band == "strict":
        h.addRow(area.pop_min, area.pop_max, n, ys, w)
    else:
        if area.pop_min > 0:
            s = col()
            h.addRow(area.pop_min, inf, n + 1, np.append(ys, s).astype(np.int32), np.append(w, 1.0))
        if area.band == "elastic":
            e = col()
            h.addRow(-inf, area.pop_max, n + 1, np.append(ys, e).astype(np.int32),
                     np.append(w, -1.0))  # fmt: skip
        else:
            h.addRow(-inf, area.pop_max, n, ys, w)
    if balanced:
        d = col()
        idx = np.append(ys, d).astype(np.int32)
        h.addRow(-area.target, inf, n + 1, idx, np.append(-w, 1.0))
        h.addRow(area.target, inf, n + 1, idx, np.append(w, 1.0))
    if site.parents is not None:
        for k in range(1, n):
            ps = site.parents[k]
            h.addRow(-inf, 0.0, 1 + len(ps), np.append(k, ps).astype(np.int32),
                     np.append(1.0, -np.ones(len(ps))))  # fmt: skip
    for g in area.locked:
        inside = [at[int(p)] for p in g if int(p) in at]
        if len(inside) == len(g):
            for k in inside[1:]:
                h.addRow(
                    0.0, 0.0, 2, np.array([inside[0], k], dtype=np.int32), np.array([1.0, -1.0])
                )
    for g in area.apart:
        inside = [at[int(p)] for p in g if int(p) in at]
        if len(inside) > 1:
            h.addRow(-inf, 1.0, len(inside), np.array(inside, dtype=np.int32), np.ones(len(inside)))
    if area.mean_cap is not None:
        minutes = area.minutes[site.members, site.site]
        h.addRow(-inf, 0.0, n, ys, w * (minutes - area.mean_cap))
    return h, n


class _Relaxation:
    """Lower bounds on :math:`\\sum_{i \\in S} r_i + g(W_S)` over the hubs :math:`S` at
    a site (contiguity and integrality relaxed): members of negative :math:`r` packed
    fractionally by :math:`r` per patient up to the band's top, plus the least
    :math:`g` reachable."""

    def __init__(self, area: Area, site: Site, c: Costs) -> None:
        self.c, self.w, self.r = c, site.weight, c.r
        self.g = g_of(area, c)
        self.lo, self.hi = _limits(area, site)
        order = np.argsort(self.r / np.maximum(self.w, 1e-9))
        self.by_ratio = order[self.r[order] < 0]
        self.suffix_w = np.concatenate([np.cumsum(self.w[::-1])[::-1], [0.0]])
        self.points = np.array([area.pop_min, area.pop_max, area.target])

    def least_g(self, a: float, b: float) -> float:
        """The least :math:`g(W)` for :math:`W` in ``[a, b]`` (within the limits)."""
        a, b = max(a, self.lo), min(b, self.hi)
        if a > b + 1e-9:
            return np.inf
        xs = np.concatenate([[a, b], self.points[(self.points > a) & (self.points < b)]])
        return float(self.g(xs).min())

    def best_completion(self, last: int, patients: float) -> float:
        """The least :math:`\\sum r` the members after ``last`` can add to a hub of
        ``patients`` (fractional knapsack)."""
        w, r = self.w, self.r
        room = self.hi - patients
        items = self.by_ratio[self.by_ratio > last]
        if len(items) == 0 or room <= 0:
            return 0.0
        cw = np.cumsum(w[items])
        full = int(np.searchsorted(cw, room, side="right"))
        total = float(r[items[:full]].sum())
        if full < len(items):
            before = cw[full - 1] if full else 0.0
            total += float(r[items[full]]) * (room - before) / max(float(w[items[full]]), 1e-9)
        return total

    def least(self) -> float:
        """A lower bound on the reduced cost of every hub at the site."""
        w0 = float(self.w[0])
        return (
            float(self.r[0])
            + self.best_completion(0, w0)
            + self.least_g(w0, w0 + float(self.suffix_w[1]))
            - self.c.kappa
        )


def enumerate_site(
    area: Area,
    site: Site,
    prices: Prices,
    threshold: float,
    *,
    limit: int,
    deadline: Callable[[], bool],
    cheapest: bool = False,
) -> list[Column] | None:
    """Every hub at ``site`` whose reduced cost is at most ``threshold`` (None: more
    than ``limit`` of them, or ``deadline()`` came first: the list is incomplete).
    With ``cheapest``, the ``limit`` hubs of least reduced cost instead (the threshold
    falls to the worst of those kept as the search goes): a list for plans, not proofs.

    Members are added in the site's order (nearer neighbour steps first), each after
    the last one added, and only once one of its nearer neighbours is in: every
    contiguous hub is listed exactly once. A branch is cut when even its best
    completion (members of negative :math:`r` packed fractionally by :math:`r` per
    patient up to the band's top, plus the least :math:`g` reachable) is above the
    threshold, or when it can no longer reach the band.
    """
    found: list[tuple[float, Column]] = []
    for match in matches(area, site):
        c = Costs.of(area, site, prices, match)
        if site.singleton:
            col = Column(site.site, (site.site,), match)
            value = float(c.r[0] - c.kappa)
            found += [(value, col)] if value <= threshold else []
        else:
            left = limit if cheapest else limit - len(found)
            cols = _enumerate(area, site, c, match, threshold, limit=left, deadline=deadline,
                              cheapest=cheapest)  # fmt: skip
            if cols is None:
                return None
            found += cols
        if cheapest:
            found = sorted(found, key=lambda vc: vc[0])[:limit]
    return [col for _, col in sorted(found, key=lambda vc: vc[0])]


def _enumerate(
    area: Area,
    site: Site,
    c: Costs,
    match: int,
    threshold: float,
    *,
    limit: int,
    deadline: Callable[[], bool],
    cheapest: bool,
) -> list[tuple[float, Column]] | None:
    """:func:`enumerate_site` for one match: (reduced cost, column) pairs."""
    relax = _Relaxation(area, site, c)
    g, lo, hi = relax.g, relax.lo, relax.hi
    best_completion, least_g, suffix_w = relax.best_completion, relax.least_g, relax.suffix_w
    kids = site.children
    w, r = site.weight, c.r
    n = len(w)
    budget = threshold + c.kappa  # compare sum(r) + penalties + g(W) with this
    steps = 0
    # the cuts' penalties: a cut is paid once two of its practices are in, and stays
    # paid as members are added, so a branch's penalties so far bound its completions'
    cuts_of: list[list[int]] = [[] for _ in range(n)]
    for cut, places in enumerate(c.cut_at):
        for k in places[places < n]:
            cuts_of[int(k)].append(cut)
    held = np.zeros(len(c.cut_pen), dtype=int)  # each cut's practices in the hub
    held[cuts_of[0]] += 1
    cuts = len(c.cut_pen) > 0

    kept: list[tuple[float, int, Column]] = []  # (-reduced cost, order, column)

    def visit(
        last: int, inside: list[int], reach: np.ndarray, patients: float, sum_r: float
    ) -> bool:
        nonlocal steps, budget
        steps += 1
        if steps % 256 == 0 and deadline():
            return False
        if (
            lo - 1e-9 <= patients <= hi + 1e-9
            and (value := sum_r + float(g(np.array([patients]))[0])) <= budget
        ):
            col = Column(site.site, tuple(sorted(site.members[inside].tolist())), match)
            if area.feasible(col):
                heapq.heappush(kept, (-value, steps, col))
                if len(kept) > limit:
                    if not cheapest:
                        return False
                    heapq.heappop(kept)
                    budget = -kept[0][0]
        cand = np.flatnonzero(reach[last + 1 :]) + last + 1
        for k in map(int, cand):
            p = patients + float(w[k])
            if p > hi + 1e-9:
                continue
            s = sum_r + float(r[k])
            if cuts:
                s += sum(float(c.cut_pen[q]) for q in cuts_of[k] if held[q] == 1)
            bound = s + best_completion(k, p) + least_g(p, p + suffix_w[k + 1])
            if bound > budget + 1e-9:
                continue
            nxt = reach if kids is None else reach.copy()
            if kids is not None:
                nxt[kids[k]] = True
            if cuts:
                held[cuts_of[k]] += 1
            ok = visit(k, [*inside, k], nxt, p, s)
            if cuts:
                held[cuts_of[k]] -= 1
            if not ok:
                return False
        return True

    reach = np.ones(n, dtype=bool) if kids is None else np.zeros(n, dtype=bool)
    if kids is not None:
        reach[kids[0]] = True
    reach[0] = False
    done = visit(0, [0], reach, float(w[0]), float(r[0]))
    return [(-v - c.kappa, col) for v, _, col in kept] if done else None
