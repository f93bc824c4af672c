r"""Planners' choices: alternative good plans, what stays together, what each rule costs.

**Alternatives** (:func:`find_alternatives`). After the best plan :math:`x^0`, each
alternative :math:`x^k` is the best plan of the same model (same rules, same
objective stages) with three more row families:

* every objective stage before the last no worse than the best plan's value, and
  the last stage (patient-weighted travel) at most :math:`(1 + \varepsilon)` times
  the best plan's (``NEAR_BEST``, :math:`\varepsilon` = ``alternatives_within``);
* for every earlier plan :math:`x^r`, at least :math:`d` practices grouped
  differently (``DIFFER``, :math:`d` = ``alternatives_differ``).

The rows are :mod:`hubopt.model.alternatives` (a practice's hub is its group of
practices, not the hub's site: the same grouping sited at another member is not a
different plan; the difference is guaranteed by linear rows, not hoped for). Each alternative
is solved for the time left divided by the alternatives still to find (from a quick
first alternative, :func:`hubopt.solver.search.differing_start`), checked by
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

What a planner reads of all this (sentences, tables, ``summary.json``) is written by
:mod:`hubopt.outputs.choices`.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import pandas as pd

from hubopt.errors import HuboptError
from hubopt.inputs import site_only_codes
from hubopt.model import alternatives as alternative_rows
from hubopt.model import check
from hubopt.scenario import Scenario
from hubopt.solver import explain, search
from hubopt.solver.backends import Options
from hubopt.solver.clock import Clock
from hubopt.solver.instance import Instance, moved_among
from hubopt.solver.plan import solve_area
from hubopt.solver.result import SolveResult, Status, relative_gap
from hubopt.solver.stages import solve_model

log = logging.getLogger(__name__)

#: The band's limits and the travel cap are also priced moved by these steps.
BAND_STEP = 5_000
CAP_STEP = 5.0
#: Share of the time limit the best plan gets when alternatives are asked for.
BEST_SHARE = 0.5
#: Share of an alternative's time that its quick first alternative may take at most
#: (:func:`hubopt.solver.search.differing_start`).
LOCAL_SHARE = 0.5

# ------------------------------------------------------------------ alternatives


@dataclass
class RankedPlan:
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

    plans: list[RankedPlan]
    requested: int
    within: float
    differ: int
    ended: str
    seconds: float = 0.0

    @property
    def found(self) -> int:
        return len(self.plans) - 1


def plan_values(result: SolveResult) -> dict[str, float]:
    """The plan's value of every objective stage (what the solver reported)."""
    return dict(result.values)


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
    counted = set(practices.index) - set(site_only_codes(practices))
    plans = [RankedPlan(0, best, best_checks)]
    ended = "found"
    inst = Instance(practices, minutes, s, current, neighbours)
    clock = Clock.starting(seconds)
    options = Options.of(s)
    for rank in range(1, k + 1):
        left = clock.left()
        if left < 1.0:
            ended = "time"
            break
        share = left / (k + 1 - rank)
        t0 = time.perf_counter()
        start_plan = search.differing_start(
            inst, [p.assignment for p in plans], plan_values(best),
            clock.within(LOCAL_SHARE * share), dataclasses.replace(options, threads=1, gap=0.0),
            within=within, differ=differ, counted=counted,
        )  # fmt: skip
        m = inst.build()
        alternative_rows.add_near_best(m, plan_values(best), within)
        for p in plans:
            alternative_rows.add_differ(m, p.assignment, differ, counted, f"{p.rank}")
        left = share - (time.perf_counter() - t0)
        r = solve_model(
            m, clock.within(max(1.0, 0.9 * left)), options, warm_start=start_plan,
            stages=m.stages[-1:],
        )  # fmt: skip
        if r.status is Status.INFEASIBLE:
            ended = "unique"
            break
        if not r.has_solution and start_plan is not None:
            r = _start_result(inst, start_plan, r)
        if not r.has_solution:
            ended = "time"
            break
        d = check.PlanData(
            r.assignment, practices, minutes, s, r.objective, values=r.values,
            current=current, neighbours=neighbours,
        )  # fmt: skip
        checks = check.check_plan(d)
        if not checks.passed:  # never reported as a plan: the search stops here
            log.warning("alternative %d failed the checks: %s", rank, checks.failures)
            ended = "time"
            break
        diffs = [len(moved_among(r.assignment, p.assignment, counted)) for p in plans]
        plans.append(RankedPlan(rank, r, checks, diffs[0], min(diffs)))
    return Alternatives(plans, k, within, differ, ended, clock.elapsed())


def _start_result(inst: Instance, plan: pd.Series, stopped: SolveResult) -> SolveResult:
    """The local start as the alternative when the whole model found nothing better in
    its time: time-limited, with the whole model's bound where it printed one."""
    values = inst.stage_values(plan)
    value = list(values.values())[-1]
    return SolveResult(
        status=Status.TIME_LIMITED, objective=value, bound=stopped.bound,
        gap=relative_gap(value, stopped.bound), seconds=stopped.seconds, assignment=plan,
        solver=stopped.solver, values=values,
        log="a neighbourhood of the best plan re-solved; the whole model found no better plan",
    )  # fmt: skip


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
        for code in moved_among(p.assignment, best.assignment, counted):
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
        return self.status == Status.OPTIMAL and self.base_status == Status.OPTIMAL

    @property
    def saving(self) -> float | None:
        """Patient-minutes the change saves (negative: it costs more)."""
        if self.patient_minutes is None:
            return None
        return self.base_patient_minutes - self.patient_minutes


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
    clock = Clock.starting(seconds)
    out = []
    for n, (rule, words, kind, change) in enumerate(changes):
        t0 = time.perf_counter()
        share = max(1.0, clock.left() / (len(changes) - n))
        figures: tuple[Any, ...] = (None, None, None, None)
        gap = None
        plan = None
        try:
            relaxed = s.replace(**change, time_limit_seconds=share)
            r = solve_area(practices, minutes, relaxed, current=current, neighbours=neighbours,
                           warm_start=best.assignment)  # fmt: skip
            status: str = r.status
            gap = r.gap
            plan = r.assignment if r.has_solution else _still_valid(best, relaxed, d=(
                practices, minutes, current, neighbours))  # fmt: skip
            if plan is not None:
                figures = plan_figures(plan, practices, minutes, s)
                status = r.status if r.has_solution else Status.TIME_LIMITED
        except HuboptError as exc:
            status = "error"  # the relaxed rules could not even be built
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
