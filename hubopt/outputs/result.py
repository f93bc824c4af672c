"""A run's products: the one record every output file, the map and the report are
written from (:func:`hubopt.pipeline.run` fills it; the CLI, notebooks and tests read it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from hubopt.model.check import CheckReport
from hubopt.outputs.catchments import Catchments
from hubopt.outputs.choices import choices_summary
from hubopt.roads.matrix import describe_source
from hubopt.scenario import Scenario
from hubopt.solver import SolveResult
from hubopt.solver.choices import Choices


@dataclass
class RunResult:
    """Everything a run produced, for the CLI, notebooks and tests."""

    scenario: Scenario
    practices: gpd.GeoDataFrame
    matrix: pd.DataFrame
    solve: SolveResult
    checks: CheckReport
    assignment: pd.DataFrame
    hubs: pd.DataFrame
    geo: gpd.GeoDataFrame
    comparison: pd.DataFrame | None = None
    rejects: pd.DataFrame | None = None
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    catchments: Catchments | None = None  # what the map and report draw
    published: dict[str, str] = field(default_factory=dict)  # NHS file -> date it is of
    choices: Choices | None = None  # alternatives, what stays together, rule prices
    #: practices and patients of the area read by the inputs stage (kept + left out)
    read: tuple[int, int] | None = None

    def summary(self) -> dict:
        h = self.hubs
        return {
            "scenario": self.scenario.name,
            "status": self.solve.status,
            "status_text": self.solve.describe(),
            "gap": self.solve.gap,
            "clock_stops": list(self.solve.clock_stops) if self.solve.repeatable else None,
            "objective_patient_minutes": self.solve.objective,
            "objective_stages": self.solve.stage_records(),
            "practices": len(self.assignment),
            "patients": int(self.assignment["list_size"].sum()),
            "hubs": len(h),
            "hubs_in_band": int((h["in_band"] == "yes").sum()),
            "population_min": int(h["list_size"].min()),
            "population_max": int(h["list_size"].max()),
            "worst_minutes": float(h["max_minutes"].max()),
            "mean_minutes": float(
                (self.assignment["minutes_to_hub"] * self.assignment["list_size"]).sum()
                / self.assignment["list_size"].sum()
            ),
            "checks": {r.name: r.passed for r in self.checks.results},
            "seconds": {k: round(v, 2) for k, v in self.timings.items()},
            "travel_times": describe_source(self.matrix),
            "notes": self.notes,
            **({"choices": choices_summary(self.choices)} if self.choices is not None else {}),
        }
