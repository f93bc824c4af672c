"""Every optional rule and objective on hand-drawn fixtures with the optimum worked out.

Most tests use four practices in a row (``four``)::

    P1(15k) --4-- P2(15k) --4-- P3(15k) --4-- P4(15k)      minutes along the road

Band 30-60k, cap 10 (P1-P3 and P2-P4 are 8 minutes, P1-P4 is 12: out of reach).
Weighted travel alone: two pairs {P1,P2} and {P3,P4}, 15k x 4 each = **120,000**.
"""

from __future__ import annotations

import networkx as nx
import pandas as pd
import pytest

from hubopt import model
from hubopt.errors import InfeasibleError, InputError
from hubopt.model import check
from hubopt.pipeline import solve_matrix
from tests.conftest import INPUT, matrix_frame, practices_frame, solve

CODES = ["P1", "P2", "P3", "P4"]


@pytest.fixture
def four():
    from hubopt.scenario import Scenario

    pos = [0, 4, 8, 12]
    t = matrix_frame(CODES, [[abs(a - b) for b in pos] for a in pos])
    practices = practices_frame(
        [(c, f"Practice {c}", 52.6, -1.2 + 0.01 * k, 15_000) for k, c in enumerate(CODES)]
    )
    practices["zone"] = ["X", "Y", "Y", "Y"]
    scenario = Scenario(
        name="four",
        practices=INPUT / "unused.csv",
        population_min=30_000,
        population_max=60_000,
        travel_cap_minutes=10,
        time_limit_seconds=30,
        threads=1,
    )
    return practices, t, scenario


def _solve(practices, t, scenario, **kw):
    """Build, solve in stages and run the independent checks (which must pass)."""
    m = model.build(t, practices, scenario, **kw)
    r = solve(m, seconds=30)
    assert r.status == "optimal", r.stages
    report = check.check_plan(
        check.PlanData(
            r.assignment,
            practices,
            t,
            scenario,
            r.objective,
            values=r.values,
            current=kw.get("current"),
            neighbours=kw.get("neighbours"),
        )
    )
    assert report.passed, report.failures
    return r


def _hubs(assignment: pd.Series) -> set[frozenset]:
    a = assignment.dropna()
    return {frozenset(m) for m in a.groupby(a).groups.values()}


def test_weighted_travel_default(four):
    r = _solve(*four)
    assert r.objective == pytest.approx(120_000)
    assert _hubs(r.assignment) == {frozenset({"P1", "P2"}), frozenset({"P3", "P4"})}


def test_locked_group_keeps_partners_together(four):
    """Lock P2 with P3: a pair then cannot split them, and {P1,P2,P3} or {P2,P3,P4}
    leaves the fourth practice alone (15k, below the band), so all four share one hub,
    at P2 or P3: 15k x (4 + 4 + 8) = **240,000**."""
    practices, t, s = four
    r = _solve(practices, t, s.replace(locked_groups=(("P2", "P3"),)))
    assert r.objective == pytest.approx(240_000)
    assert _hubs(r.assignment) == {frozenset(CODES)}


def test_apart_separates_practices(four):
    """P1 and P2 apart: P1 can only join P3 (8 min), leaving {P2,P4}:
    15k x 8 twice = **240,000**."""
    practices, t, s = four
    r = _solve(practices, t, s.replace(apart=(("P1", "P2"),)))
    assert r.objective == pytest.approx(240_000)
    assert _hubs(r.assignment) == {frozenset({"P1", "P3"}), frozenset({"P2", "P4"})}


def test_fixed_and_candidate_sites(four):
    """Sites only at P2 and P3 (fixed at P2): {P1,P2}@P2, {P3,P4}@P3, still 120,000."""
    practices, t, s = four
    r = _solve(practices, t, s.replace(candidate_sites=("P2", "P3"), fixed_sites=("P2",)))
    assert r.objective == pytest.approx(120_000)
    assert r.assignment.to_dict() == {"P1": "P2", "P2": "P2", "P3": "P3", "P4": "P3"}


def test_hub_count(four):
    """Band 0-60k: alone, each practice is its own hub (0 minutes). hubs = 2 gives the
    pairs (120,000); hubs_max = 1 puts all four at P2 or P3 (240,000)."""
    practices, t, s = four
    s = s.replace(population_min=0)
    assert _solve(practices, t, s).objective == pytest.approx(0)
    assert _solve(practices, t, s.replace(hubs=2)).objective == pytest.approx(120_000)
    assert _solve(practices, t, s.replace(hubs_max=1)).objective == pytest.approx(240_000)


def test_within_zone_and_crossing(four):
    """Zones: P1 in X, the rest in Y. Hubs may not cross zones, so P1 (15k) is alone
    below the band: no plan. Allowing P1 to cross restores the pairs (120,000)."""
    practices, t, s = four
    with pytest.raises(InfeasibleError) as err:
        solve_matrix(practices, t, s.replace(within="zone"))
    assert "hubs staying within one zone" in str(err.value)
    r = _solve(practices, t, s.replace(within="zone", cross_allowed=("P1",)))
    assert r.objective == pytest.approx(120_000)


def test_blank_zone_is_named(four):
    """A practice, or a candidate site, with no value in the ``within`` column would be a
    zone of its own and could join no hub: both are named instead."""
    practices, t, s = four
    practices = practices.copy()
    practices.loc["P3", "zone"] = None
    practices["site_only"] = False
    practices.loc["P4", ["zone", "site_only"]] = ["", True]
    with pytest.raises(InputError) as err:
        model.build(t, practices, s.replace(within="zone"))
    text = str(err.value)
    assert "practice P3 (" in text and "has no zone; give it the area it belongs to" in text
    assert "candidate site P4 (" in text and "in the sites file" in text
    assert "P1 (" not in text and "P2 (" not in text


def test_optional_practice_may_stay_out(four):
    """Make P4 a far-off 5k practice (cap 10, 20 min from P3): it cannot join anyone.
    Optional, it stays out (5,000 patients unassigned) and the rest form
    {P1,P2,P3}@P2 = 15k x 4 x 2 = **120,000**."""
    practices, t, s = four
    practices = practices.copy()
    practices.loc["P4", "list_size"] = 5_000
    t = t.copy()
    t.loc["P4", ["P1", "P2", "P3"]] = t.loc[["P1", "P2", "P3"], "P4"] = [28, 24, 20]
    r = _solve(practices, t, s.replace(optional=("P4",)))
    assert pd.isna(r.assignment["P4"])
    assert r.values["unassigned"] == pytest.approx(5_000)
    assert r.objective == pytest.approx(120_000)


def test_mean_travel_cap(four):
    """{P1,P2}@P1 has a patient-weighted mean of 2 minutes. A mean cap of 1.9 rules out
    every pair and trio (the best, {P1,P2}, averages 2.0): no plan, and the explanation
    names the mean cap."""
    practices, t, s = four
    assert _solve(practices, t, s.replace(mean_travel_cap_minutes=2)).objective == 120_000
    with pytest.raises(InfeasibleError) as err:
        solve_matrix(practices, t, s.replace(mean_travel_cap_minutes=1.9))
    assert "the cap on each hub's mean travel" in str(err.value)


def test_rural_exception_and_elastic_band(line_area):
    """The line area with D at 10k: D+E = 22k, below 30k, and C is 20 min away.
    Strict: blocked before solving. Rural exception: {A,B,C}@B and {D,E}@E with
    8,000 short (the least possible), then 150,000 + 10k x 4 = **190,000**."""
    practices, t, s = line_area
    practices = practices.copy()
    practices.loc["D", "list_size"] = 10_000
    with pytest.raises(InfeasibleError):
        solve_matrix(practices, t, s)
    r = _solve(practices, t, s.replace(band="rural_exception"))
    assert r.values["band_breach"] == pytest.approx(8_000)
    assert r.objective == pytest.approx(190_000)
    assert r.assignment.to_dict() == {"A": "B", "B": "B", "C": "B", "D": "E", "E": "E"}


def test_elastic_band_least_bad_plan(line_area):
    """Band 30-40k: {A,B,C} = 45k is 5k over; any other split leaves C (10k) alone,
    20k short. Elastic: the 5,000-patient breach, then 198,000."""
    practices, t, s = line_area
    r = _solve(practices, t, s.replace(population_max=40_000, band="elastic"))
    assert r.values["band_breach"] == pytest.approx(5_000)
    assert r.objective == pytest.approx(198_000)


def test_contiguity_on_a_path():
    """Neighbours form a path A - B - C - D; travel is 1 minute A<->C and B<->D but 10
    between neighbours. 20k each, band 35-45k (pairs only), no cap.
    Scattered pairs {A,C},{B,D}: 20k x 1 x 2 = 40,000. Contiguous: {A,B},{C,D}
    = 20k x 10 x 2 = **400,000** ({B,C} would leave A and D alone)."""
    from hubopt.scenario import Scenario

    codes = list("ABCD")
    t = matrix_frame(codes, [[0, 10, 1, 10], [10, 0, 10, 1], [1, 10, 0, 10], [10, 1, 10, 0]])
    practices = practices_frame(
        [(c, c, 52.6, -1.2 + 0.01 * k, 20_000) for k, c in enumerate(codes)]
    )
    s = Scenario(
        name="path",
        practices=INPUT / "unused.csv",
        population_min=35_000,
        population_max=45_000,
        travel_cap_minutes=100,
    )
    assert _solve(practices, t, s).objective == pytest.approx(40_000)
    path = nx.path_graph(codes)
    r = _solve(practices, t, s.replace(contiguous=True), neighbours=path)
    assert r.objective == pytest.approx(400_000)
    assert _hubs(r.assignment) == {frozenset("AB"), frozenset("CD")}


def test_contiguity_check_catches_a_split_hub():
    from hubopt.scenario import Scenario

    codes = list("ABC")
    practices = practices_frame([(c, c, 52.6, -1.2, 20_000) for c in codes])
    t = matrix_frame(codes, [[0, 1, 1], [1, 0, 1], [1, 1, 0]])
    s = Scenario(name="x", population_min=0, population_max=90_000, contiguous=True)
    plan = pd.Series({"A": "A", "B": "B", "C": "A"})
    data = check.PlanData(plan, practices, t, s, neighbours=nx.path_graph(codes))
    failed = {r.name: r.failures for r in check.check_plan(data).results if not r.passed}
    assert failed["contiguous"] == ["hub A is in 2 separate pieces: A; C"]


def test_worst_travel_objective():
    """X (40k) at 0, M (1k) at 5, Y (5k) at 10; one hub (band 0-100k, hubs = 1).
    Weighted travel sites at X: 1k x 5 + 5k x 10 = 55,000 (worst 10).
    Worst travel sites at M: worst 5 (then 40k x 5 + 5k x 5 = 225,000)."""
    from hubopt.scenario import Scenario

    codes = ["X", "M", "Y"]
    pos = [0, 5, 10]
    t = matrix_frame(codes, [[abs(a - b) for b in pos] for a in pos])
    practices = practices_frame(
        [("X", "X", 52.6, -1.2, 40_000), ("M", "M", 52.6, -1.19, 1_000),
         ("Y", "Y", 52.6, -1.18, 5_000)]
    )  # fmt: skip
    s = Scenario(name="w", population_min=0, population_max=100_000, hubs=1,
                 travel_cap_minutes=60)  # fmt: skip
    assert _solve(practices, t, s).objective == pytest.approx(55_000)
    r = _solve(practices, t, s.replace(objective="worst_travel"))
    assert r.values["worst_travel"] == pytest.approx(5)
    assert r.objective == pytest.approx(225_000)
    assert set(r.assignment) == {"M"}


def test_balance_objective(four):
    """P4 grows to 30k; two hubs, band 0-60k, target 30k. {P1,P2,P3} + {P4} are both
    exactly 30k: balance **0** (pairs would be 30k and 45k: 15,000 off)."""
    practices, t, s = four
    practices = practices.copy()
    practices.loc[["P1", "P2", "P3"], "list_size"] = 10_000
    practices.loc["P4", "list_size"] = 30_000
    r = _solve(practices, t, s.replace(population_min=0, hubs=2, objective="balance",
                                       balance_target=30_000))  # fmt: skip
    assert r.values["balance"] == pytest.approx(0)
    assert _hubs(r.assignment) == {frozenset({"P1", "P2", "P3"}), frozenset({"P4"})}


@pytest.mark.parametrize("mode", ["lexicographic", "weighted"])
def test_fewest_moved(four, mode):
    """Today all four are one group (60k, in band). Fewest moved keeps them together
    (0 moved; then travel 240,000) where travel alone splits them into pairs
    (120,000, 2 moved)."""
    practices, t, s = four
    current = pd.Series("G1", index=CODES)
    kw = {"objective": ("fewest_moved", "weighted_travel"), "objective_mode": mode}
    if mode == "weighted":
        kw["objective_weights"] = (1e6, 1.0)
    r = _solve(practices, t, s.replace(**kw), current=current)
    assert _hubs(r.assignment) == {frozenset(CODES)}
    assert check.moved_count(r.assignment, current) == 0
    assert check.recompute_weighted_travel(r.assignment, practices, t) == pytest.approx(240_000)


def test_exempt_practice_is_a_hub_alone(four):
    """P1 exempt (agreed to stand alone): {P1}, then {P2,P3,P4}@P3 = 15k x 4 x 2."""
    practices, t, s = four
    r = _solve(practices, t, s.replace(exempt=("P1",)))
    assert r.assignment["P1"] == "P1"
    assert r.objective == pytest.approx(120_000)


def test_rules_naming_unknown_practices(four):
    practices, t, s = four
    with pytest.raises(InputError) as err:
        model.build(t, practices, s.replace(locked_groups=(("P1", "Q9"),), fixed_sites=("Z1",)))
    text = str(err.value)
    assert "locked_groups names Q9" in text and "fixed_sites names Z1" in text


def test_infeasible_candidate_list_is_explained(four):
    """Only P1 may be a site: P4 is 12 minutes from it (cap 10), so no plan. Relaxing
    the candidate list alone fixes it, and the message says so."""
    practices, t, s = four
    with pytest.raises(InfeasibleError) as err:
        solve_matrix(practices, t, s.replace(candidate_sites=("P1",)))
    text = str(err.value)
    assert "relaxing any one of these on its own would allow a plan" in text
    assert "the candidate-site list" in text


def test_locked_group_beyond_the_cap_is_caught_before_solving(line_area):
    practices, t, s = line_area
    with pytest.raises(InfeasibleError) as err:
        solve_matrix(practices, t, s.replace(locked_groups=(("A", "E"),)))
    assert "locked group A, E: no practice is within 12 minutes of all its members" in str(
        err.value
    )
