"""Repeatable runs (``[solver] repeatable``): the plan depends on the inputs, not on
the machine's speed or load.

A slower machine is made by running the clock fast: ``time.perf_counter`` advances
three times as quickly as real time, so every step looks three times as slow. Where
the work limits end every step (the test's generous time limit), the plan is the same
to the practice; where the clock ends one, the result says which.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from click.testing import CliRunner

from hubopt.cli import main
from hubopt.solver import SolveResult, Status, instance, plan
from hubopt.solver.backends.cbc import parse_cbc_log
from tests.conftest import tiny_scenario_file
from tests.test_large import _checks, grid


def _solve(inst, **changes):
    return plan.solve_area(
        inst.practices, inst.minutes, inst.scenario.replace(**changes),
        current=inst.current, neighbours=inst.neighbours,
    )  # fmt: skip


def _slow_machine(monkeypatch, factor: float = 3.0) -> None:
    real = time.perf_counter
    zero = real()
    monkeypatch.setattr(time, "perf_counter", lambda: zero + factor * (real() - zero))


def _kept_on_a_slower_machine(monkeypatch, inst, source: str, before_slow=None):
    """A repeatable run of ``inst`` names the clock stop of set partitioning, keeps
    the plan from ``source`` (made by work, checked, never called optimal), and gives
    the same plan on a three times slower machine (``before_slow`` is called first)."""
    r = _solve(inst, repeatable=True)
    assert r.clock_stops and any("set partitioning" in s for s in r.clock_stops)
    assert r.plan_source == source, r.plan_source
    assert r.plan_by_work and r.status == "time-limited" and r.has_solution
    assert _checks(inst, r.assignment, r.values).passed
    if before_slow is not None:
        before_slow()
    _slow_machine(monkeypatch)
    r2 = _solve(inst, repeatable=True)
    assert r2.plan_source == r.plan_source
    assert r2.assignment.equals(r.assignment)
    return r


def test_a_repeatable_run_gives_the_same_plan_on_a_slower_machine(monkeypatch):
    """36 practices, soft band (two objective stages), contiguity: first plan, search
    and whole model (a repeatable run takes every step whatever the size). Ended by
    work limits and proofs alone both times, so the plans are the same."""
    inst = grid(rows=6, cols=6, seed=3, band="rural_exception", time_limit_seconds=120)
    quick = _solve(inst, repeatable=True)
    _slow_machine(monkeypatch)
    slow = _solve(inst, repeatable=True)
    for r in (quick, slow):
        assert r.repeatable and r.clock_stops == ()
        assert r.has_solution and _checks(inst, r.assignment, r.values).passed
        assert r.status in ("optimal", "time-limited")
    assert slow.assignment.sort_index().equals(quick.assignment.sort_index())
    assert slow.values == pytest.approx(quick.values)


def test_the_search_stops_at_its_work_limit(monkeypatch):
    """The neighbourhood search spends the work it is given, then stops, whatever the
    clock says: with almost no work it makes at most a solve or two."""
    inst = grid(rows=6, cols=6, seed=3, time_limit_seconds=120)
    calls = {"n": 0}
    real = instance.solve_model

    def counted(m, *args, **kw):
        calls["n"] += 1
        return real(m, *args, **kw)

    monkeypatch.setattr(instance, "solve_model", counted)
    monkeypatch.setattr(plan, "ITERATIONS_PER_SECOND", 0)
    r = _solve(inst, repeatable=True)
    assert r.repeatable and r.clock_stops == () and r.has_solution
    assert calls["n"] <= 1  # a first part solve may spend it all; no second


def test_a_step_the_clock_stops_is_named_and_its_plan_not_used(monkeypatch):
    """A 12 x 12 grid with every pair within the cap, 6 s: the set partitioning (or,
    for an objective it does not take, the whole model) cannot end by its work limit.
    The result names it; the answer is the search's plan (or set partitioning's, where
    every step that made it ended by its work), checked, never called optimal."""
    inst = grid(rows=12, cols=12, travel_cap_minutes=40.0, time_limit_seconds=6)
    r = _solve(inst, repeatable=True)
    assert r.clock_stops and any("set partitioning" in s for s in r.clock_stops)
    # its plan only if every step that made it ended by its work (a fast machine)
    assert r.plan_source == "neighbourhood search" or r.plan_by_work, r.plan_source
    assert r.has_solution and _checks(inst, r.assignment, r.values).passed
    assert r.status == "time-limited"
    assert "work limit" not in r.describe()
    inst = grid(rows=12, cols=12, travel_cap_minutes=40.0, time_limit_seconds=6,
                objective="worst_travel")  # fmt: skip
    r = _solve(inst, repeatable=True)
    assert r.clock_stops and any("whole model" in s for s in r.clock_stops)
    assert r.has_solution and _checks(inst, r.assignment, r.values).passed
    assert r.status == "time-limited"
    assert "work limit" not in r.describe()


def test_a_plan_made_before_the_clock_stopped_the_proof_is_kept(monkeypatch):
    """Set partitioning whose column generation converged and whose price-and-branch
    finished keeps its plan in a repeatable run even when the clock then ends the proof
    (here: the proof waits out the clock): the stop is named, the plan is the
    partitioning's, the same on a three times slower machine, and never called
    optimal."""
    from hubopt.solver import partition

    def clock_ends_it(area, pool, master, pricing, prices, lp_value, lower, upper, clock,
                      *rest, **kw):  # fmt: skip
        while clock.left() > 0:
            time.sleep(0.01)
        return partition._Found(False, upper, None, lower)

    monkeypatch.setattr(partition, "_enumeration_proof", clock_ends_it)
    inst = grid(rows=5, cols=6, seed=2, time_limit_seconds=20)  # its proof enumerates
    _kept_on_a_slower_machine(monkeypatch, inst, "price-and-branch")


def test_a_plan_the_enumeration_proved_over_its_list_is_kept_when_the_clock_ends_it(
    monkeypatch,
):
    """The proof's enumeration lists every hub within its first threshold and proves
    the best plan over them; the clock then ends the next listing. That plan was made
    by work and proofs alone (the listing complete, its MIP proven), so a repeatable
    run keeps it, on a three times slower machine too, and says the clock ended the
    proof. (The search is given no work and price-and-branch no plan, so that the
    enumeration's plan is the best.)"""
    from hubopt.solver import partition

    monkeypatch.setattr(plan, "ITERATIONS_PER_SECOND", 0)
    real_mip, real_enumerate = partition.Master.solve_mip, partition.enumerate_site
    made = {"plan": False}

    def mip(self, deadline, only=None):
        if only is None:  # price-and-branch: no plan
            return [], np.inf, -np.inf, True
        out = real_mip(self, deadline, only)
        made["plan"] = made["plan"] or bool(out[0])
        return out

    def enumerate_site(*args, deadline, **kw):
        if made["plan"]:  # the listing after a plan: the clock ends it
            while not deadline():
                time.sleep(0.01)
            return None
        return real_enumerate(*args, deadline=deadline, **kw)

    monkeypatch.setattr(partition.Master, "solve_mip", mip)
    monkeypatch.setattr(partition, "enumerate_site", enumerate_site)
    inst = grid(rows=6, cols=6, seed=1, time_limit_seconds=10)  # enumerates twice
    source = "price-and-branch over enumerated columns"
    _kept_on_a_slower_machine(monkeypatch, inst, source,
                              before_slow=lambda: made.update(plan=False))  # fmt: skip


def test_price_and_branch_over_the_last_convergence_is_kept_when_the_clock_ends_cuts(
    monkeypatch,
):
    """Cuts are added at the column generation's convergence, and the clock ends the
    pricing after them. Everything up to that convergence was work (the cuts' rounds
    end by work in a repeatable run), so price-and-branch over the columns the master
    had then makes its plan by work: the run keeps it, on a three times slower machine
    too, and names the clock stop. (The search is given no work, so that the plan is
    price-and-branch's.)"""
    from hubopt.solver import partition, pricing

    monkeypatch.setattr(plan, "ITERATIONS_PER_SECOND", 0)
    monkeypatch.setattr(partition, "CUT_MIN", 0)
    monkeypatch.setattr(partition, "CUT_GAP", 0.0)
    monkeypatch.setattr(partition, "PRICING_SECONDS", 1.0)
    real = pricing.ExactPricing.price_all
    cut = {"seen": False}

    def clock_ends_pricing_after_cuts(self, sites, prices, **kw):
        if len(prices.cut_duals):
            cut["seen"] = True
            time.sleep(kw["seconds"] + 0.05)  # a batch of sites takes its whole second
        return real(self, sites, prices, **kw)

    monkeypatch.setattr(pricing.ExactPricing, "price_all", clock_ends_pricing_after_cuts)
    inst = grid(rows=5, cols=6, seed=2, time_limit_seconds=20)
    _kept_on_a_slower_machine(monkeypatch, inst, "price-and-branch")
    assert cut["seen"]


def test_a_run_that_is_not_repeatable_says_nothing_of_clock_stops():
    inst = grid(rows=2, cols=6)
    r = _solve(inst)
    assert not r.repeatable and r.clock_stops == () and r.has_solution


def test_a_time_limited_stop_at_the_work_limit_says_so():
    args = (Status.TIME_LIMITED, 10.0, 9.0, 0.1, 1.0, None, "cbc")
    r = SolveResult(*args, repeatable=True)
    assert "stopped at the work limit" in r.describe()
    r = SolveResult(*args, repeatable=True, clock_stops=("x",))
    assert "stopped at the time limit" in r.describe()
    assert "stopped at the time limit" in SolveResult(*args).describe()


def test_cbc_work_and_stops_are_read_from_its_log():
    log = "Result - Stopped on node limit\n\nObjective value: 12.0\nTotal iterations: 345\n"
    assert parse_cbc_log(log)["iterations"] == 345
    assert parse_cbc_log(log)["result"] == "Stopped on node limit"


def test_repeatable_from_the_command_line(tmp_path):
    """``--repeatable``: summary.json lists the steps the clock ended (none here) and
    the notes say the plan depends on the inputs alone."""
    path = tiny_scenario_file(tmp_path, network=False, network_lines='kind = "straight_line"')
    out = tmp_path / "out"
    res = CliRunner().invoke(
        main, ["run", path, "--repeatable", "--out", str(out), "--maps-dir", str(tmp_path)]
    )
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["clock_stops"] == []
    assert any(n.startswith("repeatable run: every step ended") for n in summary["notes"])
    plain = tmp_path / "plain"
    res = CliRunner().invoke(main, ["run", path, "--out", str(plain), "--maps-dir", str(plain)])
    assert res.exit_code == 0, res.output
    assert json.loads((plain / "summary.json").read_text())["clock_stops"] is None
