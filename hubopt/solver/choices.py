r"""Planners' choices: alternative good plans, what stays together, what each rule costs.

**Alternatives** (:func:`find_alternatives`). After the best plan :math:`x^0`, each
alternative :math:`x^k` is the best plan of the same model (same rules, same
objective stages) with three more row families:

* every objective stage before the last no worse than the best plan's value, and
  the last stage (patient-weighted travel) at most :math:`(1 + \varepsilon)` times
  the best plan's (``NEAR_BEST``, :math:`\varepsilon` = ``alternatives_within``);
* for every earlier plan :math:`x^r`, at least :math:`d` practices grouped
  differently (``DIFFER``, :math:`d` = ``alternatives_differ``).

*A practice's hub is its group of practices, not the hub's site*: the difference
between two plans is the number of practices that would have to move to turn one
grouping into the other, with the earlier plan's groups :math:`g` matched one-to-one
with the new plan's hubs to keep the most practices in place
(:func:`hubopt.model.check.moved_practices` counts it after the solve). The same
grouping with a hub sited at another member is therefore *not* a different plan.
With :math:`o_{gj} = \sum_{i \in g} x_{ij}` the practices of group :math:`g` in
the hub sited at :math:`j`, the largest matching :math:`\max_\mu \sum_g o_{g\mu(g)}`
must be at most :math:`N_r - d` (:math:`N_r` practices in a hub in plan
:math:`r`). The bipartite matching polytope is integral, so by LP duality this holds
exactly when there are :math:`a_g, b_j \ge 0` with

.. math::

    a_g + b_j \ge o_{gj}\ \forall g, j, \qquad \sum_g a_g + \sum_j b_j \le N_r - d,

which are linear rows: the difference is guaranteed, not hoped for. Each alternative
is solved for the time left divided by the alternatives still to find, checked by
:mod:`hubopt.model.check` like the best plan, and carries its status and gap. A
proven infeasibility means no further plan exists within the tolerance ("the best
plan is nearly unique"); running out of time proves nothing and says so.

**What stays together** (:func:`together`): every pair of neighbouring practices
(:func:`hubopt.model.adjacency.practice_neighbours`) is *firm* when the two share a
hub in every plan, *contested* in some, *apart* in none; :func:`moves` lists the
practices that change hub between the best plan and each alternative.

**Price of each rule** (:func:`rule_prices`): each rule family the scenario switches
on is relaxed or removed on its own (:func:`hubopt.solver.explain.relaxations`, each
locked group separately; optional practices made compulsory), the band's limits and
the travel cap moved by :data:`BAND_STEP` patients and :data:`CAP_STEP` minutes, and
the area re-solved with :func:`hubopt.solver.plan.solve_area` from the best plan
(a warm start, kept where it is valid). A price is proven only when both plans are.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import pandas as pd
import pulp

from hubopt import model
from hubopt.errors import HuboptError
from hubopt.inputs import site_only_codes
from hubopt.model import HubModel, check
from hubopt.scenario import Scenario
from hubopt.solver import explain, lns, mip
from hubopt.solver.instance import Instance
from hubopt.solver.mip import SolveResult
from hubopt.solver.plan import solve_area
from hubopt.text import plural

log = logging.getLogger(__name__)

#: The band's limits and the travel cap are also priced moved by these steps.
BAND_STEP = 5_000
CAP_STEP = 5.0
#: Share of the time limit the best plan gets when alternatives are asked for.
BEST_SHARE = 0.5
#: Share of an alternative's time that :func:`local_start` may take at most.
LOCAL_SHARE = 0.5
#: Hubs re-solved together by :func:`local_start` (small: each solve takes a second).
LOCAL_HUBS = 3

# ------------------------------------------------------------------ alternatives


@dataclass
class Plan:
    """The best plan (``rank`` 0) or an alternative, with its independent checks."""

    rank: int
    result: SolveResult
    checks: check.CheckReport
    #: practices grouped differently from the best plan, and from the nearest earlier plan
    differs_from_best: int = 0
    differs_least: int = 0

    @property
    def label(self) -> str:
        return "best plan" if self.rank == 0 else f"alternative {self.rank}"

    @property
    def assignment(self) -> pd.Series:
        return self.result.assignment


@dataclass
class Alternatives:
    """The best plan and the alternatives found, and why the search stopped.

    ``ended``: ``"found"`` (all asked for), ``"unique"`` (proven: no further plan
    within the tolerance differs enough) or ``"time"`` (none found in the time left;
    not a proof).
    """

    plans: list[Plan]
    requested: int
    within: float
    differ: int
    ended: str
    seconds: float = 0.0

    @property
    def found(self) -> int:
        return len(self.plans) - 1

    def describe(self) -> str:
        """One line for people."""
        text = self._describe()
        best = self.plans[0].result.objective or 0.0
        cheaper = [p.label for p in self.plans[1:] if (p.result.objective or 0.0) < best - 0.5]
        if cheaper:  # possible only when the best plan was not proven optimal
            text += (
                f"; {' and '.join(cheaper)} {'is' if len(cheaper) == 1 else 'are'} cheaper "
                "than the best plan found, which was not proven optimal: give more time"
            )
        return text

    def _describe(self) -> str:
        n, k, pct = self.found, self.requested, f"{self.within:.0%}"
        what = (
            f"{plural(n, 'alternative plan')} within {pct} of the best, each grouping at "
            f"least {plural(self.differ, 'practice')} differently from every plan before it"
        )
        if self.ended == "unique":
            return (
                f"{what}; no {'other' if n == 0 else 'further'} plan exists within {pct} "
                f"(proven): the best plan is {'unique' if n == 0 else 'nearly unique'} "
                f"({n} of {k} asked for)"
            )
        if self.ended == "time":
            return f"{what}; the time ran out before finding more ({n} of {k} asked for)"
        return what


def plan_values(result: SolveResult) -> dict[str, float]:
    """The plan's value of every objective stage (what the solver reported)."""
    return dict(result.values)


def _last(m: HubModel) -> tuple[str, pulp.LpAffineExpression]:
    return m.stages[-1]


def add_near_best(m: HubModel, values: dict[str, float], within: float) -> None:
    """Every stage before the last no worse than ``values``; the last at most
    ``1 + within`` times its value there."""
    *earlier, (last_name, last) = m.stages
    for name, expr in earlier:
        v = values[name]
        m.add_rule(model.NEAR_BEST, expr <= v + 1e-6 * max(1.0, abs(v)), f"near_{name}")
    v = values[last_name]
    m.add_rule(model.NEAR_BEST, last <= (1 + within) * v + 1e-6 * max(1.0, abs(v)), "near_last")


def add_differ(m: HubModel, plan: pd.Series, differ: int, counted: set[str], tag: str) -> None:
    """At least ``differ`` of the practices in a hub of ``plan`` (among ``counted``)
    grouped differently: the largest one-to-one matching of ``plan``'s groups with the
    new hubs keeps at most ``N - differ`` practices in place (LP dual rows, see the
    module docstring)."""
    groups = plan.reindex(sorted(counted)).dropna()
    a: dict[str, pulp.LpVariable] = {}
    b: dict[str, pulp.LpVariable] = {}
    overlap: dict[tuple[str, str], list[pulp.LpVariable]] = {}
    for i, g in groups.items():
        for j in m.eligible_sites(i):
            overlap.setdefault((g, j), []).append(m.x[i, j])
    for n, ((g, j), xs) in enumerate(sorted(overlap.items())):
        if g not in a:
            a[g] = m.problem.add_variable(f"differ_{tag}_a{len(a)}", lowBound=0)
        if j not in b:
            b[j] = m.problem.add_variable(f"differ_{tag}_b{len(b)}", lowBound=0)
        m.add_rule(model.DIFFER, a[g] + b[j] >= pulp.lpSum(xs), f"differ_{tag}_{n}")
    total = pulp.lpSum([*a.values(), *b.values()])
    m.add_rule(model.DIFFER, total <= len(groups) - differ, f"differ_{tag}_total")


def find_alternatives(
    practices: pd.DataFrame,
    minutes: pd.DataFrame,
    scenario: Scenario,
    best: SolveResult,
    *,
    best_checks: check.CheckReport,
    k: int | None = None,
    within: float | None = None,
    differ: int | None = None,
    current: pd.Series | None = None,
    neighbours: nx.Graph | None = None,
    seconds: float | None = None,
) -> Alternatives:
    """Up to ``k`` alternatives to ``best`` (defaults: the scenario's ``[output]``
    keys), found in ``seconds`` in all (default: the time limit's share left after
    the best plan, :data:`BEST_SHARE`). See the module docstring."""
    s = scenario
    k = s.alternatives if k is None else k
    within = s.alternatives_within if within is None else within
    differ = s.alternatives_differ if differ is None else differ
    seconds = (1 - BEST_SHARE) * s.time_limit_seconds if seconds is None else seconds
    start = time.perf_counter()
    deadline = start + seconds
    counted = set(practices.index) - set(site_only_codes(practices))
    plans = [Plan(0, best, best_checks)]
    ended = "found"
    inst = Instance(practices, minutes, s, current, neighbours)
    for rank in range(1, k + 1):
        left = deadline - time.perf_counter()
        if left < 1.0:
            ended = "time"
            break
        share = left / (k + 1 - rank)
        t0 = time.perf_counter()
        start_plan = local_start(
            inst, [p.assignment for p in plans], plan_values(best), within=within,
            differ=differ, counted=counted, deadline=t0 + LOCAL_SHARE * share,
        )  # fmt: skip
        m = inst.build()
        add_near_best(m, plan_values(best), within)
        for p in plans:
            add_differ(m, p.assignment, differ, counted, f"{p.rank}")
        m.problem.setObjective(_last(m)[1])
        left = share - (time.perf_counter() - t0)
        r = mip.solve(
            m,
            time_limit=max(1.0, 0.9 * left),
            gap=s.gap,
            threads=s.threads,
            solver=s.solver,
            warm_start=start_plan,
            deadline=time.perf_counter() + max(1.0, left),
        )
        if r.status == "infeasible":
            ended = "unique"
            break
        from_start = not r.has_solution and start_plan is not None
        if from_start:
            r = _start_result(inst, start_plan, r)
        if not r.has_solution:
            ended = "time"
            break
        values = (
            inst.stage_values(r.assignment) if from_start
            else {n: pulp.value(e) for n, e in m.stages}
        )  # fmt: skip
        r.values = values
        r.stages = [
            {"stage": n, "status": r.status, "value": v, "gap": r.gap, "bound": None,
             "seconds": round(r.seconds, 2)}
            for n, v in values.items()
        ]  # fmt: skip
        d = check.PlanData(
            r.assignment, practices, minutes, s, r.objective, values=values,
            current=current, neighbours=neighbours,
        )  # fmt: skip
        checks = check.check_plan(d)
        if not checks.passed:  # never reported as a plan: the search stops here
            log.warning("alternative %d failed the checks: %s", rank, checks.failures)
            ended = "time"
            break
        diffs = [len(_moved(r.assignment, p.assignment, counted)) for p in plans]
        plans.append(Plan(rank, r, checks, diffs[0], min(diffs)))
    return Alternatives(plans, k, within, differ, ended, time.perf_counter() - start)


def local_start(
    inst: Instance,
    plans: list[pd.Series],
    values: dict[str, float],
    *,
    within: float,
    differ: int,
    counted: set[str],
    deadline: float,
) -> pd.Series | None:
    """A first alternative, quickly: :data:`LOCAL_HUBS` neighbouring hubs of the best
    plan (:func:`hubopt.solver.lns.hubs_around`) re-solved exactly with the rest kept,
    grouped at least ``differ`` practices differently and within the tolerance; the
    first that also differs enough from every earlier plan. None if none is found by
    ``deadline`` (the whole model then starts from nothing)."""
    s = inst.scenario
    best = plans[0]
    hubs = lns.hub_members(best)
    around = lns.hubs_around(inst, best, hubs)
    slack = within * values[model.stage_names(inst.practices, s)[-1]]
    tried: set[frozenset[str]] = set()
    seeds = sorted(hubs, key=lambda h: (-len(hubs[h]), h))
    turn = (LOCAL_HUBS * (len(plans) - 1)) % max(1, len(seeds))  # later plans look elsewhere
    for seed in seeds[turn:] + seeds[:turn]:
        chosen = [seed, *around[seed][: LOCAL_HUBS - 1]]
        codes = [c for h in chosen for c in hubs[h]]
        left = deadline - time.perf_counter()
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
        add_near_best(m, {**here, last: here[last] + slack}, 0.0)
        add_differ(m, best, differ, inside, "local")
        m.problem.setObjective(_last(m)[1])
        r = mip.solve(m, time_limit=min(lns.PART_SECONDS, left), threads=s.threads,
                      solver=s.solver, deadline=time.perf_counter() + left)  # fmt: skip
        got = r.assignment
        if got is None:
            continue
        trial = best.copy()
        trial[got.index] = got
        if all(len(_moved(trial, p, counted)) >= differ for p in plans):
            return trial
    return None


def _start_result(inst: Instance, plan: pd.Series, stopped: SolveResult) -> SolveResult:
    """The local start as the alternative when the whole model found nothing better in
    its time: time-limited, with the whole model's bound where it printed one."""
    value = list(inst.stage_values(plan).values())[-1]
    gap = mip.relative_gap(value, stopped.bound) if stopped.bound is not None else None
    return SolveResult(
        status="time-limited", objective=value, bound=stopped.bound, gap=gap,
        seconds=stopped.seconds, assignment=plan, solver=stopped.solver,
        log="a neighbourhood of the best plan re-solved; the whole model found no better plan",
    )  # fmt: skip


def _moved(plan: pd.Series, reference: pd.Series, counted: set[str]) -> list[str]:
    """Practices (among ``counted``) grouped differently in ``plan`` than in ``reference``."""
    keep = sorted(counted)
    return check.moved_practices(plan.reindex(keep), reference.reindex(keep))


# ------------------------------------------------------------------ what stays together

#: :func:`together`'s verdict on a pair of neighbours.
FIRM, CONTESTED, APART = "firm", "contested", "apart"


def together(plans: list[pd.Series], neighbours: nx.Graph, counted: set[str]) -> pd.DataFrame:
    """For each pair of neighbouring practices (among ``counted``): in how many of the
    plans they share a hub, and the verdict (firm: all, contested: some, apart: none).

    Columns: ``a``, ``b``, ``together``, ``plans``, ``verdict``.
    """
    rows = []
    for a, b in sorted(tuple(sorted(e)) for e in neighbours.edges):
        if a not in counted or b not in counted:
            continue
        n = sum(
            1 for p in plans if pd.notna(p.get(a)) and pd.notna(p.get(b)) and p.get(a) == p.get(b)
        )
        verdict = FIRM if n == len(plans) else APART if n == 0 else CONTESTED
        rows.append({"a": a, "b": b, "together": n, "plans": len(plans), "verdict": verdict})
    return pd.DataFrame(rows, columns=["a", "b", "together", "plans", "verdict"])


def moves(alts: Alternatives, practices: pd.DataFrame) -> pd.DataFrame:
    """Practices that change hub between the best plan and each alternative: one row per
    practice and alternative, with the hub sites it moves between and what the
    alternative costs over the best plan (patient-minutes and share).

    Columns: ``practice_code``, ``practice_name``, ``plan``, ``best_site``,
    ``plan_site``, ``extra_patient_minutes``, ``extra_share``.
    """
    counted = set(practices.index) - set(site_only_codes(practices))
    best = alts.plans[0]
    base = best.result.objective or 0.0
    rows = []
    for p in alts.plans[1:]:
        extra = (p.result.objective or 0.0) - base
        for code in _moved(p.assignment, best.assignment, counted):
            rows.append(
                {
                    "practice_code": code,
                    "practice_name": practices.at[code, "name"],
                    "plan": p.rank,
                    "best_site": best.assignment.get(code),
                    "plan_site": p.assignment.get(code),
                    "extra_patient_minutes": extra,
                    "extra_share": extra / base if base else 0.0,
                }
            )
    columns = ["practice_code", "practice_name", "plan", "best_site", "plan_site",
               "extra_patient_minutes", "extra_share"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


# ------------------------------------------------------------------ price of each rule


@dataclass
class Price:
    """One rule relaxed (or moved) and the plan re-solved: what changes.

    ``kind``: ``"rule"`` (a rule family relaxed or removed) or ``"sweep"`` (the band
    or the cap moved by a step). Figures of a plan that was not found are None.
    """

    rule: str
    words: str
    kind: str
    change: dict[str, Any]
    status: str
    base_status: str
    patient_minutes: float | None
    base_patient_minutes: float
    worst_minutes: float | None
    base_worst_minutes: float
    hubs_in_band: int | None
    base_hubs_in_band: int
    hubs: int | None
    base_hubs: int
    gap: float | None = None
    seconds: float = 0.0
    assignment: pd.Series | None = field(default=None, repr=False)

    @property
    def proven(self) -> bool:
        return self.status == "optimal" and self.base_status == "optimal"

    @property
    def saving(self) -> float | None:
        """Patient-minutes the change saves (negative: it costs more)."""
        if self.patient_minutes is None:
            return None
        return self.base_patient_minutes - self.patient_minutes

    def sentence(self) -> str:
        """The price in a planner's words, with its status."""
        if self.patient_minutes is None:
            why = {"infeasible": "no plan meets the rules then (proven)"}.get(
                self.status, f"no plan found in the time ({self.status})"
            )
            return f"{self.words}: {why}"
        save = self.saving or 0.0
        pct = abs(save) / self.base_patient_minutes if self.base_patient_minutes else 0.0
        share = "<0.1%" if 0 < pct < 0.0005 else f"{pct:.1%}"
        amount = f"{abs(save):,.0f} patient-minutes ({share})"
        if self.kind == "rule":
            nothing = (
                f"{self.words} costs nothing: the best plan without it is no better"
                if self.status == "optimal"
                else f"without {self.words} no better plan was found in the time"
            )
            text = (
                f"{self.words} costs {amount}"
                if save > 0.5
                else nothing
                if save >= -0.5
                else f"without {self.words} the plan found is {amount} worse"
            )
        else:
            nothing = (
                f"{self.words} would change nothing"
                if self.status == "optimal"
                else f"with {self.words} no better plan was found in the time"
            )
            text = (
                f"{self.words} would save {amount}"
                if save > 0.5
                else nothing
                if save >= -0.5
                else f"{self.words} would cost {amount}"
            )
        return f"{text}{self._effects()}{self._proof()}"

    def _effects(self) -> str:
        out = []
        worst, base = self.worst_minutes, self.base_worst_minutes
        if worst is not None and abs(worst - base) > 0.05:
            out.append(f"worst trip {base:.1f} -> {worst:.1f} min")
        if self.hubs_in_band is not None and (
            self.hubs_in_band != self.base_hubs_in_band or self.hubs != self.base_hubs
        ):
            out.append(
                f"hubs in band {self.base_hubs_in_band} of {self.base_hubs} -> "
                f"{self.hubs_in_band} of {self.hubs}"
            )
        return f" ({'; '.join(out)})" if out else ""

    def _proof(self) -> str:
        if self.proven:
            return ""
        which = [
            f"{name} plan {st}"
            for name, st in (("the best", self.base_status), ("the re-solved", self.status))
            if st != "optimal"
        ]
        known = self.gap is not None and self.status != "optimal"
        gap = f", within {self.gap:.1%}" if known else ""
        return f" [not proven: {', '.join(which)}{gap}]"

    def record(self) -> dict[str, Any]:
        """This price as a row of :func:`prices_frame` (and of ``summary.json``)."""
        return {
            "rule": self.rule,
            "kind": self.kind,
            "change": {k: list(v) if isinstance(v, tuple) else v for k, v in self.change.items()},
            "status": self.status,
            "proven": self.proven,
            "patient_minutes": self.patient_minutes,
            "saving_patient_minutes": self.saving,
            "saving_share": (
                None if self.saving is None or not self.base_patient_minutes
                else self.saving / self.base_patient_minutes
            ),
            "worst_minutes": self.worst_minutes,
            "hubs_in_band": self.hubs_in_band,
            "hubs": self.hubs,
            "gap": self.gap,
            "seconds": round(self.seconds, 2),
            "sentence": self.sentence(),
        }  # fmt: skip


def plan_figures(plan: pd.Series, practices: pd.DataFrame, minutes: pd.DataFrame,
                 scenario: Scenario) -> tuple[float, float, int, int]:  # fmt: skip
    """Patient-minutes, worst minutes, hubs in ``scenario``'s band (exempt hubs count
    as in band) and hubs of a plan, from the raw data."""
    d = check.PlanData(plan, practices, minutes, scenario)
    sizes = practices["list_size"]
    lo, hi = scenario.population_min, scenario.population_max
    hubs = d.hubs
    ok = sum(
        1 for site, members in hubs.items()
        if d.exempt(site, members) or lo <= sizes.reindex(members).sum() <= hi
    )  # fmt: skip
    return (
        check.recompute("weighted_travel", d),
        check.recompute("worst_travel", d),
        ok,
        len(hubs),
    )


def price_changes(s: Scenario, practices: pd.DataFrame) -> list[tuple[str, str, str, dict]]:
    """(rule, words, kind, scenario change) for every rule the scenario switches on and
    the band and cap steps (see the module docstring)."""
    out: list[tuple[str, str, str, dict]] = []
    for words, change in explain.relaxations(s, practices, each_group=True):
        out.append((words, words, "rule", change))
    if s.optional:
        out.append(("optional practices", f"letting {', '.join(s.optional)} stay out", "rule",
                    {"optional": ()}))  # fmt: skip
    lo, hi, cap = s.population_min, s.population_max, s.travel_cap_minutes
    steps = [
        ("population_min", lo - BAND_STEP, lo, "a lower band of {:,} instead of {:,}", lo > 0),
        ("population_min", lo + BAND_STEP, lo, "a lower band of {:,} instead of {:,}",
         lo + BAND_STEP <= hi),
        ("population_max", hi + BAND_STEP, hi, "an upper band of {:,} instead of {:,}", True),
        ("population_max", hi - BAND_STEP, hi, "an upper band of {:,} instead of {:,}",
         hi - BAND_STEP >= max(lo, 1)),
    ]  # fmt: skip
    for key, new, old, text, ok in steps:
        if ok:
            new = max(new, 0)
            out.append((f"{key} {new:,}", text.format(new, old), "sweep", {key: new}))
    for minutes in (cap + CAP_STEP, cap - CAP_STEP):
        if minutes > 0:
            out.append((f"travel cap {minutes:g}", f"a cap of {minutes:g} minutes instead of "
                        f"{cap:g}", "sweep", {"travel_cap_minutes": minutes}))  # fmt: skip
    return out


def rule_prices(
    practices: pd.DataFrame,
    minutes: pd.DataFrame,
    scenario: Scenario,
    best: SolveResult,
    *,
    current: pd.Series | None = None,
    neighbours: nx.Graph | None = None,
    seconds: float | None = None,
) -> list[Price]:
    """The price of each rule (see the module docstring): one re-solve per entry of
    :func:`price_changes`, all within ``seconds`` (default the scenario's time limit),
    shared out equally among the re-solves still to run."""
    s = scenario
    base = plan_figures(best.assignment, practices, minutes, s)
    changes = price_changes(s, practices)
    seconds = s.time_limit_seconds if seconds is None else seconds
    deadline = time.perf_counter() + seconds
    out = []
    for n, (rule, words, kind, change) in enumerate(changes):
        t0 = time.perf_counter()
        share = max(1.0, (deadline - t0) / (len(changes) - n))
        figures: tuple[Any, ...] = (None, None, None, None)
        gap = None
        plan = None
        try:
            relaxed = s.replace(**change, time_limit_seconds=share)
            r = solve_area(practices, minutes, relaxed, current=current, neighbours=neighbours,
                           warm_start=best.assignment)  # fmt: skip
            status, gap = r.status, r.gap
            plan = r.assignment if r.has_solution else _still_valid(best, relaxed, d=(
                practices, minutes, current, neighbours))  # fmt: skip
            if plan is not None:
                figures = plan_figures(plan, practices, minutes, s)
                status = r.status if r.has_solution else "time-limited"
        except HuboptError as exc:
            status = "error"
            log.info("price of %s: %s", rule, exc)
        out.append(
            Price(
                rule,
                words,
                kind,
                change,
                status,
                best.status,
                figures[0],
                base[0],
                figures[1],
                base[1],
                figures[2],
                base[2],
                figures[3],
                base[3],
                gap,
                time.perf_counter() - t0,
                plan,
            )  # fmt: skip
        )
    return out


def _still_valid(best: SolveResult, relaxed: Scenario, *, d: tuple) -> pd.Series | None:
    """The best plan, when the re-solve found none in its time but the plan keeps the
    relaxed rules (a relaxation always does): nothing better found, gap unknown."""
    practices, minutes, current, neighbours = d
    data = check.PlanData(best.assignment, practices, minutes, relaxed, current=current,
                          neighbours=neighbours)  # fmt: skip
    return best.assignment if check.check_plan(data).passed else None


def prices_frame(prices: list[Price]) -> pd.DataFrame:
    """One row per price (:meth:`Price.record`)."""
    return pd.DataFrame([p.record() for p in prices])


# ------------------------------------------------------------------ all of it


@dataclass
class Choices:
    """What a planner can choose: the alternatives, what stays together, what each
    rule costs (either part None / empty when not asked for)."""

    alternatives: Alternatives | None = None
    pairs: pd.DataFrame | None = None
    moves: pd.DataFrame | None = None
    prices: list[Price] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def contested(self) -> list[str]:
        """Practices that change hub between the best plan and some alternative."""
        return [] if self.moves is None else sorted(set(self.moves["practice_code"]))

    def plans_frame(self) -> pd.DataFrame:
        """One row per plan: rank, status, gap, patient-minutes and the excess over the
        best, practices grouped differently from the best and from the nearest earlier
        plan, checks passed, seconds."""
        if self.alternatives is None:
            return pd.DataFrame()
        best = self.alternatives.plans[0].result.objective or 0.0
        return pd.DataFrame(
            [
                {
                    "plan": p.label,
                    "status": p.result.status,
                    "gap": p.result.gap,
                    "patient_minutes": p.result.objective,
                    "extra_share": ((p.result.objective or 0.0) - best) / best if best else 0.0,
                    "hubs": int(p.assignment.dropna().nunique()),
                    "differs_from_best": p.differs_from_best,
                    "differs_least": p.differs_least,
                    "checks_passed": p.checks.passed,
                    "seconds": round(p.result.seconds, 2),
                }
                for p in self.alternatives.plans
            ]
        )

    def lines(self) -> list[str]:
        """A few lines for the CLI summary."""
        out = []
        a = self.alternatives
        if a is not None:
            out.append(f"Alternatives: {a.describe()} ({a.seconds:.1f} s)")
            for p in a.plans[1:]:
                extra = (p.result.objective or 0.0) / (a.plans[0].result.objective or 1.0) - 1
                out.append(
                    f"  {p.label}: {p.result.describe()}, +{extra:.1%} patient-minutes, "
                    f"{plural(p.differs_from_best, 'practice')} grouped differently from the best"
                )
            if self.pairs is not None and len(self.pairs):
                counts = self.pairs["verdict"].value_counts()
                out.append(
                    f"Together: of {len(self.pairs)} neighbouring pairs, {counts.get(FIRM, 0)} "
                    f"share a hub in every plan, {counts.get(CONTESTED, 0)} in some, "
                    f"{counts.get(APART, 0)} in none; {plural(len(self.contested), 'practice')} "
                    f"contested{': ' + ', '.join(self.contested) if self.contested else ''}"
                )
        if self.prices:
            out.append(f"Price of each rule ({self.seconds.get('prices', 0.0):.1f} s):")
            out += [f"  {p.sentence()}" for p in self.prices]
        return out

    def summary(self) -> dict[str, Any]:
        """What ``summary.json`` holds under ``choices``."""
        out: dict[str, Any] = {"seconds": {k: round(v, 2) for k, v in self.seconds.items()}}
        a = self.alternatives
        if a is not None:
            out["alternatives"] = {
                "requested": a.requested,
                "found": a.found,
                "within": a.within,
                "differ": a.differ,
                "ended": a.ended,
                "text": a.describe(),
                "plans": _records(self.plans_frame()),
                "assignments": [
                    {k: v for k, v in p.assignment.items() if pd.notna(v)} for p in a.plans
                ],
            }
            pairs = self.pairs if self.pairs is not None else pd.DataFrame(columns=["verdict"])
            out["together"] = {
                "pairs": _records(pairs),
                "contested_practices": self.contested,
                "moves": [] if self.moves is None else _records(self.moves),
            }
        if self.prices:
            out["rule_prices"] = [p.record() for p in self.prices]
        return out


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts for JSON (missing values as None, not NaN)."""
    return df.astype(object).where(df.notna(), None).to_dict(orient="records")
