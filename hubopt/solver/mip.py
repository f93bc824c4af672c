"""Solve a built model with CBC or HiGHS (through PuLP) and report its status honestly.

Before the MIP, :func:`prepare` (on by default) solves the LP relaxation, builds an
incumbent (a given warm start or :mod:`hubopt.solver.heuristic`, kept only if it satisfies
every row of the problem) and fixes by reduced cost every variable that cannot be in a
better solution (:mod:`hubopt.solver.reduce`). The fixing is exact, so an optimum proven on the
reduced problem is proven for the model; bounds are restored afterwards.

When the model has only the core rows (:func:`hubopt.solver.lagrange.core_data`), ``prepare``
also computes the Lagrangian bound and a Lagrangian heuristic incumbent; if the bound
meets the incumbent, the incumbent is returned as proven optimal with no MIP run.
Otherwise, with an integral objective, variables are fixed *strictly* (only solutions
better than the incumbent survive) and CBC runs once with the incumbent as cutoff
(:func:`_strict_run`): the answer is the better of the incumbent and what CBC finds, and
a reduced problem proven to hold nothing better proves the incumbent optimal. When
the number of hubs is fixed, CBC branches on which sites open first
(:func:`write_site_priorities`).

PuLP's ``status`` can read "Optimal" when CBC (or HiGHS) stopped at its time limit
with an incumbent; ``sol_status`` then says only "integer feasible". CBC's log (HiGHS's
model status and dual bound) gives the best bound. This module reads all of them and
reports one of:

* ``optimal``      - proven optimal (gap 0 within the solver's tolerance);
* ``within-gap``   - stopped at the requested relative gap (gap reported);
* ``time-limited`` - stopped at the time limit with a solution (gap reported);
* ``infeasible``   - proven that no solution satisfies the rules;
* ``no-solution``  - stopped (e.g. time limit) before any solution was found.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
import math
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pulp

from hubopt.errors import SolverError
from hubopt.model import HubModel, read_assignment
from hubopt.solver import lagrange
from hubopt.solver import reduce as reduce_mod

log = logging.getLogger(__name__)

_FLOAT = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|inf|-inf|nan)"


@dataclass
class SolveResult:
    """What came back from the solver."""

    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    seconds: float
    assignment: pd.Series | None
    solver: str
    log: str = ""
    #: staged objectives (hubopt.solver.stages): one dict per stage, and the final plan's
    #: value of every stage objective
    stages: list[dict] = field(default_factory=list)
    values: dict[str, float] = field(default_factory=dict)
    #: preprocessing (hubopt.solver.reduce): variables fixed by reduced cost, the LP bound,
    #: the best valid start's objective, and seconds per step
    fixed_vars: int = 0
    lp_bound: float | None = None
    incumbent: float | None = None
    steps: dict[str, float] = field(default_factory=dict)
    #: the Lagrangian bound (hubopt.solver.lagrange) when the model is the core model
    lagrange_bound: float | None = None
    #: the wall clock ended the run (its time limit, or stopped at the deadline), not
    #: a proof, the gap tolerance or a work limit (``max_nodes``): on a faster or
    #: quieter machine it would have got further
    clock_stopped: bool = False
    #: the solver's LP iterations (simplex pivots): a measure of work done that is the
    #: same on any machine, unlike seconds (the work clock of a repeatable run)
    work: int = 0
    #: steps of a repeatable run (``[solver] repeatable``) that the clock stopped
    #: (:mod:`hubopt.solver.plan`); None for a run that is not repeatable
    clock_stops: tuple[str, ...] | None = None

    @property
    def has_solution(self) -> bool:
        return self.assignment is not None

    def describe(self) -> str:
        """One line for people: status, and the gap where it is not proven."""
        if self.status == "optimal":
            return "optimal (proven)"
        if self.status in ("time-limited", "within-gap"):
            gap = "unknown" if self.gap is None else f"{self.gap:.2%}"
            what = "time limit" if self.status == "time-limited" else "gap tolerance"
            if self.status == "time-limited" and self.clock_stops == ():
                what = "work limit"
            return f"{self.status}: stopped at the {what}, best solution within {gap} of optimal"
        if self.status == "infeasible":
            return "infeasible: no grouping satisfies every rule"
        return "no solution: the solver stopped before finding any grouping"


def parse_cbc_log(text: str) -> dict[str, object]:
    """Pull the result line, objective, bound and gap from a CBC log."""
    out: dict[str, object] = {}
    m = re.search(r"^Result - (.+)$", text, re.M)
    if m:
        out["result"] = m.group(1).strip()
    for key, label in (("objective", "Objective value"), ("bound", "Lower bound"), ("gap", "Gap")):
        m = re.search(rf"^{label}:\s+{_FLOAT}", text, re.M)
        if m:
            out[key] = float(m.group(1))
    m = re.search(r"^Total iterations:\s+(\d+)", text, re.M)
    if m:
        out["iterations"] = int(m.group(1))
    if "result" not in out:  # a run stopped before its end: the best bound printed so far
        found = re.findall(rf"best possible {_FLOAT}", text)
        found = found or re.findall(rf"^Continuous objective value is {_FLOAT}", text, re.M)
        if found:
            out["bound"] = float(found[-1])
    return out


def cbc_path() -> str:
    """The CBC binary: the one bundled with PuLP 3.x, else ``cbc`` on the PATH.

    PuLP 3.3 bundles CBC but deprecates ``PULP_CBC_CMD``; calling ``COIN_CMD`` with
    the bundled path keeps hubopt ready for PuLP 4 (``pip install pulp[cbc]``).
    """
    from pulp.apis import coin_api

    bundled = getattr(coin_api, "pulp_cbc_path", None)
    if bundled and Path(bundled).is_file():
        return bundled
    found = shutil.which("cbc")
    if found is None:
        raise SolverError(
            "The CBC solver was not found.",
            ['reinstall with `pip install "pulp>=3.3,<4"` (it bundles CBC)'],
        )
    return found


def solve(
    model: HubModel,
    *,
    time_limit: float = 120.0,
    gap: float = 0.0,
    threads: int = 1,
    msg: bool = False,
    solver: str = "cbc",
    warm_start: pd.Series | None = None,
    reduce: bool = False,
    core_seconds: float = 10.0,
    sites_first: bool | None = None,
    deadline: float | None = None,
    max_nodes: int | None = None,
) -> SolveResult:
    """Solve the model and classify the outcome honestly (see the module docstring).

    Parameters
    ----------
    time_limit
        Seconds for everything (preprocessing included).
    gap
        Relative gap at which the solver may stop (0: prove optimality).
    threads
        Solver threads.
    solver
        ``"cbc"`` (bundled with PuLP) or ``"highs"`` (needs ``pip install highspy``).
    warm_start
        An assignment practice -> site to start from (e.g. today's grouping). It is
        checked against every rule; a valid one is the first incumbent.
    reduce
        Run :mod:`hubopt.solver.reduce` first: LP relaxation, heuristic incumbent
        (:mod:`hubopt.solver.heuristic`) and reduced-cost fixing. Exact: a proof of
        optimality on the reduced problem is a proof for the model.
    sites_first
        CBC branches on which sites open before anything else
        (:func:`write_site_priorities`). None (default): only when the number of
        hubs is fixed, the p-median case where it pays; with a free count and a
        lower band limit (LLR) it measured slower (110 s against 82 s).
    deadline
        ``time.perf_counter()`` time at which a CBC run still going is stopped
        (default: ``time_limit`` plus :data:`OVERRUN_SECONDS` from now); the result is
        then ``no-solution`` with the bound CBC had printed.
    max_nodes
        Branch-and-bound nodes at most (a work limit: where it, not the clock, ends
        the run, the same model gives the same plan on any machine; see
        ``clock_stopped``).
    """
    if solver not in SOLVERS:
        raise SolverError(f"Unknown solver {solver!r}.", [f"use one of {', '.join(SOLVERS)}"])
    if solver == "highs":
        _require_highspy()
    if sites_first is None:
        lo, hi = model.hub_range
        sites_first = lo is not None and lo == hi
    if deadline is None:
        deadline = time.perf_counter() + time_limit + OVERRUN_SECONDS
    start = time.perf_counter()
    prep = prepare(
        model,
        warm_start=warm_start,
        reduce=reduce,
        core_seconds=min(core_seconds, 0.25 * time_limit) if reduce else 0.0,
        threads=threads,
        lagrange_seconds=min(LAGRANGE_SECONDS, 0.25 * time_limit) if reduce else 0.0,
    )
    extra = {
        "fixed_vars": prep.fixing.count,
        "lp_bound": prep.lp_bound,
        "incumbent": prep.incumbent,
        "lagrange_bound": prep.lagrange_bound,
    }
    if prep.proven:
        # The Lagrangian bound meets the incumbent: optimal without a MIP.
        prep.fixing.restore()
        set_start(model, prep.start)  # also sets the values read back
        seconds = time.perf_counter() - start
        return SolveResult(
            status="optimal",
            objective=prep.incumbent,
            bound=prep.lagrange_bound,
            gap=0.0,
            seconds=seconds,
            assignment=read_assignment(model),
            solver=solver,
            log="proven by the Lagrangian bound (hubopt.solver.lagrange): no MIP run",
            steps={**prep.steps, "mip_s": 0.0},
            **extra,
        )
    if prep.strict and solver == "cbc" and prep.incumbent is not None:
        mip_start = time.perf_counter()
        result = _strict_run(
            model, prep, start, time_limit, gap, threads, msg, sites_first, max_nodes
        )
        steps = {**prep.steps, "mip_s": round(time.perf_counter() - mip_start, 3)}
        return dataclasses.replace(
            result, steps=steps, **{**extra, "fixed_vars": prep.fixing.count}
        )
    left = max(1.0, time_limit - (time.perf_counter() - start))
    mip_start = time.perf_counter()
    cutoff = None
    if prep.strict and prep.incumbent is not None:
        cutoff = prep.incumbent - 1.0 + CUTOFF_SLACK
    try:
        if solver == "highs":
            highs = _run_highs(
                model, left, gap, threads, msg, warm=prep.start is not None, max_nodes=max_nodes
            )
        else:
            log = _run_cbc(
                model,
                left,
                gap,
                threads,
                msg,
                warm=prep.start is not None,
                cutoff=cutoff,
                sites_first=sites_first,
                deadline=deadline,
                max_nodes=max_nodes,
            )
    except DeadlinePassed as stopped:
        bound = parse_cbc_log(stopped.log).get("bound")
        return SolveResult(
            status="no-solution",
            objective=None,
            bound=bound if isinstance(bound, float) else None,
            gap=None,
            seconds=time.perf_counter() - start,
            assignment=None,
            solver=solver,
            log=stopped.log,
            clock_stopped=True,
            **extra,
        )
    finally:
        prep.fixing.restore()
    mip_seconds = time.perf_counter() - mip_start
    seconds = time.perf_counter() - start
    if solver == "highs":
        result = classify_highs(model, highs, seconds=seconds)
    else:
        result = classify(model, log, seconds=seconds)
    if prep.strict and prep.incumbent is not None:
        result = _merge_strict(model, result, prep)
    elif (
        result.bound is not None
        and prep.lagrange_bound is not None
        and result.status
        in (
            "time-limited",
            "within-gap",
        )
    ):
        bound = max(result.bound, prep.lagrange_bound)
        result = dataclasses.replace(result, bound=bound, gap=relative_gap(result.objective, bound))
    steps = {**prep.steps, "mip_s": round(mip_seconds, 3)}
    return dataclasses.replace(result, steps=steps, **extra)


def _strict_run(
    model: HubModel,
    prep: Preparation,
    start: float,
    time_limit: float,
    gap: float,
    threads: int,
    msg: bool,
    sites_first: bool,
    max_nodes: int | None = None,
) -> SolveResult:
    """CBC on the strictly reduced problem (every solution strictly better than the
    incumbent survives the fixing) with the incumbent as cutoff: "nothing better"
    (infeasible) proves the incumbent, and a proven optimum of the reduced problem is
    the optimum. No MIP start: the incumbent is cut off by the fixing, and handing it
    to CBC anyway slowed #8 of OR-Library pmedcap1 from 8 s to over 40 s.

    Measured and dropped: short CBC rounds that re-fix with each better solution CBC
    finds (pmedcap1 #7-#19: 111 s in all against 91 s for one run)."""
    left = max(1.0, time_limit - (time.perf_counter() - start))
    cutoff = prep.incumbent - 1.0 + CUTOFF_SLACK
    try:
        log = _run_cbc(
            model, left, gap, threads, msg, warm=False, cutoff=cutoff, sites_first=sites_first,
            max_nodes=max_nodes,
        )  # fmt: skip
    finally:
        prep.fixing.restore()
    return _merge_strict(model, classify(model, log, seconds=time.perf_counter() - start), prep)


#: Seconds (at most a quarter of the time limit) for the Lagrangian bound.
LAGRANGE_SECONDS = 8.0
#: With an integral objective the MIP after strict fixing looks only for solutions
#: of value <= incumbent - 1; CBC's cutoff sits this much above that.
CUTOFF_SLACK = 0.5


def _merge_strict(model: HubModel, result: SolveResult, prep: Preparation) -> SolveResult:
    """After strict fixing (only solutions strictly better than the incumbent were
    left): the answer is the better of the MIP's and the incumbent, and a reduced
    problem proven to hold nothing better proves the incumbent optimal."""
    inc = prep.incumbent
    better = result.has_solution and result.objective is not None and result.objective < inc - 1e-6
    if better:
        if result.status == "time-limited" and prep.lagrange_bound is not None:
            bound = max(result.bound or -math.inf, prep.lagrange_bound)
            result = dataclasses.replace(
                result, bound=bound, gap=relative_gap(result.objective, bound)
            )
        return result
    set_start(model, prep.start)  # also sets the values read back
    assignment = read_assignment(model)
    if result.status in ("infeasible", "optimal"):
        # Nothing strictly better exists (integral objective): the incumbent is optimal.
        return dataclasses.replace(
            result, status="optimal", objective=inc, bound=inc, gap=0.0, assignment=assignment
        )
    # Stopped early without anything better: the incumbent stands, bounded below by
    # the larger of the Lagrangian bound and the solver's bound (capped at inc).
    bounds = [b for b in (prep.lagrange_bound, prep.lp_bound) if b is not None]
    if result.bound is not None and not math.isinf(result.bound):
        bounds.append(min(result.bound, inc))
    bound = max(bounds) if bounds else None
    return dataclasses.replace(
        result,
        status="time-limited",
        objective=inc,
        bound=bound,
        gap=relative_gap(inc, bound),
        assignment=assignment,
    )


#: Solvers :func:`solve` accepts.
SOLVERS = ("cbc", "highs")


@dataclass
class Preparation:
    """What :func:`prepare` did before the MIP: bounds, incumbent, fixings, timings."""

    fixing: reduce_mod.Fixing
    start: pd.Series | None = None
    incumbent: float | None = None
    lp_bound: float | None = None
    steps: dict[str, float] = field(default_factory=dict)
    lagrange_bound: float | None = None
    #: the Lagrangian bound meets the incumbent: optimal, no MIP needed
    proven: bool = False
    #: fixing kept only solutions strictly better than the incumbent (integral
    #: objective): the incumbent may be infeasible in the reduced problem
    strict: bool = False


def prepare(
    model: HubModel,
    *,
    warm_start: pd.Series | None = None,
    reduce: bool = True,
    core_seconds: float = 0.0,
    threads: int = 1,
    lagrange_seconds: float = 0.0,
) -> Preparation:
    """LP bound, best valid incumbent, reduced-cost fixing, and the MIP start.

    Changes the bounds of ``model.problem`` (undo with ``result.fixing.restore()``)
    and sets initial values of the assignment variables to the best start found.
    """
    prep = Preparation(fixing=reduce_mod.Fixing())
    candidates: list[pd.Series] = []
    if warm_start is not None:
        candidates.append(warm_start)
    lp = None
    if reduce:
        t0 = time.perf_counter()
        lp = reduce_mod.lp_relaxation(model.problem)
        prep.steps["lp_s"] = round(time.perf_counter() - t0, 3)
        if lp.status == "optimal":
            prep.lp_bound = lp.objective * (-1 if model.problem.sense == pulp.LpMaximize else 1)
            t0 = time.perf_counter()
            guess = _heuristic_start(model, lp)
            prep.steps["heuristic_s"] = round(time.perf_counter() - t0, 3)
            if guess is not None:
                candidates.append(guess)
    core = lagrange.core_data(model) if reduce and lagrange_seconds > 0 else None
    needs_core = core is None or bool((core.room_lo > 0).any())
    if lp is not None and lp.status == "optimal" and core_seconds > 0 and needs_core:
        # (a core model without a lower band limit gets its incumbent from the
        # Lagrangian heuristic instead)
        t0 = time.perf_counter()
        guess = _core_start(model, lp, core_seconds, threads)
        prep.steps["core_s"] = round(time.perf_counter() - t0, 3)
        if guess is not None:
            candidates.append(guess)
    best, best_value = _best_candidate(model, candidates)
    lag = None
    if core is not None:
        t0 = time.perf_counter()
        lam0 = lagrange.lp_duals(model, core, lp) if lp is not None else None
        lag = lagrange.optimise(
            model, core, upper=best_value, incumbent=best, seconds=lagrange_seconds, lam0=lam0
        )
        prep.steps["lagrange_s"] = round(time.perf_counter() - t0, 3)
        if np.isfinite(lag.bound):
            prep.lagrange_bound = lag.bound
        if lag.incumbent is not None:
            candidates.append(lag.incumbent)
            best, best_value = _best_candidate(model, candidates)
        if _closed(prep.lagrange_bound, best_value):
            prep.incumbent, prep.start, prep.proven = best_value, best, True
            return prep
    prep.incumbent = best_value
    prep.start = best if best is not None else warm_start
    if prep.start is not None:
        set_start(model, prep.start)
    if lp is not None and best_value is not None:
        t0 = time.perf_counter()
        # Without the Lagrangian step, fixing keeps the incumbent feasible, so the
        # solver's own result (it gets the incumbent as its start) is valid as it
        # stands. With it and an integral objective, fixing keeps only strictly better
        # solutions and solve() merges the MIP's answer with the incumbent.
        strict = lag is not None and core is not None and core.integral
        fixing = reduce_mod.Fixing()
        if lag is not None and np.isfinite(lag.raw_bound):
            fixing = lagrange.fix(core, lag.lam, best_value, integral=strict)
        more = reduce_mod.fix_by_reduced_cost(model.problem, lp, best_value, integral=strict)
        fixing.fixed += more.fixed
        prep.fixing, prep.strict = fixing, strict
        prep.steps["fix_s"] = round(time.perf_counter() - t0, 3)
    return prep


def _closed(bound: float | None, value: float | None) -> bool:
    return bound is not None and value is not None and bound >= value - 1e-6 * max(1.0, abs(value))


def _best_candidate(
    model: HubModel, candidates: list[pd.Series]
) -> tuple[pd.Series | None, float | None]:
    """The candidate (a valid assignment) with the best objective."""
    best, best_value = None, None
    for cand in candidates:
        values = _assignment_values(model, cand)
        if values is None or not reduce_mod.is_feasible(model.problem, values):
            continue
        value = reduce_mod.objective_of(model.problem, values)
        better = best_value is None or (
            value < best_value if model.problem.sense == pulp.LpMinimize else value > best_value
        )
        if value is not None and better:
            best, best_value = cand, value
    return best, best_value


def _heuristic_start(model: HubModel, lp: reduce_mod.LPRelaxation) -> pd.Series | None:
    from hubopt.solver import heuristic

    values = dict(zip((v.name for v in lp.variables), lp.values, strict=True))
    scores = pd.Series(
        {j: values.get(model.x[j, j].name, 0.0) for j in model.practices if (j, j) in model.x}
    )
    lo, hi = model.hub_range
    n_hubs = lo if lo is not None and lo == hi else int(round(scores.sum()))
    if n_hubs < 1:
        return None
    return heuristic.incumbent(model, n_hubs=n_hubs, site_scores=scores)


#: Reduced-cost radius of the core problem, relative to the LP bound.
CORE_DELTA = 0.02


def _core_start(
    model: HubModel,
    lp: reduce_mod.LPRelaxation,
    seconds: float,
    threads: int,
) -> pd.Series | None:
    """Incumbent from a short CBC run on the core problem: binaries with reduced cost
    above ``CORE_DELTA * |LP bound|`` fixed at 0. Its solutions are feasible for the
    model (it is a restriction); its optimum need not be the model's."""
    delta = CORE_DELTA * max(1.0, abs(lp.objective))
    core = reduce_mod.fix_heuristically(model.problem, lp, delta)
    try:
        _run_cbc(model, seconds, 0.0, threads, False, warm=False)
    finally:
        core.restore()
    if model.problem.sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        return None
    return read_assignment(model)


def _assignment_values(model: HubModel, assignment: pd.Series) -> dict[str, float] | None:
    """0/1 values of every assignment variable for ``assignment``; None if it uses a
    pair without a variable or leaves a practice out."""
    values = {v.name: 0.0 for v in model.x.values()}
    for i in model.practices:
        j = assignment.get(i)
        if j is None or (isinstance(j, float) and math.isnan(j)) or (i, j) not in model.x:
            return None
        values[model.x[i, j].name] = 1.0
    return values


def set_start(model: HubModel, assignment: pd.Series) -> None:
    """Set the assignment variables' initial values (a MIP start) from ``assignment``.

    Pairs outside the model are ignored; variables other than ``model.x`` are left for
    the solver to complete.
    """
    for (i, j), v in model.x.items():
        v.setInitialValue(1.0 if assignment.get(i) == j else 0.0)


def write_site_priorities(model: HubModel, path: Path) -> Path | None:
    """Write CBC's branching priorities: the site variables :math:`x_{jj}` first.

    Which sites open decides most of the plan; once they are fixed, the rest is an
    assignment with capacities, whose relaxation is far tighter. Branching on sites
    first is the classic p-median strategy; measured on OR-Library pmedcap1 #8 it
    proves the optimum in 8 s where CBC's own choice had not after 120 s
    (``benchmarks/orlib_pmedcap.py --no-priorities`` repeats the comparison). The
    names are those PuLP gives the columns when it writes the MPS file for CBC
    (``rename=1``). Returns None when the model has no site variable.
    """
    names = model.problem.normalisedNames()[1]
    rows = [f"{names[v.name]},1" for (i, j), v in model.x.items() if i == j]
    if not rows:
        return None
    path.write_text("name,priority\n" + "\n".join(rows) + "\n")
    return path


#: Seconds CBC may run past its time limit before it is stopped: its root heuristics
#: (the feasibility pump above all) check the clock only between passes, and on a
#: large area one pass took 42 s against a limit of 30 (North Central London, 180
#: practices).
OVERRUN_SECONDS = 5.0


class DeadlinePassed(SolverError):
    """CBC was stopped at the deadline before it wrote a solution; its log so far is
    in ``log`` (the bound it had reached, if any)."""

    def __init__(self, log: str):
        super().__init__("CBC was stopped at the time limit.", ["its best plan is lost"])
        self.log = log


@contextmanager
def _watchdog(deadline: float | None, binary: str) -> Iterator[threading.Event]:
    """Kill the CBC process started inside the block if it is still running at
    ``deadline`` (``time.perf_counter()`` seconds) or on Ctrl-C; the event is set when
    the deadline did it."""
    fired = threading.Event()
    done = threading.Event()

    before = {c.pid for c in psutil.Process().children(recursive=True)}

    def stop() -> None:
        for child in psutil.Process().children(recursive=True):
            try:
                if child.pid not in before and Path(child.exe()).name == Path(binary).name:
                    child.kill()
                    fired.set()
            except psutil.Error:
                continue

    def watch() -> None:  # past the deadline, a CBC started late is stopped as it starts
        if deadline is None or done.wait(max(0.0, deadline - time.perf_counter())):
            return
        while not done.is_set():
            stop()
            done.wait(0.2)

    thread = threading.Thread(target=watch, daemon=True) if deadline is not None else None
    if thread is not None:
        thread.start()
    try:
        yield fired
    except KeyboardInterrupt:  # Ctrl-C: CBC must not run on in the background
        stop()
        raise
    finally:
        done.set()
        if thread is not None:
            thread.join()


def _run_cbc(
    model: HubModel,
    time_limit: float,
    gap: float,
    threads: int,
    msg: bool,
    *,
    warm: bool,
    cutoff: float | None = None,
    sites_first: bool = True,
    deadline: float | None = None,
    max_nodes: int | None = None,
) -> str:
    """Run CBC; with ``deadline`` (``time.perf_counter()`` seconds) it is stopped there
    at the latest (:class:`DeadlinePassed`). With a warm start the feasibility pump is
    off: the start is the incumbent it would look for, and the pump is what ignores
    the clock."""
    with tempfile.TemporaryDirectory(prefix="hubopt-cbc-") as tmp:
        log_path = Path(tmp) / "cbc.log"
        options = [] if cutoff is None else [f"cutoff {cutoff!r}"]
        if warm:
            options.append("feas off")
        priorities = write_site_priorities(model, Path(tmp) / "prio.csv") if sites_first else None
        if priorities is not None:
            options.append(f"prio {priorities}")
        solver = pulp.COIN_CMD(
            path=cbc_path(),
            msg=msg,
            timeLimit=time_limit,
            gapRel=gap if gap > 0 else None,
            threads=threads,
            logPath=str(log_path),
            warmStart=warm,
            options=options,
            maxNodes=max_nodes,
        )
        with _watchdog(deadline, solver.path) as stopped:
            try:
                model.problem.solve(solver)
            except pulp.PulpSolverError as exc:
                if stopped.is_set():
                    raise DeadlinePassed(
                        log_path.read_text(errors="replace") if log_path.exists() else ""
                    ) from None
                tail = log_path.read_text(errors="replace").splitlines()[-5:] if (
                    log_path.exists()) else []  # fmt: skip
                raise SolverError("CBC failed to run.", [str(exc), *tail]) from None
        return log_path.read_text(errors="replace") if log_path.exists() else ""


def _require_highspy() -> None:
    if importlib.util.find_spec("highspy") is None:
        raise SolverError(
            "The HiGHS solver needs the highspy package.",
            ['install it with `pip install "hubopt[highs]"` (or `pip install highspy`)'],
        )


def _run_highs(
    model: HubModel,
    time_limit: float,
    gap: float,
    threads: int,
    msg: bool,
    *,
    warm: bool,
    max_nodes: int | None = None,
):
    """Solve with HiGHS through PuLP's API; return the ``highspy.Highs`` object."""
    import highspy

    class _HiGHS(pulp.HiGHS):  # PuLP's HiGHS API has no MIP start: pass one in.
        def callSolver(self, lp):
            if warm:
                sol = highspy.HighsSolution()
                sol.col_value = [
                    0.0 if v.varValue is None else float(v.varValue) for v in lp.variables()
                ]
                sol.value_valid = True
                lp.solverModel.setSolution(sol)
            lp.solverModel.run()

    solver = _HiGHS(
        msg=msg,
        timeLimit=time_limit,
        gapRel=gap,
        threads=threads,
        **({} if max_nodes is None else {"mip_max_nodes": max_nodes}),
    )
    try:
        with _stdout_to_log("HiGHS"):
            model.problem.solve(solver)
    except pulp.PulpSolverError as exc:
        raise SolverError("HiGHS failed to run.", [str(exc)]) from None
    return model.problem.solverModel


@contextmanager
def _stdout_to_log(name: str) -> Iterator[None]:
    """Send what a solver library prints on the process's standard output (HiGHS
    prints its banner there even with output off) to the log instead, at debug level
    (shown with ``-v -v``), so the summary on stdout stays clean."""
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
            sink.seek(0)
            text = sink.read().decode(errors="replace").strip()
            if text:
                log.debug("%s said:\n%s", name, text)


def classify(model: HubModel, log: str, *, seconds: float) -> SolveResult:
    """Turn PuLP's ``status``/``sol_status`` and the CBC log into a SolveResult."""
    info = parse_cbc_log(log)
    result = str(info.get("result", ""))
    status, sol_status = model.problem.status, model.problem.sol_status
    has_solution = sol_status in (
        pulp.LpSolutionOptimal,
        pulp.LpSolutionIntegerFeasible,
    ) or (status == pulp.LpStatusOptimal and sol_status != pulp.LpSolutionNoSolutionFound)
    objective = pulp.value(model.problem.objective) if has_solution else None
    bound = info.get("bound")
    if status == pulp.LpStatusInfeasible or sol_status == pulp.LpSolutionInfeasible:
        label = "infeasible"
    elif "infeasible" in result.lower():
        label = "infeasible"
    elif not has_solution:
        label = "no-solution"
    elif result.startswith("Optimal") and sol_status == pulp.LpSolutionOptimal:
        label = "optimal"
    elif (
        result.lower().startswith("stopped on time") or sol_status == pulp.LpSolutionIntegerFeasible
    ):
        label = "time-limited"
    else:
        label = "optimal"
    gap_value: float | None
    if label == "optimal":
        bound = objective if bound is None else bound
        gap_value = relative_gap(objective, bound) if bound is not None else 0.0
        if gap_value is not None and gap_value > 1e-6:
            label = "within-gap"
    elif label == "time-limited":
        gap_value = relative_gap(objective, bound) if bound is not None else None
    else:
        gap_value = None
    assignment = read_assignment(model) if has_solution else None
    return SolveResult(
        status=label,
        objective=objective,
        bound=bound if isinstance(bound, float) else None,
        gap=gap_value,
        seconds=seconds,
        assignment=assignment,
        solver="cbc",
        log=log,
        clock_stopped=result.lower().startswith("stopped on time"),
        work=int(info.get("iterations", 0)),  # type: ignore[call-overload]
    )


def classify_highs(model: HubModel, highs, *, seconds: float) -> SolveResult:
    """Classify a HiGHS run from its model status and dual bound (never trusting
    PuLP's ``status`` alone: on a time limit it reads Optimal)."""
    import highspy

    st = highs.getModelStatus()
    ms = highspy.HighsModelStatus
    info = highs.getInfo()
    sol_status = model.problem.sol_status
    has_solution = sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    objective = pulp.value(model.problem.objective) if has_solution else None
    bound = getattr(info, "mip_dual_bound", None)
    if bound is not None and (math.isinf(bound) or math.isnan(bound)):
        bound = None
    if bound is not None and model.problem.sense == pulp.LpMaximize:
        bound = -bound  # PuLP hands HiGHS the negated objective
    if st in (ms.kInfeasible, ms.kUnboundedOrInfeasible):
        label = "infeasible"
    elif not has_solution:
        label = "no-solution"
    elif st == ms.kOptimal:
        label = "optimal"
    else:
        label = "time-limited"
    gap_value = relative_gap(objective, bound) if label in ("optimal", "time-limited") else None
    if label == "optimal":
        if bound is None:
            bound, gap_value = objective, 0.0
        elif gap_value is not None and gap_value > 1e-6:
            label = "within-gap"
    log = f"HiGHS: {highs.modelStatusToString(st)}; objective {objective}; dual bound {bound}"
    return SolveResult(
        status=label,
        objective=objective,
        bound=bound,
        gap=gap_value,
        seconds=seconds,
        assignment=read_assignment(model) if has_solution else None,
        solver="highs",
        log=log,
        clock_stopped=st == ms.kTimeLimit,
        work=int(getattr(info, "simplex_iteration_count", 0) or 0),
    )


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None or math.isnan(bound):
        return None
    if math.isinf(bound):
        return None
    return max(0.0, objective - bound) / max(abs(objective), 1e-9)
