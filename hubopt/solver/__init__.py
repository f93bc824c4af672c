"""Solver: a plan from a built model, within one clock, and how good it honestly is.

One path, whatever the caller (the pipeline, the what-ifs, the batch, choices,
explanations, benchmarks)::

    solve_area (plan)                      any area, within the time limit
      ├─ first.construct / first.grow      a first plan in seconds (large areas)
      ├─ partition.solve                   large areas, objectives summed over hubs:
      │    ├─ columns.Area                 hubs as columns, the rules of one hub
      │    └─ pricing                      greedy | exact (HiGHS MIP per site) | enumerate
      ├─ search.improve                    improved exactly, a few hubs at a time
      ├─ bounds.relaxed_bound              LP / Lagrangian bound when CBC prints none
      └─ stages.solve_model                THE DOOR to the compact model: objectives in stages
           └─ backends.run                 one solver run: backends.cbc | backends.highs
                 → result.SolveResult      Status, objective, bound, gap, Stop, work,
                                           bound_kind, plan_source, proof

The set partitioning (:mod:`~hubopt.solver.partition`) solves the same problem as the
compact model, from the same rule code (eligible pairs, contiguity, singletons), with
its master, pricing and proof in the process (:mod:`~hubopt.solver.inprocess`), on the
same clock. A part of an area (a construction piece, a neighbourhood, a quick
alternative) goes through the same door (:func:`~hubopt.solver.instance.solve_part`).
Every step takes
the one :class:`~hubopt.solver.clock.Clock` of the solve: its deadline, the work
budget of a repeatable run, and the record of the steps the clock ended. Around it:
:mod:`~hubopt.solver.choices` (alternative plans near the best, what stays together,
the price of each rule) and :mod:`~hubopt.solver.explain` (which rules conflict when
no plan exists), both through the same door.

May import: :mod:`hubopt.model`, :mod:`hubopt.inputs`, :mod:`hubopt.scenario`,
:mod:`hubopt.errors`. It reads a model's structure from
:class:`~hubopt.model.HubModel` (its rule families), never from constraint names.
"""

from hubopt.solver.backends import Options
from hubopt.solver.clock import Clock
from hubopt.solver.plan import solve_area
from hubopt.solver.result import SolveResult, StageRecord, Status, Stop
from hubopt.solver.stages import solve_model

__all__ = [
    "Clock",
    "Options",
    "SolveResult",
    "StageRecord",
    "Status",
    "Stop",
    "solve_area",
    "solve_model",
]
