"""Post-solve checks catch deliberately broken solutions."""

from __future__ import annotations

import pandas as pd
import pytest

from hubopt.model import check

GOOD = {"A": "B", "B": "B", "C": "B", "D": "D", "E": "D"}


def _data(line_area, plan, objective=None, **changes):
    practices, t, scenario = line_area
    if changes:
        scenario = scenario.replace(**changes)
    return check.PlanData(pd.Series(plan), practices, t, scenario, objective)


def test_optimal_plan_passes(line_area):
    report = check.check_plan(_data(line_area, GOOD, 198_000))
    assert report.passed, report.failures


@pytest.mark.parametrize(
    ("plan", "objective", "failing", "text"),
    [
        ({**GOOD, "E": None}, None, "assigned_once", "practice E has no hub"),
        ({k: v for k, v in GOOD.items() if k != "E"}, None, "assigned_once", "E is missing"),
        ({**GOOD, "Z": "B"}, None, "assigned_once", "Z, which is not in"),
        ({**GOOD, "D": "E"}, None, "sites_are_members", "hub site D is itself assigned to hub E"),
        ({**GOOD, "A": "D"}, None, "population_within_band", "hub B has 25,000"),
        ({**GOOD, "C": "D"}, None, "travel_within_cap", "practice C is 20.0 min"),
        (GOOD, 150_000, "objective_matches", "recomputed 198,000.0"),
    ],
)
def test_broken_plans_are_caught(line_area, plan, objective, failing, text):
    report = check.check_plan(_data(line_area, plan, objective))
    assert not report.passed
    failed = {r.name: r for r in report.results if not r.passed}
    assert failing in failed
    assert any(text in f for f in failed[failing].failures), failed[failing].failures


def test_band_breach_names_the_hub_and_band(line_area):
    """{A,B,C} = 45k is over a 40k upper band."""
    report = check.check_plan(_data(line_area, GOOD, None, population_max=40_000))
    assert report.failures == [
        "population_within_band: hub B has 45,000 patients, outside 30,000-40,000"
    ]


def test_oversize_practice_must_be_alone(line_area):
    practices, t, scenario = line_area
    practices = practices.copy()
    practices.loc["D", "list_size"] = 62_000
    data = check.PlanData(pd.Series(GOOD), practices, t, scenario)
    report = check.check_plan(data)
    failed = {r.name: r.failures for r in report.results if not r.passed}
    assert failed["oversize_alone"] == ["practice D must be a hub on its own but shares hub D"]
    ok = check.check_plan(
        check.PlanData(pd.Series({**GOOD, "E": "E", "D": "D"}), practices, t, scenario)
    )
    assert "oversize_alone" not in {r.name for r in ok.results if not r.passed}
