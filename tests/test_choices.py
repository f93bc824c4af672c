"""Alternatives, what stays together and the price of each rule, on hand-drawn areas.

Four practices on a road (``road(bc)``; minutes along it, B-C varies)::

    A(20k) --5-- B(10k) --bc-- C(10k) --5-- D(20k)

Band 20-30k, no binding cap. The groupings whose hubs all fit the band are only:

* **pairs** {A,B}@A + {C,D}@D: 10k x 5 + 10k x 5 = **100,000** patient-minutes;
* **middle** {A} + {B,C} + {D}: 10k x bc (B,C sited at B or C: the same cost);
* **crossed** {A,C}@A + {B,D}@D: 10k x (5 + bc) x 2, at least 300,000 with bc = 10.

(B or C alone has 10k, below the band; three or more together are over 30k.) The
pairs and the middle plan group 2 practices differently (B and C move, A and D stay
with their group whichever way the groups are matched).
"""

from __future__ import annotations

import networkx as nx
import pandas as pd
import pytest

from hubopt.model import alternatives as alternative_rows
from hubopt.model import check
from hubopt.outputs.choices import alternatives_text, price_sentence, prices_frame
from hubopt.pipeline import solve_matrix
from hubopt.scenario import Scenario
from hubopt.solver import choices
from tests.conftest import INPUT, matrix_frame, practices_frame

CODES = ["A", "B", "C", "D"]
PAIRS = {frozenset("AB"), frozenset("CD")}
MIDDLE = {frozenset("A"), frozenset("BC"), frozenset("D")}


def road(bc: float, **rules):
    pos = {"A": 0.0, "B": 5.0, "C": 5.0 + bc, "D": 10.0 + bc}
    t = matrix_frame(CODES, [[abs(pos[i] - pos[j]) for j in CODES] for i in CODES])
    sizes = {"A": 20_000, "B": 10_000, "C": 10_000, "D": 20_000}
    practices = practices_frame(
        [(c, f"Practice {c}", 52.6, -1.2 + 0.01 * k, sizes[c]) for k, c in enumerate(CODES)]
    )
    scenario = Scenario(
        name="road",
        practices=INPUT / "unused.csv",
        population_min=20_000,
        population_max=30_000,
        travel_cap_minutes=60,
        time_limit_seconds=60,
        threads=1,
        **rules,
    )
    neighbours = nx.path_graph(CODES)
    return practices, t, scenario, neighbours


def _groups(assignment: pd.Series) -> set[frozenset]:
    a = assignment.dropna()
    return {frozenset(m) for m in a.groupby(a).groups.values()}


def _alternatives(practices, t, scenario, neighbours, **kw):
    best, checks = solve_matrix(practices, t, scenario)
    return choices.find_alternatives(
        practices, t, scenario, best, best_checks=checks, neighbours=neighbours, **kw
    )


def test_two_optimal_plans_both_found_and_contested():
    """bc = 10: pairs and middle both cost 100,000; crossed costs 300,000 (+200%)."""
    practices, t, scenario, neighbours = road(10)
    alts = _alternatives(practices, t, scenario, neighbours, k=3, within=0.03, differ=2)
    assert alts.found == 1, alternatives_text(alts)
    assert {frozenset(_groups(p.assignment)) for p in alts.plans} == {
        frozenset(PAIRS),
        frozenset(MIDDLE),
    }
    for p in alts.plans:
        assert p.result.objective == pytest.approx(100_000)
        assert p.checks.passed
    alt = alts.plans[1]
    assert alt.result.status == "optimal"
    assert alt.differs_from_best == 2
    assert alts.ended == "unique"  # proven: crossed is far outside 3%
    assert "nearly unique" in alternatives_text(alts)
    pairs = choices.together([p.assignment for p in alts.plans], neighbours, set(CODES))
    assert list(pairs["verdict"]) == [choices.CONTESTED] * 3
    moved = choices.moves(alts, practices)
    assert sorted(moved["practice_code"]) == ["B", "C"]
    assert (moved["extra_patient_minutes"].abs() < 1e-6).all()


def test_relabelling_the_same_grouping_is_not_an_alternative():
    """The middle plan's hub {B,C} costs 100,000 sited at B or at C: the same grouping
    with another site. With differ = 1 it must not come back as a third plan."""
    practices, t, scenario, neighbours = road(10)
    alts = _alternatives(practices, t, scenario, neighbours, k=3, within=0.03, differ=1)
    assert alts.found == 1
    assert alts.ended == "unique"
    # the independent count agrees: a relabelled plan moves nobody
    middle_b = pd.Series({"A": "A", "B": "B", "C": "B", "D": "D"})
    middle_c = pd.Series({"A": "A", "B": "C", "C": "C", "D": "D"})
    assert check.moved_practices(middle_c, middle_b) == []


def test_best_plan_unique_within_tolerance():
    """bc = 20: pairs 100,000, middle 200,000 (+100%), crossed 500,000: nothing within 3%."""
    practices, t, scenario, neighbours = road(20)
    alts = _alternatives(practices, t, scenario, neighbours, k=2, within=0.03, differ=2)
    assert alts.found == 0
    assert alts.ended == "unique"
    assert "the best plan is unique" in alternatives_text(alts)
    assert _groups(alts.plans[0].assignment) == PAIRS
    pairs = choices.together([p.assignment for p in alts.plans], neighbours, set(CODES))
    assert dict(zip(pairs["a"] + pairs["b"], pairs["verdict"], strict=True)) == {
        "AB": choices.FIRM,
        "BC": choices.APART,
        "CD": choices.FIRM,
    }


def test_tolerance_wide_enough_finds_the_dearer_plan():
    """bc = 20 with 100% allowed: the middle plan (200,000, exactly +100%) is not within
    0.99 but with bc = 10.5 the middle plan costs 105,000 (+5%) and is found with 0.06."""
    practices, t, scenario, neighbours = road(10.5)
    alts = _alternatives(practices, t, scenario, neighbours, k=1, within=0.06, differ=2)
    assert alts.found == 1 and alts.ended == "found"
    assert _groups(alts.plans[1].assignment) == MIDDLE
    assert alts.plans[1].result.objective == pytest.approx(105_000)


def test_price_of_a_locked_group_worked_by_hand():
    """bc = 8: the middle plan {A} + {B,C}@B + {D} costs 10k x 8 = 80,000 and is the
    best; locking A+B together forces the pairs plan, 10k x 5 + 10k x 5 = 100,000.
    Keeping A+B together therefore costs 100,000 - 80,000 = **20,000 patient-minutes**,
    20,000 / 100,000 = 20% of the locked plan's travel; hubs 2 -> 3 (all in band)."""
    practices, t, scenario, neighbours = road(8, locked_groups=(("A", "B"),))
    best, _ = solve_matrix(practices, t, scenario)
    assert best.objective == pytest.approx(100_000)
    prices = choices.rule_prices(practices, t, scenario, best, neighbours=neighbours)
    lock = next(p for p in prices if p.rule == "keeping A+B together")
    assert lock.status == "optimal" and lock.proven
    assert lock.saving == pytest.approx(20_000)
    assert (lock.hubs, lock.base_hubs) == (3, 2)
    assert price_sentence(lock).startswith(
        "keeping A+B together costs 20,000 patient-minutes (20.0%)"
    )
    frame = prices_frame(prices)
    assert set(frame["rule"]) >= {"keeping A+B together", "population_max 35,000"}
    # a cap 5 minutes longer changes nothing; an upper band of 25,000 cannot hold A+B (30k)
    longer = next(p for p in prices if p.rule == "travel cap 65")
    assert longer.status == "optimal" and longer.saving == pytest.approx(0)
    assert "would change nothing" in price_sentence(longer)
    lower = next(p for p in prices if p.change == {"population_max": 25_000})
    assert lower.status == "infeasible"
    assert price_sentence(lower) == (
        "an upper band of 25,000 instead of 30,000: no plan meets the rules then (proven)"
    )


def _road_files(tmp_path, bc: float = 10, **output):
    """The road area as files: practices CSV, its matrix saved, a scenario asking for
    ``output`` ([output] keys)."""
    from hubopt.roads import matrix

    practices, t, _, _ = road(bc)
    rows = ["practice_code,name,lat,lon,list_size"] + [
        f"{c},{p['name']},{p['lat']},{p['lon']},{p['list_size']}" for c, p in practices.iterrows()
    ]
    (tmp_path / "practices.csv").write_text("\n".join(rows) + "\n")
    matrix.save_matrix(t, tmp_path / "matrix.csv", meta={"source": "hand-drawn"})
    out = "\n".join(f"{k} = {str(v).lower() if isinstance(v, bool) else v}"
                    for k, v in output.items())  # fmt: skip
    path = tmp_path / "road.toml"
    path.write_text(
        f"""
[scenario]
name = "road"
[inputs]
practices = "practices.csv"
[rules]
population_min = 20000
population_max = 30000
travel_cap_minutes = 60
[solver]
time_limit_seconds = 60
threads = 1
[network]
matrix = "matrix.csv"
[output]
{out}
"""
    )
    return path


def test_scenario_output_keys(tmp_path):
    from hubopt.errors import InputError
    from hubopt.scenario import load_scenario

    s = load_scenario(_road_files(tmp_path, alternatives=2, alternatives_differ=2,
                                  rule_prices=True))  # fmt: skip
    assert (s.alternatives, s.alternatives_within, s.alternatives_differ, s.rule_prices) == (
        2, 0.03, 2, True,
    )  # fmt: skip
    with pytest.raises(InputError) as err:
        load_scenario(_road_files(tmp_path, alternatives=-1, alternatives_within=1.5,
                                  alternatives_differ=0))  # fmt: skip
    text = str(err.value)
    assert "[output] alternatives -1 must not be negative" in text
    assert "[output] alternatives_within 1.5 must be a fraction" in text
    assert "[output] alternatives_differ 0 must be at least 1" in text


def test_cli_summary_json_report_and_map(tmp_path):
    """The whole run with --alternatives 2 --rule-prices on the two-optimum road."""
    import json

    from click.testing import CliRunner

    from hubopt.cli import main

    path = _road_files(tmp_path, alternatives_differ=2)
    out = tmp_path / "out"
    r = CliRunner().invoke(
        main,
        [
            "run",
            str(path),
            "--out",
            str(out),
            "--maps-dir",
            str(tmp_path / "maps"),
            "--alternatives",
            "2",
            "--rule-prices",
        ],  # fmt: skip
    )
    assert r.exit_code == 0, r.output
    assert "Alternatives: 1 alternative plan within 3% of the best" in r.output
    assert "the best plan is nearly unique (1 of 2 asked for)" in r.output
    assert "3 in some, 0 in none; 2 practices contested" in r.output
    assert "  the travel cap (60 minutes) costs nothing" in r.output
    summary = json.loads(  # strict JSON: no NaN
        (out / "summary.json").read_text(), parse_constant=lambda c: pytest.fail(c)
    )
    alts = summary["choices"]["alternatives"]
    assert (alts["found"], alts["ended"], alts["requested"]) == (1, "unique", 2)
    assert [p["status"] for p in alts["plans"]] == ["optimal", "optimal"]
    assert len(alts["assignments"]) == 2
    assert sorted(summary["choices"]["together"]["contested_practices"]) == ["B", "C"]
    assert any(p["rule"] == "travel cap 55" for p in summary["choices"]["rule_prices"])
    page = (out / "report.html").read_text()
    assert '<h2 id="choices">Choices</h2>' in page
    assert "Practice B (B): hub at" in page and "in alternative 1 (+0 patient-minutes" in page
    assert "What each rule costs" in page
    fmap = (out / "map.html").read_text()
    assert "Choices: what stays together (2 plans)" in fmap
    assert fmap.count('"dashArray": "7 6"') == 3  # the three contested neighbour links
    assert "changes hub between plans" in fmap
    assert "in alternative 1 (+0 patient-minutes" in fmap  # the report's words


def test_map_and_report_say_where_a_practice_moves_in_the_same_words():
    """``tables.hub_choices``: the best plan's hub, then each alternative's with what it
    costs; the map names a site by name, the report by name and code."""
    from hubopt.outputs import tables

    rows = pd.DataFrame(
        {"practice_code": ["B", "B"], "plan": [1, 2], "best_site": ["A", "A"],
         "plan_site": ["C", "D"], "extra_patient_minutes": [1_234.6, 20_000.0],
         "extra_share": [0.0123, 0.2]}
    )  # fmt: skip
    assert tables.hub_choices(rows, lambda code: f"Practice {code} ({code})") == [
        "hub at Practice A (A) in the best plan",
        "hub at Practice C (C) in alternative 1 (+1,235 patient-minutes, +1.2%)",
        "hub at Practice D (D) in alternative 2 (+20,000 patient-minutes, +20.0%)",
    ]


def test_whatif_alternatives_and_rule_prices_frames():
    """The what-if API on the two-optimum road: two plans, then the prices as a frame."""
    from hubopt import whatif

    practices, t, scenario, _ = road(10)
    area = whatif.AreaData(scenario, practices, t)
    plans = whatif.alternatives(area, 2, alternatives_differ=2)
    assert list(plans["plan"]) == ["best plan", "alternative 1"]
    assert list(plans["status"]) == ["optimal", "optimal"]
    assert list(plans["differs_from_best"]) == [0, 2]
    assert plans["checks_passed"].all()
    assert "nearly unique" in plans.attrs["text"]
    assert set(plans.attrs["together"]["verdict"]) == {choices.CONTESTED}
    assert {frozenset(_groups(a)) for a in plans.attrs["assignments"]} == {
        frozenset(PAIRS),
        frozenset(MIDDLE),
    }
    prices = whatif.rule_prices(area)
    assert {"rule", "status", "proven", "saving_patient_minutes", "sentence"} <= set(prices)
    upper = prices.set_index("rule").loc["the upper band (30,000 patients)"]
    # without an upper limit A+B+C+D (60k) could share one hub, but sited at B it costs
    # 20k x 5 + 10k x 10 + 20k x 15 = 500,000: the best plan stays the cheapest
    assert upper["status"] == "optimal" and upper["saving_patient_minutes"] == pytest.approx(0)


def test_no_time_left_is_not_called_unique():
    """With no time for the alternatives the search stops and says the time ran out: it
    does not claim the best plan is unique."""
    practices, t, scenario, neighbours = road(10)
    alts = _alternatives(practices, t, scenario, neighbours, k=2, differ=2, seconds=0.5)
    assert (alts.found, alts.ended) == (0, "time")
    assert "the time ran out before finding more (0 of 2 asked for)" in alternatives_text(alts)
    assert "unique" not in alternatives_text(alts)


def test_differ_rows_admit_exactly_the_plans_far_enough():
    """The LP-dual rows of :func:`hubopt.model.alternatives.add_differ` hold for a plan exactly when it
    groups at least ``d`` practices differently (as :func:`check.moved_practices` counts):
    groupings of five practices against two references, d = 2 and 3.
    Practices grouped alike by site label ``site[k]``; the plan's x fixed, the LP over
    the dual variables solved for feasibility."""
    import itertools

    import pulp

    from hubopt import model
    from hubopt.solver.backends.cbc import cbc_path

    codes = list("PQRST")
    t = matrix_frame(codes, [[0.0] * 5 for _ in codes])
    sizes = pd.Series(1.0, index=codes)

    def plans():  # every set partition, each group sited at its first member
        def parts(rest):
            if not rest:
                yield []
                return
            first, *more = rest
            for smaller in parts(more):
                for k in range(len(smaller)):
                    yield smaller[:k] + [[first, *smaller[k]]] + smaller[k + 1 :]
                yield [[first], *smaller]

        for groups in parts(codes):
            yield pd.Series({c: g[0] for g in groups for c in g})

    every = list(plans())
    assert len(every) == 52  # the Bell number B5
    references = [every[7], every[30]]
    for ref, d in itertools.product(references, (2, 3)):
        for plan in every[::4]:
            m = model.build_model(t, sizes, pop_min=0, pop_max=10)
            for (i, j), v in m.x.items():
                v.lowBound = v.upBound = 1.0 if plan[i] == j else 0.0
            alternative_rows.add_differ(m, ref, d, set(codes), "t")
            m.problem.setObjective(pulp.LpAffineExpression())
            m.problem.solve(pulp.COIN_CMD(path=cbc_path(), msg=False))
            feasible = pulp.LpStatus[m.problem.status] == "Optimal"
            assert feasible == (len(check.moved_practices(plan, ref)) >= d), (dict(plan), d)


def test_every_rule_family_switched_on_gets_a_price():
    """price_changes lists one re-solve per rule family the scenario switches on (each
    locked group on its own), plus the band and cap steps; nothing for rules left off."""
    practices, _, _, _ = road(10)
    practices["zone"] = ["N", "N", "S", "S"]
    s = Scenario(
        name="all", practices=INPUT / "unused.csv", population_min=20_000,
        population_max=30_000, travel_cap_minutes=60, mean_travel_cap_minutes=9.0,
        contiguous=True, locked_groups=(("A", "B"), ("C", "D")), apart=(("A", "D"),),
        fixed_sites=("A",), candidate_sites=("A", "B", "C", "D"), hubs_min=2, hubs_max=3,
        within="zone", optional=("B",),
    )  # fmt: skip
    rules = [r for r, _, kind, _ in choices.price_changes(s, practices) if kind == "rule"]
    assert rules == [
        "the lower band (20,000 patients)",
        "the upper band (30,000 patients)",
        "the travel cap (60 minutes)",
        "one connected area per hub (contiguous)",
        "the cap on each hub's mean travel",
        "keeping A+B together",
        "keeping C+D together",
        "the practices kept apart",
        "the fixed hub sites",
        "the candidate-site list",
        "the number of hubs",
        "hubs staying within one zone",
        "optional practices",
    ]
    changes = {r: c for r, _, _, c in choices.price_changes(s, practices)}
    assert changes["keeping A+B together"] == {"locked_groups": (("C", "D"),)}
    assert changes["optional practices"] == {"optional": ()}
    sweeps = [r for r, _, kind, _ in choices.price_changes(s, practices) if kind == "sweep"]
    assert sweeps == ["population_min 15,000", "population_min 25,000", "population_max 35,000",
                      "population_max 25,000", "travel cap 65", "travel cap 55"]  # fmt: skip
    plain = Scenario(name="plain", practices=INPUT / "unused.csv", population_min=0)
    assert [r for r, *_ in choices.price_changes(plain, practices)] == [
        "the upper band (50,000 patients)",
        "the travel cap (30 minutes)",
        "population_min 5,000",
        "population_max 55,000",
        "population_max 45,000",
        "travel cap 35",
        "travel cap 25",
    ]


def test_time_split_best_plan_gets_half_with_alternatives():
    from hubopt import pipeline

    _, _, s, _ = road(10)
    assert pipeline.best_scenario(s) is s  # no alternatives: the whole time limit
    split = pipeline.best_scenario(s.replace(alternatives=3))
    assert split.time_limit_seconds == pytest.approx(choices.BEST_SHARE * 60)
