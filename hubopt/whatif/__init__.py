"""What-ifs in Python: derive scenarios, re-solve from one travel-time matrix, compare.

An analyst loads an area once (inputs and the travel-time matrix, the slow part),
then asks questions one line each::

    import hubopt
    from hubopt import whatif

    area = whatif.prepare(hubopt.demo_scenario_path(), time_limit_seconds=20)
    base = whatif.solve(area, "as planned")
    tight = whatif.solve(area, "cap 15 min", travel_cap_minutes=15)
    small = whatif.solve(area, "25-45k", population_min=25_000, population_max=45_000)
    closed = whatif.solve(whatif.close_practice(area, "D81003"), "D81003 closes")
    grown = whatif.solve(whatif.grow_lists(area, 1.10), "lists +10%")
    whatif.compare([whatif.today(area), base, tight, small, closed, grown])
    whatif.side_by_side([base, small]).save("maps/what-if.html")
    whatif.plot_sweep(whatif.sweep(area, caps=[15, 20, 25], bands=[(30_000, 50_000)]))

One module per job, imports running down this list only::

    areas      AreaData: everything a what-if re-solves from (prepare);
               the area changed (close_practice, grow_lists)
    outcomes   Outcome: one what-if scored, or why it has no plan; today's grouping
               as one (today); outcomes in one table (compare)
    solving    re-solves: one what-if (solve), cap x band (sweep), planners' choices
               (choices, alternatives, rule_prices)
    mapgrid    maps for Jupyter and as one HTML file (map_frame, side_by_side)
    plots      a sweep drawn with matplotlib (plot_sweep)

Every what-if re-solves from ``area.minutes`` with :func:`hubopt.pipeline.solve_matrix`
(no network work) and is scored with the measures of the comparison table. A what-if
whose rules cannot all hold is an :class:`Outcome` with status ``"infeasible"`` and the
reasons, not an exception. Functions here are plain: an :class:`AreaData` is never
changed in place; :func:`close_practice` and :func:`grow_lists` return a new one.
Every name below is importable from ``hubopt.whatif`` itself.
"""

from hubopt.whatif.areas import AreaData, close_practice, grow_lists, prepare
from hubopt.whatif.mapgrid import MapGrid, map_frame, map_html, side_by_side
from hubopt.whatif.outcomes import MOVED, Outcome, compare, today
from hubopt.whatif.plots import SWEEP_MEASURES, plot_sweep
from hubopt.whatif.solving import (
    SWEEP_COLUMNS,
    alternatives,
    choices,
    rule_prices,
    solve,
    sweep,
)

__all__ = [
    "MOVED",
    "SWEEP_COLUMNS",
    "SWEEP_MEASURES",
    "AreaData",
    "MapGrid",
    "Outcome",
    "alternatives",
    "choices",
    "close_practice",
    "compare",
    "grow_lists",
    "map_frame",
    "map_html",
    "plot_sweep",
    "prepare",
    "rule_prices",
    "side_by_side",
    "solve",
    "sweep",
    "today",
]
