"""The solver stage's one entry point: a plan for an area of any size, within the time.

:func:`solve_area` is what the pipeline, the what-ifs and the benchmarks call. Areas
of more than :data:`PARTITION_MIN` practices whose objectives are sums over hubs are
solved by set partitioning after steps 1-2 below (:func:`partitioned`,
:mod:`hubopt.solver.partition`). Other small areas (up to :data:`DIRECT_PRACTICES`
practices, unless the run is repeatable) go straight to the exact model, objectives in
stages (:func:`hubopt.solver.stages.solve_model`). The rest:

1. a first plan in seconds (:func:`hubopt.solver.first.construct`: grown hub by hub,
   or piece by piece where the greedy cannot);
2. improved exactly, a few hubs at a time (:func:`hubopt.solver.search.improve`), until
   no neighbourhood improves or :data:`SEARCH_SHARE` of the time is spent;
3. the whole model solved from the best plan (MIP start) for the time left, which
   gives the bound that certifies the gap and may improve or prove the plan.

The answer is the better of the search's plan and the MIP's, with the MIP's bound
(or, where CBC printed none before the deadline, the Lagrangian or LP bound of the
whole model without contiguity, :func:`hubopt.solver.bounds.relaxed_bound`; never a
guess).
A stage whose value the start already proves optimal is not solved again: a plan
with no band breach or no patient left out is optimal in that stage, so the model is
built with a strict band (or with every practice assigned) instead, which is the
same problem with one objective stage fewer.

The time limit is kept: every step works to one clock
(:class:`hubopt.solver.clock.Clock`), and a CBC run still going past it is stopped
(:mod:`hubopt.solver.backends.cbc`). Ctrl-C (KeyboardInterrupt) during the search or
the MIP returns the best plan so far, marked time-limited.

A repeatable run (``[solver] repeatable``) gives every step a fixed amount of work
as well (:mod:`hubopt.solver.clock`: nodes per solve, LP iterations for the search)
and takes steps 1-3 whatever the area's size; the whole model's plan is
used only where a proof or its node limit ended it, not the clock. Then the plan
depends on the inputs alone, not on the machine's speed or load; the result names
any step the clock ended all the same (``clock_stops``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass

import networkx as nx
import pandas as pd

from hubopt import model
from hubopt.errors import SolverError
from hubopt.model import check
from hubopt.scenario import Scenario
from hubopt.solver import bounds, columns, first, partition, search
from hubopt.solver.backends import Options
from hubopt.solver.clock import ITERATIONS_PER_SECOND, NODES_PER_SECOND, OVERRUN_SECONDS, Clock
from hubopt.solver.instance import Instance, Values, better
from hubopt.solver.result import SolveResult, StageRecord, Status, relative_gap
from hubopt.solver.stages import solve_model

log = logging.getLogger(__name__)

#: Areas up to this many practices that set partitioning does not take are solved by
#: the exact model alone (unless the run is repeatable).
DIRECT_PRACTICES = 60
#: Areas of more practices than this are solved by set partitioning (where every
#: objective is a sum over hubs). Measured on England's CCGs at 15 s an area: above
#: it, set partitioning proves 60 of the 66 areas of 27-60 practices against the
#: compact model's 47 (worst gap 7% against 100%), and 94 of the 103 areas up to 60
#: against 80 in a repeatable run; at or below it its LP is weak (Eden, 25 practices:
#: 17-20% below the optimum; 99G, 26: over 50,000 columns within the band-breach gap),
#: while the compact model proves every such area in under 8 s.
PARTITION_MIN = 26
#: Share of the time limit the construction may take at most.
CONSTRUCT_SHARE = 0.15
#: Share of the time limit by which the neighbourhood search stops at the latest.
SEARCH_SHARE = 0.5
#: Seconds the whole model needs at least to be worth starting after the search.
MIP_SECONDS_MIN = 2.0
#: Share of the time limit the Lagrangian bound may take at most (large areas).
LAGRANGE_SHARE = 0.08
#: Share of the time left that the MIP leaves for writing and reading the model.
RESERVE_SHARE = 0.1
#: A CBC run still going this share of the time limit past it is stopped (at most
#: :data:`hubopt.solver.clock.OVERRUN_SECONDS`): the time limit is kept within 5%.
OVERRUN_SHARE = 0.05


@dataclass(frozen=True)
class _Run:
    """One solve: the area, its clock, how to run the solver, and where progress goes."""

    inst: Instance
    clock: Clock
    options: Options
    say: Callable[[str], None]

    @property
    def part_options(self) -> Options:
        """Parts (construction pieces, neighbourhoods) are solved to optimality on one
        thread: the run's gap tolerance and threads are for the whole model."""
        return dataclasses.replace(self.options, threads=1, gap=0.0)

    def done(self, result: SolveResult) -> SolveResult:
        """``result`` with its seconds and (repeatable runs) the steps the clock ended."""
        repeatable = self.clock.repeatable
        compact = not result.bound_kind  # the set partitioning names its own
        searched = "neighbourhood search" in result.log
        return dataclasses.replace(
            result,
            seconds=self.clock.elapsed(),
            repeatable=repeatable,
            clock_stops=self.clock.stops() if repeatable else (),
            bound_kind=f"compact model ({result.solver})" if compact else result.bound_kind,
            plan_source=result.plan_source
            or ("neighbourhood search" if searched else "compact model"),
            proof=result.proof
            or (f"{result.solver} on the compact model" if result.status is Status.OPTIMAL else ""),
        )


def solve_area(
    practices: pd.DataFrame,
    minutes: pd.DataFrame,
    scenario: Scenario,
    *,
    current: pd.Series | None = None,
    neighbours: nx.Graph | None = None,
    warm_start: pd.Series | None = None,
    progress: Callable[[str], None] | None = None,
) -> SolveResult:
    """Solve the scenario's model for the area within ``scenario.time_limit_seconds``
    (see the module docstring). ``warm_start`` (practice -> site, e.g. today's
    grouping) is used where it is valid and better. With ``scenario.repeatable`` every
    step also has a fixed amount of work (:mod:`hubopt.solver.clock`);
    ``result.clock_stops`` names the steps the clock ended all the same."""
    s = scenario
    clock = Clock.starting(
        s.time_limit_seconds,
        repeatable=s.repeatable,
        overrun=min(OVERRUN_SECONDS, OVERRUN_SHARE * s.time_limit_seconds),
    )
    run = _Run(
        Instance(practices, minutes, s, current, neighbours),
        clock,
        Options.of(s),
        progress or (lambda text: log.info(text)),
    )
    if s.heuristic_only:
        return run.done(_search_only(run, warm_start))
    if len(practices) <= DIRECT_PRACTICES and not s.repeatable and not partitioned(run.inst):
        return run.done(_direct(run, warm_start))
    return run.done(_staged(run, warm_start))


def _staged(run: _Run, warm_start: pd.Series | None) -> SolveResult:
    """A large area: first plan, neighbourhood search, then the whole model from the
    best plan (the module docstring's steps 1-3)."""
    inst, s, say, clock = run.inst, run.inst.scenario, run.say, run.clock
    best: pd.Series | None = None
    lp_bound: float | None = None
    try:
        share = lambda f: clock.until(clock.start + f * s.time_limit_seconds)  # noqa: E731
        best = _first_plan(run, warm_start, share(CONSTRUCT_SHARE))
        if best is not None and partitioned(inst):
            try:
                return _partitioned(run, best)
            except SolverError as failed:  # the compact model from the same plan instead
                say(f"set partitioning failed ({failed}); the compact model takes over")
        if best is None:
            say("no first plan from the heuristics; solving the whole model")
        else:
            best = _search(run, best, share(SEARCH_SHARE))
        # Building and relaxing the whole model cannot be stopped half way: start only
        # if it fits in the time left, as timed on the parts (about 1.5 x the build).
        pairs = int((inst.minutes.to_numpy() <= s.travel_cap_minutes).sum())
        need = clock.build_estimate(pairs)
        left = clock.left()
        if best is not None and (left < MIP_SECONDS_MIN or (need and 1.5 * need > left)):
            clock.stopped("whole model")
            say("no time left for the whole model: the search's plan, gap unknown")
            return _plan_result(inst, best, None)
        whole = _settled(inst, best) if best is not None else inst
        m = whole.build()
        if len(m.stages) == 1:  # a bound in case CBC prints none before the deadline
            lp_bound, kind = _relaxed_bound(whole, m, best, clock)
            if best is not None:
                say(f"{kind} bound after {clock.elapsed():.1f} s: "
                    f"{_show(inst.values(best), lp_bound)}")  # fmt: skip
        if best is not None and clock.left() < MIP_SECONDS_MIN:
            clock.stopped("whole model")
            say("no time left for the whole model's MIP")
            return _plan_result(inst, best, None, lp_bound=lp_bound)
        start_plan = best if best is not None else warm_start
        try:
            result = _solve_model(run, whole, m, lp_bound, start_plan,
                                  nominal=(1 - SEARCH_SHARE) * s.time_limit_seconds)  # fmt: skip
        except SolverError as failed:  # the search's plan is still valid: keep it
            if best is None:
                raise
            say(f"the whole model's solver failed ({failed}); the search's plan is returned")
            return _plan_result(inst, best, None, lp_bound=lp_bound)
    except KeyboardInterrupt as stop:
        best = stop.plan if isinstance(stop, search.Interrupted) else best
        if best is None:
            raise
        say("interrupted: the best plan so far is returned")
        return _plan_result(inst, best, None, interrupted=True, lp_bound=lp_bound)
    say(f"whole model after {clock.elapsed():.1f} s: {result.status}, bound {result.bound}")
    if best is not None and clock.repeatable and result.clock_stopped:
        # Its plan depends on how far the clock let it get: only its bound is used.
        say("the clock stopped the whole model: its bound is used, its plan is not")
        result = _plan_result(inst, best, result, lp_bound=lp_bound)
    elif best is not None and (
        not result.has_solution or better(inst.values(best), inst.values(result.assignment))
    ):
        result = _plan_result(inst, best, result, lp_bound=lp_bound)
    say(f"done after {clock.elapsed():.1f} s: {result.describe()}")
    return result


def partitioned(inst: Instance) -> bool:
    """Whether set partitioning solves the area: more than :data:`PARTITION_MIN`
    practices and every objective a sum over hubs (measured: see the constant)."""
    return len(inst.practices) > PARTITION_MIN and columns.supports(inst)


def _partitioned(run: _Run, best: pd.Series) -> SolveResult:
    """A large area by set partitioning (:mod:`hubopt.solver.partition`) from the first
    plan: column generation, price-and-branch and the proof by enumeration; where that
    leaves a gap and time, the neighbourhood search improves the plan, and the
    partitioning's bound certifies it. A repeatable run searches first, for its share
    of the time and work as on the compact path, and a partitioning the clock ended
    gives only its bound: the plan is the search's (at 15 s an area, searching after
    the partitioning left 17 of England's areas with plans 2-24% worse in travel)."""
    inst, clock, say = run.inst, run.clock, run.say
    s = inst.scenario
    if clock.repeatable:  # its plan must not depend on the clock: the search's first
        try:
            best = _search(
                run, best, clock.until(clock.start + SEARCH_SHARE * s.time_limit_seconds)
            )
        except search.Interrupted as stop:
            return _plan_result(inst, stop.plan, None, interrupted=True)
    improve = None if clock.repeatable else (lambda p, c: _improve(run, p, c))  # noqa: E731
    try:
        result = partition.solve(inst, clock.within((1 - RESERVE_SHARE) * clock.left()),
                                 plans=[best], say=say, improve=improve)  # fmt: skip
    except KeyboardInterrupt as stop:
        best = stop.plan if isinstance(stop, search.Interrupted) else best
        say("interrupted: the best plan so far is returned")
        return _plan_result(inst, best, None, interrupted=True)
    if result.clock_stopped:
        clock.stopped("set partitioning")
    # a repeatable run uses the plan only where no step that made it was ended by the
    # clock (a proof the clock ended after it may still leave its bound)
    timed = clock.repeatable and result.clock_stopped and not result.plan_by_work
    use = result.has_solution and not timed
    if clock.repeatable and result.plan_source == "first plan":  # the plan it was given
        result = dataclasses.replace(result, plan_source="neighbourhood search")
    start = result.assignment if use and result.assignment is not None else best
    if result.status is Status.OPTIMAL and use:
        say(f"done after {clock.elapsed():.1f} s: {result.describe()}")
        return result
    improved = start
    if not clock.repeatable:  # (a repeatable run's search has had its work)
        try:
            improved = _search(run, start, clock)
        except search.Interrupted as stop:
            improved = stop.plan
    if use and not better(inst.values(improved), inst.values(start)):
        out = result
    else:
        out = _plan_result(inst, improved, result)
        out = dataclasses.replace(
            out, bound_kind=result.bound_kind, plan_source="neighbourhood search"
        )
    say(f"done after {clock.elapsed():.1f} s: {out.describe()}")
    return out


def _improve(run: _Run, plan: pd.Series, clock: Clock) -> pd.Series:
    """The neighbourhood search from ``plan`` to ``clock``'s deadline (Ctrl-C raises
    :class:`~hubopt.solver.search.Interrupted` with its best plan)."""
    say = lambda v, _: run.say(f"better plan after {run.clock.elapsed():.1f} s: {_show(v)}")  # noqa: E731
    return search.improve(run.inst, plan, clock, run.part_options, report=say)


def _first_plan(run: _Run, warm_start: pd.Series | None, clock: Clock) -> pd.Series | None:
    """The construction's first plan by ``clock``'s deadline (or ``warm_start`` where
    valid and better)."""
    inst = run.inst
    best = first.construct(inst, clock, run.part_options)
    if best is not None and warm_start is not None:
        best = _better_of(inst, best, warm_start)
    if best is not None:
        run.say(f"first plan after {clock.elapsed():.1f} s: {_show(inst.values(best))}")
    return best


def _search(run: _Run, best: pd.Series, clock: Clock) -> pd.Series:
    """The neighbourhood search from ``best`` to ``clock``'s deadline (in a repeatable
    run, for :data:`hubopt.solver.clock.ITERATIONS_PER_SECOND` of work per second of
    its share of the time limit at most)."""
    inst, s = run.inst, run.inst.scenario
    share = SEARCH_SHARE if not s.heuristic_only else 1.0
    return search.improve(
        inst,
        best,
        clock,
        run.part_options,
        report=lambda v, _: run.say(f"better plan after {clock.elapsed():.1f} s: {_show(v)}"),
        work=int(ITERATIONS_PER_SECOND * share * s.time_limit_seconds) if s.repeatable else None,
    )


def _direct(run: _Run, warm_start: pd.Series | None) -> SolveResult:
    """A small area: the exact model, as it is (no start of ours, so CBC's own search
    is unchanged); the greedy's first plan (a fraction of a second) is kept only as
    the answer should the model find none in time or its solver fail (seen in the
    all-England run: 2 of 135 areas, one "CBC failed to run", one no plan in 15 s)."""
    inst, say = run.inst, run.say
    fallback = first.grow(inst)  # None where it cannot count a rule (hub count, ...)
    try:
        result = _solve_model(run, inst, inst.build(), None, warm_start,
                              nominal=inst.scenario.time_limit_seconds)  # fmt: skip
    except SolverError as failed:
        if fallback is None:
            raise
        say(f"the model's solver failed ({failed}); the first plan is returned")
        return _plan_result(inst, fallback, None)
    if result.has_solution or result.status is Status.INFEASIBLE or fallback is None:
        return result
    say("the model found no plan in time; the first plan is returned")
    return _plan_result(inst, fallback, result)


def _search_only(run: _Run, warm_start: pd.Series | None) -> SolveResult:
    """``heuristic_only``: the first plan, improved by the neighbourhood search to the
    deadline; no whole model, so no bound and the gap unknown (never guessed)."""
    inst = run.inst
    try:
        best = _first_plan(run, warm_start, run.clock)
        if best is None:
            return SolveResult(
                status=Status.NO_SOLUTION, objective=None, bound=None, gap=None,
                seconds=run.clock.elapsed(), assignment=None, solver=inst.scenario.solver,
                log="heuristic only: no first plan (the whole model may find one)",
            )  # fmt: skip
        best = _search(run, best, run.clock)
    except search.Interrupted as stop:
        return _plan_result(inst, stop.plan, None, interrupted=True)
    return _plan_result(inst, best, None)


def _show(values: Values, bound: float | None = None) -> str:
    """A plan's stage values for the progress line, with the gap to ``bound`` (a
    lower bound on the last stage) where known."""
    text = ", ".join(f"{v:,.0f}" for v in values)
    gap = relative_gap(values[-1], bound)
    return text if gap is None else f"{text} (bound {bound:,.0f}, within {gap:.1%})"


def _better_of(inst: Instance, a: pd.Series, b: pd.Series) -> pd.Series:
    """The better of two plans; ``b`` (a start from outside) only if it is valid."""
    d = check.PlanData(
        b.reindex(inst.practices.index),
        inst.practices,
        inst.minutes,
        inst.scenario,
        current=inst.current,
        neighbours=inst.neighbours,
    )
    if not check.check_plan(d).passed:
        return a
    return b if better(inst.values(b), inst.values(a)) else a


def _relaxed_bound(
    whole: Instance, m: model.HubModel, best: pd.Series | None, clock: Clock
) -> tuple[float | None, str]:
    """A lower bound on the last stage of ``m`` (the whole model, one stage) for when
    CBC prints none: the Lagrangian bound of the same model without contiguity (a
    relaxation: fewer rules, so never above the optimum), from its LP duals, for
    :data:`LAGRANGE_SHARE` of the time limit at most; the LP bound where the model has
    rules the Lagrangian does not handle."""
    s = whole.scenario
    seconds = min(LAGRANGE_SHARE * s.time_limit_seconds, clock.left() / 4)
    relaxed = m if not s.contiguous else dataclasses.replace(
        whole, scenario=s.replace(contiguous=False)
    ).build()  # fmt: skip
    upper = None if best is None else whole.values(best)[-1]
    return bounds.relaxed_bound(relaxed, seconds=seconds, upper=upper)


def _settled(inst: Instance, plan: pd.Series) -> Instance:
    """The same problem with the stages ``plan`` already solves optimally taken out:
    no band breach (a strict band instead), no patients left out (every practice
    assigned)."""
    s = inst.scenario
    names = model.stage_names(inst.practices, s)
    values = inst.stage_values(plan)
    changes: dict[str, object] = {}
    if model.BAND_BREACH in names and values[model.BAND_BREACH] <= 0:
        changes["band"] = "strict"
    if model.UNASSIGNED in names and values[model.UNASSIGNED] <= 0:
        changes["optional"] = ()
    if not changes:
        return inst
    return dataclasses.replace(inst, scenario=s.replace(**changes))


def _solve_model(
    run: _Run,
    whole: Instance,
    m: model.HubModel,
    lp_bound: float | None,
    warm: pd.Series | None,
    *,
    nominal: float,
) -> SolveResult:
    """The exact model ``m`` of ``whole`` (the run's instance with settled stages taken
    out) from ``warm``, to the deadline (in a repeatable run also to
    :data:`hubopt.solver.clock.NODES_PER_SECOND` nodes per stage per ``nominal``
    second); stages settled by the start are reported as optimal, and ``lp_bound``
    bounds the last stage where CBC proved less."""
    inst, s, clock = run.inst, run.inst.scenario, run.clock
    result = solve_model(
        m,
        clock.within(max(1.0, (1 - RESERVE_SHARE) * clock.left())),
        run.options,
        warm_start=warm,
        max_nodes=clock.nodes(NODES_PER_SECOND * nominal),
    )
    if result.clock_stopped:
        clock.stopped("whole model")
    if lp_bound is not None and result.stages:
        *done, last = result.stages
        if last.bound is None or last.bound < lp_bound:
            result = dataclasses.replace(
                result, stages=(*done, dataclasses.replace(last, bound=lp_bound))
            )
            if result.status is not Status.OPTIMAL:
                gap = relative_gap(result.objective, lp_bound) if result.has_solution else None
                result = dataclasses.replace(result, bound=lp_bound, gap=gap)
    settled = [
        n for n in model.stage_names(inst.practices, s)
        if n not in model.stage_names(whole.practices, whole.scenario)
    ]  # fmt: skip
    if settled:
        proven = tuple(StageRecord(n, Status.OPTIMAL, 0.0, 0.0, 0.0, 0.0) for n in settled)
        result = dataclasses.replace(
            result,
            stages=proven + result.stages,
            values={**dict.fromkeys(settled, 0.0), **result.values},
        )
    return result


def _plan_result(
    inst: Instance,
    plan: pd.Series,
    exact: SolveResult | None,
    *,
    interrupted: bool = False,
    lp_bound: float | None = None,
) -> SolveResult:
    """The search's plan as the answer, with the bound the MIP proved for each stage it
    reached, or the relaxation's bound for the last stage (the gap unknown without either)."""
    s = inst.scenario
    names = model.stage_names(inst.practices, s)
    values = inst.stage_values(plan)
    records: list[StageRecord] = []
    proven = {st.stage: st for st in (exact.stages if exact is not None else ())}
    gaps = []
    for n in names:
        st = proven.get(n)
        bound = None if st is None else st.bound
        if st is not None and st.status is Status.OPTIMAL and st.value is not None:
            bound = st.value if bound is None else bound
        if n == names[-1] and lp_bound is not None and (bound is None or bound < lp_bound):
            bound = lp_bound
        gap = relative_gap(values[n], bound) if bound is not None else None
        if values[n] <= 0:  # every stage counts something that is never negative
            gap = 0.0
        gaps.append(gap)
        status = Status.OPTIMAL if gap == 0.0 else Status.TIME_LIMITED
        records.append(
            StageRecord(n, status, values[n], gap, bound, 0.0 if st is None else st.seconds)
        )
    known = [g for g in gaps if g is not None]
    gap = max(known) if len(known) == len(gaps) else None
    return SolveResult(
        status=Status.OPTIMAL if gap == 0.0 and not interrupted else Status.TIME_LIMITED,
        objective=values[names[-1]],
        bound=records[-1].bound,
        gap=gap,
        seconds=0.0,  # set by _Run.done
        assignment=plan,
        solver=s.solver,
        log=("interrupted (Ctrl-C): " if interrupted else "")
        + "the neighbourhood search's plan; bound from the MIP where it printed one",
        stages=tuple(records),
        values=values,
    )
