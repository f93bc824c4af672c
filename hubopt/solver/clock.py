"""One clock for a solve: the deadline, the work budget of a repeatable run, and the
record of the steps the clock ended.

Every step of a solve takes the :class:`Clock` it may spend. :meth:`Clock.within`
gives a step a shorter window on the same clock (the same work budget and the same
record), so a part solve, a stage and the whole model all keep one time limit.

A repeatable run (``[solver] repeatable``) also gives each step a fixed amount of
work sized from the time limit: where the work limit or a proof, not the clock, ends
every step, the same inputs give the same plan on any machine under any load (one
worker or many). A step the clock ends anyway is recorded (:meth:`Clock.stopped`);
after the first plan its plan is not used (only its bound), so that a plan found only
on a quick machine never decides the answer.

Work is counted in LP iterations (simplex pivots, :attr:`SolveResult.work
<hubopt.solver.result.SolveResult.work>`), the same on any machine: one part solve
may take :data:`PART_NODES` branch-and-bound nodes per stage, and counts as its
iterations plus :data:`SOLVE_ITERATIONS` (building and reading the model); the
neighbourhood search may spend :data:`ITERATIONS_PER_SECOND` per second of its share
of the time limit; the whole model may take :data:`NODES_PER_SECOND` nodes per stage
per second of its share. Sized on this project's 2-core machine so that the work, not
the clock, ends a step with room to spare under a second worker: all of England at
15 s per area with two workers, 1,000 iterations per second left 22 of 135 searches
ended by the clock; 500 left 1 of those 22, with plans as good (median travel ratio
1.000).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

PART_NODES = 20
SOLVE_ITERATIONS = 500
ITERATIONS_PER_SECOND = 500
NODES_PER_SECOND = 40
#: Seconds one part solve (a construction piece, a neighbourhood) may take at most;
#: in a repeatable run its node limit ends it first, so the clock is only the safety net.
PART_SECONDS = 3.0
PART_SECONDS_REPEATABLE = 10.0
#: Seconds a solver may run past its step's deadline before it is stopped: CBC's
#: root heuristics (the feasibility pump above all) check the clock only between
#: passes, and on a large area one pass took 42 s against a limit of 30 (North
#: Central London, 180 practices).
OVERRUN_SECONDS = 5.0


@dataclass
class _Account:
    """What every step of one solve shares: work done, model builds timed, clock stops."""

    repeatable: bool
    seconds: float  # the solve's time limit
    work: int = 0
    build_seconds: float = 0.0
    build_variables: int = 0
    clock_stops: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Clock:
    """When a step must end (``deadline``, ``time.perf_counter()`` seconds), when a
    solver still running is stopped (``stop_at``), and the account every step of the
    solve shares."""

    start: float
    deadline: float
    stop_at: float
    account: _Account

    @classmethod
    def starting(
        cls, seconds: float, *, repeatable: bool = False, overrun: float = OVERRUN_SECONDS
    ) -> Clock:
        """A clock for ``seconds`` from now; a solver still going ``overrun`` seconds
        past the deadline is stopped."""
        now = time.perf_counter()
        return cls(now, now + seconds, now + seconds + overrun, _Account(repeatable, seconds))

    # -- time ----------------------------------------------------------------------

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def left(self) -> float:
        return self.deadline - time.perf_counter()

    def within(self, seconds: float) -> Clock:
        """A step's window on this clock: at most ``seconds`` from now, never past this
        deadline; its solver is stopped :data:`OVERRUN_SECONDS` past its own deadline
        at the latest, never later than this clock's."""
        now = time.perf_counter()
        deadline = min(self.deadline, now + max(0.0, seconds))
        return dataclasses.replace(
            self, deadline=deadline, stop_at=min(self.stop_at, deadline + OVERRUN_SECONDS)
        )

    def until(self, deadline: float) -> Clock:
        """A step's window on this clock that ends at ``deadline`` at the latest."""
        return self.within(deadline - time.perf_counter())

    # -- work ----------------------------------------------------------------------

    @property
    def repeatable(self) -> bool:
        return self.account.repeatable

    @property
    def seconds(self) -> float:
        """The whole solve's time limit (the same in every step's window): what a
        repeatable run sizes work limits from."""
        return self.account.seconds

    @property
    def work(self) -> int:
        """Work done so far by the steps that count it (LP iterations)."""
        return self.account.work

    def add_work(self, iterations: int) -> None:
        self.account.work += iterations

    def part_seconds(self) -> float:
        """Seconds one part solve may take at most (:data:`PART_SECONDS`)."""
        return PART_SECONDS_REPEATABLE if self.repeatable else PART_SECONDS

    def nodes(self, amount: float) -> int | None:
        """The node limit for a solve: ``amount`` in a repeatable run, else None."""
        return max(1, int(amount)) if self.repeatable else None

    def record_build(self, seconds: float, variables: int) -> None:
        """A model of ``variables`` took ``seconds`` to build."""
        self.account.build_seconds += seconds
        self.account.build_variables += variables

    def build_estimate(self, variables: int) -> float | None:
        """Seconds to build a model of ``variables`` here, under this machine's load
        (None before any model was timed)."""
        a = self.account
        return None if a.build_variables == 0 else variables * a.build_seconds / a.build_variables

    # -- what the clock ended ------------------------------------------------------

    def stopped(self, step: str) -> None:
        """The clock, not the work limit, ended ``step``."""
        stops = self.account.clock_stops
        stops[step] = stops.get(step, 0) + 1

    def stops(self) -> tuple[str, ...]:
        """The steps the clock ended, as "step (xN)" texts."""
        return tuple(s if n == 1 else f"{s} (x{n})" for s, n in self.account.clock_stops.items())
