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
class Review:
    """A reviewer's edit of a proposal (``hubopt run --keep edited.csv``): the proposal,
    the edit and the plan re-solved around it, measured the same way."""

    #: the edited plan's file
    source: Path
    #: the reviewer's hubs held in the re-solve (practice codes; site first)
    kept: list[list[str]]
    #: plan name -> (assignment, hubs) tables: "proposal", "reviewer's edit", "re-solved"
    scored: dict[str, tuple[pd.DataFrame, pd.DataFrame]]
    #: plan name -> the independent checks' failures
    failures: dict[str, list[str]]
    #: side by side: :func:`hubopt.outputs.evaluate.compare` with patient-minutes,
    #: rule breaches and practices moved against today
    comparison: pd.DataFrame

    def patient_minutes(self, name: str) -> float:
        a = self.scored[name][0]
        a = a[a["hub_id"] != ""]
        return float((a["list_size"] * a["minutes_to_hub"]).sum())

    def cost(self, name: str) -> tuple[float, float]:
        """Patient-minutes of plan ``name`` above the proposal's, and as a share."""
        base = self.patient_minutes("proposal") if "proposal" in self.scored else 0.0
        extra = self.patient_minutes(name) - base
        return extra, (extra / base if base else 0.0)


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
    #: a reviewer's edit held in this run (``--keep``), with the proposal it came from
    review: Review | None = None

    def summary(self) -> dict:
        from hubopt import __version__

        h = self.hubs
        return {
            "scenario": self.scenario.name,
            "hubopt_version": __version__,
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
