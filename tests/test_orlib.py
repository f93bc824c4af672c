"""The OR-Library capacitated p-median benchmark (benchmarks/orlib_pmedcap.py).

Instance 1 of the OR-Library capacitated p-median set (read from
../shared/benchmarks/orlib-pmedcap, which records its provenance: Osman & Christofides
1994 via J. E. Beasley's OR-Library; skipped when absent) has the proven optimum 713.
"""

from __future__ import annotations

import pandas as pd
import pytest

from benchmarks.orlib_pmedcap import hubopt_model, load_instance, verify
from hubopt.solver import Clock, Options, bounds, solve_model
from tests.conftest import REPO

ORLIB = REPO.parent / "shared" / "benchmarks" / "orlib-pmedcap"


def test_orlib_instance_1_is_solved_to_713_and_proven():
    """Through the solver's door as the benchmark runs it (CBC branching on the sites
    first, one 90 s clock): proven optimal at 713, the bound at 713, the plan passing
    the benchmark's own re-check; the LP and relaxed bounds stay at or below 713."""
    path = ORLIB / "pmedcap1_1.txt"
    if not path.exists():
        pytest.skip(f"OR-Library data not found at {ORLIB}")
    inst = load_instance(path)
    assert (inst["n"], inst["p"], inst["optimum"]) == (50, 5, 713)
    r = solve_model(hubopt_model(inst), Clock.starting(90), Options(sites_first=True))
    assert r.status == "optimal"
    assert r.objective == pytest.approx(713)
    assert r.bound == pytest.approx(713, abs=1e-6)
    assert verify(inst, r.assignment) == (713, [])  # the benchmark's own re-check
    m = hubopt_model(inst)
    assert bounds.lp_relaxation(m.problem).objective <= 713 + 1e-6
    bound, kind = bounds.relaxed_bound(m, seconds=5, upper=713)
    assert bound is not None and bound <= 713 + 1e-6 and kind in ("LP", "Lagrangian")


def test_benchmark_recheck_names_what_is_wrong():
    """benchmarks/orlib_pmedcap.verify: 3 points on a line, p = 2, capacity 2."""
    codes = ["1", "2", "3"]
    times = pd.DataFrame([[0, 1, 5], [1, 0, 4], [5, 4, 0]], index=codes, columns=codes)
    inst = {
        "p": 2,
        "capacity": 2.0,
        "times": times,
        "demand": pd.Series(1.0, index=codes),
    }
    assert verify(inst, pd.Series({"1": "1", "2": "1", "3": "3"})) == (1.0, [])
    value, wrong = verify(inst, pd.Series({"1": "2", "2": "3", "3": "3"}))
    assert value == 5.0
    assert wrong == ["median 2 does not serve itself"]
    assert verify(inst, pd.Series({"1": "1", "2": "1", "3": "1"}))[1] == [
        "1 medians, not p = 2",
        "median 1 serves 3 > capacity 2",
    ]
    assert verify(inst, None) == (None, ["no solution"])
