"""Feasibility diagnosis before solving, in planner's words."""

from __future__ import annotations

from hubopt import diagnose


def test_clean_area_has_no_problems(line_area):
    practices, t, scenario = line_area
    assert diagnose.diagnose(practices, t, scenario) == []


def test_oversize_practice_named_with_numbers(line_area):
    practices, t, scenario = line_area
    practices = practices.copy()
    practices.loc["D", "list_size"] = 62_000
    problems = diagnose.oversize_practices(practices, scenario.replace(oversize="error"))
    assert problems == [
        "practice D Delta Medical Group has 62,000 patients, above the upper band of "
        '50,000: it cannot fit in any hub. Set oversize = "own_hub" to let it be a hub '
        "on its own, or raise population_max."
    ]
    assert diagnose.oversize_practices(practices, scenario) == []


def test_practice_cut_off_by_cap_gets_smallest_cap(line_area):
    """Cap 3: nobody is within 3 min of anyone, so no site gathers 30k; every
    practice is stuck. D and E need 4 min (37k); A, B, C need 10 min (A+B+C at B
    within 5 is 45k: B's 5-min circle holds A, B, C)."""
    practices, t, scenario = line_area
    problems = diagnose.unreachable_band(practices, t, scenario.replace(travel_cap_minutes=3))
    assert len(problems) == 5
    by_code = {p.split()[1]: p for p in problems}
    assert "a cap of 4 minutes would let it reach one" in by_code["E"]
    assert "a cap of 5 minutes would let it reach one" in by_code["A"]
    assert "E Epsilon Surgery (12,000 patients)" in by_code["E"]


def test_total_population_cannot_split(line_area):
    """82k in all; band 42-45k: 1 hub holds at most 45k, 2 hubs need at least 84k."""
    practices, t, scenario = line_area
    s = scenario.replace(population_min=42_000, population_max=45_000)
    problems = diagnose.population_total(practices, s)
    assert len(problems) == 1
    assert "82,000 patients" in problems[0] and "2 hubs need at least 84,000" in problems[0]
