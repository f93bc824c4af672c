"""What a solve gives back: one typed result, whatever the solver or the step.

:class:`Status` says how good the plan is (never ``OPTIMAL`` without a proof),
:class:`Stop` what ended the run, :class:`StageRecord` one objective stage of a staged
solve, and :class:`SolveResult` the plan with its objective, bound and gap. Every
back-end (:mod:`hubopt.solver.backends`), the staged solve
(:func:`hubopt.solver.stages.solve_model`) and the large-area path
(:func:`hubopt.solver.plan.solve_area`) return a :class:`SolveResult`.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd


class Status(enum.StrEnum):
    """How good a plan is. A ``str`` enum: it is written as its value (``"optimal"``)
    in ``summary.json``, tables and the batch's CSV."""

    #: proven optimal (gap 0 within the solver's tolerance)
    OPTIMAL = "optimal"
    #: stopped at the requested relative gap (gap reported)
    WITHIN_GAP = "within-gap"
    #: stopped by the time or work limit with a plan (gap reported where a bound is known)
    TIME_LIMITED = "time-limited"
    #: proven that no plan satisfies the rules
    INFEASIBLE = "infeasible"
    #: stopped before any plan was found
    NO_SOLUTION = "no-solution"

    @staticmethod
    def weakest(statuses: list[Status]) -> Status:
        """The weakest of several (a staged plan is only as proven as its least stage)."""
        return min(statuses, key=_WEAKEST_FIRST.index)


_WEAKEST_FIRST = [
    Status.INFEASIBLE,
    Status.NO_SOLUTION,
    Status.TIME_LIMITED,
    Status.WITHIN_GAP,
    Status.OPTIMAL,
]


class Stop(enum.Enum):
    """What ended a solver run."""

    #: a proof: optimal, infeasible, or the requested gap reached
    PROOF = "proof"
    #: the wall clock (the solver's time limit, or stopped at the deadline): on a
    #: quicker or quieter machine it would have got further
    CLOCK = "clock"
    #: a work limit (branch-and-bound nodes): the same on any machine
    WORK = "work"


@dataclass(frozen=True)
class StageRecord:
    """One objective stage of a staged solve."""

    stage: str
    status: Status
    value: float | None
    gap: float | None
    bound: float | None
    seconds: float

    def record(self) -> dict[str, Any]:
        """As written under ``objective_stages`` in ``summary.json``."""
        return {
            "stage": self.stage,
            "status": str(self.status),
            "value": self.value,
            "gap": self.gap,
            "bound": self.bound,
            "seconds": round(self.seconds, 2),
        }


@dataclass(frozen=True)
class SolveResult:
    """A plan (or none) and how good it is."""

    status: Status
    objective: float | None
    bound: float | None
    gap: float | None
    seconds: float
    assignment: pd.Series | None
    solver: str
    log: str = ""
    #: what ended the (last) solver run
    stop: Stop = Stop.PROOF
    #: the solver's LP iterations (simplex pivots): work done that is the same on any
    #: machine, unlike seconds (the work clock of a repeatable run)
    work: int = 0
    #: the staged objectives, one record per stage solved, and the plan's value of
    #: every stage objective (what :mod:`hubopt.model.check` recomputes)
    stages: tuple[StageRecord, ...] = ()
    values: dict[str, float] = field(default_factory=dict)
    #: a repeatable run (``[solver] repeatable``): every step had a work limit, and
    #: ``clock_stops`` names the steps the clock ended all the same
    repeatable: bool = False
    clock_stops: tuple[str, ...] = ()
    #: what gave the bound (e.g. "CBC", "set partitioning (LP)"), where the plan came
    #: from, and the proof of optimality used ("" where there is none)
    bound_kind: str = ""
    plan_source: str = ""
    proof: str = ""
    #: the plan came from steps that each ended by a proof or a work limit, whatever
    #: the clock ended after it (a repeatable run may use it)
    plan_by_work: bool = False

    @classmethod
    def of_run(
        cls,
        status: Status,
        objective: float | None,
        bound: float | None,
        *,
        assignment: pd.Series | None,
        solver: str,
        seconds: float,
        log: str,
        stop: Stop,
        work: int,
    ) -> SolveResult:
        """One solver run's result, with its gap: an optimum reported without a bound
        is its own bound, and one whose gap to the bound is above 1e-6 (the solver
        stopped at a gap tolerance) is ``WITHIN_GAP``, never ``OPTIMAL``."""
        gap = None
        if status in (Status.OPTIMAL, Status.TIME_LIMITED):
            gap = relative_gap(objective, bound)
        if status is Status.OPTIMAL:
            if bound is None:
                bound, gap = objective, 0.0
            elif gap is not None and gap > 1e-6:
                status = Status.WITHIN_GAP
        return cls(status, objective, bound, gap, seconds, assignment, solver, log, stop, work)

    @property
    def has_solution(self) -> bool:
        return self.assignment is not None

    @property
    def clock_stopped(self) -> bool:
        """The wall clock, not a proof or a work limit, ended the run."""
        return self.stop is Stop.CLOCK

    def describe(self) -> str:
        """One line for people: status, and the gap where it is not proven."""
        if self.status is Status.OPTIMAL:
            return "optimal (proven)"
        if self.status in (Status.TIME_LIMITED, Status.WITHIN_GAP):
            gap = "unknown" if self.gap is None else f"{self.gap:.2%}"
            what = "time limit" if self.status is Status.TIME_LIMITED else "gap tolerance"
            if self.status is Status.TIME_LIMITED and self.repeatable and not self.clock_stops:
                what = "work limit"
            text = f"{self.status}: stopped at the {what}, best solution within {gap} of optimal"
            return text + self._gap_stage()
        if self.status is Status.INFEASIBLE:
            return "infeasible: no grouping satisfies every rule"
        return "no solution: the solver stopped before finding any grouping"

    def _gap_stage(self) -> str:
        """With several objective stages: which stage the gap is for (a later stage's
        bound holds given the earlier ones), and every stage left without a bound
        (the clock ended it before it had one), so a gap is never read as the plan's."""
        if len(self.stages) < 2:
            return ""
        open_ = [st for st in self.stages if st.gap is not None and st.gap > 0]
        worst = max(open_, key=lambda st: st.gap or 0.0, default=None)
        parts = []
        if self.gap is not None and worst is not None:
            parts.append(f"stage {worst.stage}")
        elif self.gap is None:
            parts += [f"stage {st.stage} within {st.gap:.2%}" for st in open_]
        unbounded = [st.stage for st in self.stages if st.gap is None]
        if unbounded:
            parts.append(
                f"stage{'s' if len(unbounded) > 1 else ''} {', '.join(unbounded)} not bounded: "
                "the time ran out first"
            )
        return f" ({'; '.join(parts)})" if parts else ""

    def stage_records(self) -> list[dict[str, Any]]:
        """The stages as ``summary.json`` writes them."""
        return [st.record() for st in self.stages]


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """``(objective - bound) / |objective|``, never negative; None without both."""
    if objective is None or bound is None or math.isnan(bound) or math.isinf(bound):
        return None
    return max(0.0, objective - bound) / max(abs(objective), 1e-9)
