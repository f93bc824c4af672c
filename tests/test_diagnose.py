"""Feasibility diagnosis before solving, in planner's words."""

from __future__ import annotations

from hubopt.model import diagnose


def test_clean_area_has_no_problems(line_area):
    practices, t, scenario = line_area
    assert diagnose.diagnose(practices, t, scenario) == []


def test_oversize_practice_named_with_numbers(line_area):
    practices, t, scenario = line_area
    practices = practices.copy()
    practices.loc["D", "list_size"] = 62_000
    problems = diagnose.oversize_cannot_fit(practices, scenario.replace(oversize="error"))
    assert problems == [
        "practice D Delta Medical Group has 62,000 patients, above the upper band of "
        '50,000: it cannot fit in any hub. Set oversize = "own_hub" to let it be a hub '
        "on its own, or raise population_max."
    ]
    assert diagnose.oversize_cannot_fit(practices, scenario) == []


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


def test_cluster_cut_off_by_the_cap(line_area):
    """D (10k) and E (12k) are 4 minutes apart and 20+ from C: with D at 10k they
    hold 22k in all, below 30k, whatever the grouping."""
    practices, t, scenario = line_area
    practices = practices.copy()
    practices.loc["D", "list_size"] = 10_000
    problems = diagnose.isolated_clusters(practices, t, scenario)
    assert problems == [
        "D Delta Medical Group, E Epsilon Surgery have no other practices within 12 minutes "
        "and have 22,000 patients in all, below the lower band of 30,000: raise "
        'travel_cap_minutes, lower population_min, or set band = "rural_exception"'
    ]
    # with a soft band the same facts are notes, not blockers
    soft = scenario.replace(band="rural_exception")
    assert diagnose.diagnose(practices, t, soft) == []
    assert diagnose.band_notes(practices, t, soft)
    # an optional cluster blocks nothing
    assert diagnose.isolated_clusters(practices, t, scenario.replace(optional=("D", "E"))) == []


def test_hub_count_cannot_hold_the_population(line_area):
    """82k in all, band 30-50k: one hub holds at most 50k; three need 90k."""
    practices, t, scenario = line_area
    few = diagnose.hub_count(practices, scenario.replace(hubs=1))
    assert few and "at most 1 hub (" in few[0] and "82,000" in few[0]
    many = diagnose.hub_count(practices, scenario.replace(hubs_min=3))
    assert many and "3 hubs need at least 90,000" in many[0]


def test_locked_group_too_big(line_area):
    practices, t, scenario = line_area
    s = scenario.replace(locked_groups=(("A", "B", "C", "D"),), travel_cap_minutes=40)
    problems = diagnose.locked_groups(practices, t, s)
    assert problems == [
        "locked group A, B, C, D has 70,000 patients, above the upper band of 50,000: "
        "it cannot stay together in one hub"
    ]
