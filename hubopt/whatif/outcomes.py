"""What a what-if gives back, and the table comparing them.

An :class:`Outcome` is one what-if: its scenario, whether a plan was found, and the plan
scored with the measures of the comparison table
(:func:`hubopt.outputs.evaluate.overall`,
:func:`hubopt.outputs.evaluate.practices_moved`), or the reasons there is none.
:func:`today` scores today's grouping the same way; :func:`compare` puts any number of
outcomes in one table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from hubopt.errors import InputError
from hubopt.model.check import CheckReport
from hubopt.outputs import evaluate, maps, units
from hubopt.scenario import Scenario
from hubopt.solver import SolveResult
from hubopt.text import plural
from hubopt.whatif.areas import AreaData

if TYPE_CHECKING:
    import folium

#: The row of :func:`compare` counting practices that leave their group (the label
#: :func:`hubopt.pipeline.compare_with_current` uses).
MOVED = "practices moved vs current"


@dataclass
class Outcome:
    """One what-if: its scenario, whether a plan was found, and the plan scored.

    ``status`` is the solver's (``optimal``, ``within-gap``, ``time-limited``),
    ``infeasible`` (``reasons`` says why), ``no solution`` (nothing found in the
    time limit), ``error`` (e.g. a rule names an unknown practice) or ``current``
    (today's grouping, :func:`today`).
    """

    name: str
    area: AreaData
    scenario: Scenario
    status: str
    changes: tuple[str, ...] = ()
    message: str = ""
    reasons: tuple[str, ...] = ()
    result: SolveResult | None = None
    checks: CheckReport | None = None  # the independent checks of the plan
    assignment: pd.DataFrame | None = None  # report.assignment_table
    hubs: pd.DataFrame | None = None  # report.hub_table
    moved: pd.Series | None = None  # bool by practice code (None without today's groups)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def has_plan(self) -> bool:
        return self.assignment is not None

    def figures(self) -> dict[str, object]:
        """This outcome's column of :func:`compare`."""
        s = self.scenario
        out: dict[str, object] = {
            "what if": "; ".join(self.changes) or "-",
            "status": self.status,
            "band": f"{s.population_min:,}-{s.population_max:,}",
            "cap (minutes)": s.travel_cap_minutes,
            "practices": len(self.area.practices),
            "patients": self.area.patients,
        }
        if self.has_plan:
            out |= evaluate.overall(self.assignment, self.hubs)
            out[MOVED] = "-" if self.moved is None else int(self.moved.sum())
        out["seconds"] = round(self.seconds, 1)
        out["why not"] = self.reasons[0] if self.reasons else ""
        return out

    def describe(self) -> str:
        """A few lines for people: status, key figures or the reasons."""
        lines = [f"{self.name}: {self.status_text()}"]
        lines += [f"  {c}" for c in self.changes]
        if self.has_plan:
            f = self.figures()
            mean = f["mean minutes to site (patient-weighted)"]
            moved, unit = f[MOVED], self.area.words.unit
            lines.append(
                f"  {plural(f['hubs'], 'hub')} ({f['share in band']} in {f['band']}), "
                f"{f['smallest hub']:,} to {f['largest hub']:,} patients; travel worst "
                f"{f['worst minutes to site']} {unit}, mean {mean} {unit}; "
                + (plural(moved, "practice") if isinstance(moved, int) else f"{moved} practices")
                + " moved"
            )
        else:
            lines += [f"  {self.message}"] + [f"  - {r}" for r in self.reasons]
        return "\n".join(lines)

    def status_text(self) -> str:
        if self.result is not None:
            return self.result.describe()
        return {"current": "today's grouping"}.get(self.status, self.status)

    def map(self) -> folium.Map:
        """The reviewer's map of this plan (:func:`hubopt.outputs.maps.proposal_map`), with
        today's groups as the other view when known."""
        if not self.has_plan:
            raise InputError(f"{self.name} has no plan to map ({self.status}).", self.reasons)
        a, s = self.area, self.scenario
        current = None if self.status == "current" else a.current
        return maps.proposal_map(
            self.assignment,
            self.hubs,
            a.practices,
            title=self.name,
            status=self.status_text(),
            cap=s.travel_cap_minutes,
            band=(s.population_min, s.population_max),
            boundary=a.boundary,
            current=current,
            current_scored=None if current is None else _score_today(a, s),
            minutes=units.minutes_of(a.minutes),
        )

    def __repr__(self) -> str:
        return f"<Outcome {self.name}: {self.status}>"


def _score_today(area: AreaData, scenario: Scenario) -> tuple[pd.DataFrame, pd.DataFrame]:
    return evaluate.score(area.current["group_id"], area.practices, area.minutes, scenario)


def today(area: AreaData, name: str = "today") -> Outcome:
    """Today's grouping as an outcome, scored the same way (each group's best site),
    so that it can stand first in :func:`compare` and :func:`side_by_side`."""
    if area.current is None:
        raise InputError(
            f"Scenario {area.scenario.name} has no current grouping.",
            ['give [inputs] current (or current = "pcn")'],
        )
    assignment, hubs = _score_today(area, area.scenario)
    moved = pd.Series(False, index=assignment["practice_code"].to_numpy())
    return Outcome(
        name, area, area.scenario, "current", area.changes, "today's grouping",
        assignment=assignment, hubs=hubs, moved=moved,
    )  # fmt: skip


def compare(outcomes: Iterable[Outcome]) -> pd.DataFrame:
    """One table, one column per outcome (named by ``Outcome.name``; repeated names
    get `` (2)``, ...): what changed, status, band and cap, practices and patients,
    hubs, hubs in band and their share, smallest and largest hub, worst and
    patient-weighted mean minutes to the hub site, practices ungrouped, practices moved
    vs today, seconds to solve, and the first reason where there is no plan (``-`` where
    a figure does not apply). Where travel is the straight-line estimate (in any of the
    outcomes' areas), the minute measures say so, as in a run's comparison."""
    outcomes = list(outcomes)
    columns: dict[str, dict[str, object]] = {}
    for o in outcomes:
        name, k = o.name, 1
        while name in columns:
            k += 1
            name = f"{o.name} ({k})"
        columns[name] = o.figures()
    last = ["seconds", "why not"]
    rows = [r for r in dict.fromkeys(r for f in columns.values() for r in f) if r not in last]
    rows += last
    table = pd.DataFrame(
        {name: [f.get(r, "-") for r in rows] for name, f in columns.items()},
        index=rows,
        dtype=object,
    )
    estimate = any(o.area.words.estimate for o in outcomes)
    return table.rename(index=units.Minutes(estimate).measure)
