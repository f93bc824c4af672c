"""The map's edit mode, driven in a real browser (Debian's chromium through Playwright's
``executable_path``; skipped where either is missing).

The page's figures after each edit are compared with what hubopt computes in Python
for the same plan: :func:`hubopt.model.check.check_plan` (failures per named check),
:func:`hubopt.outputs.tables.hub_table`, :func:`hubopt.outputs.evaluate.overall` and
:func:`hubopt.outputs.evaluate.practices_moved`; on many seeded random edits, on the
demo's rules and on the demo with every optional rule switched on. Then a person's
clicks: edit button, select, move, undo/redo, a breach, reset, today's groups,
download; the downloaded plan is evaluated and re-solved through the CLI.
"""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from hubopt import pipeline
from hubopt.cli import main
from hubopt.data import demo_scenario_path
from hubopt.inputs import load, practices_only
from hubopt.model import adjacency, check
from hubopt.outputs import evaluate, maps, tables
from hubopt.outputs.screenshot import OFFLINE, find_chromium
from hubopt.scenario import load_scenario

pytestmark = [pytest.mark.browser, pytest.mark.slow]

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if find_chromium() is None:
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)


class Demo:
    """The demo's run, and what the Python checks need beside it."""

    def __init__(self, tmp: Path):
        self.scenario = load_scenario(demo_scenario_path())
        self.tmp = tmp
        self.res = pipeline.run(self.scenario, out_dir=tmp / "out", maps_dir=tmp / "maps")
        self.loaded = load.load_inputs(self.scenario)
        self.map = tmp / "maps" / "demo.html"
        self.neighbours = adjacency.practice_neighbours(self.res.practices, self.loaded.boundary)
        self.today = self.loaded.current["group_id"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Demo:
    return Demo(tmp_path_factory.mktemp("edit"))


@pytest.fixture(scope="module")
def rich(demo) -> tuple[Path, object, pd.DataFrame]:
    """The demo's plan on a map whose scenario switches every optional rule on (a
    mean cap, locked and apart groups, fixed and candidate sites, a hub count, a
    ``within`` zone with one practice allowed to cross, an optional practice,
    ``rural_exception``), so that random edits break each of them."""
    res = demo.res
    a = res.assignment.set_index("practice_code")
    hubs = res.hubs.set_index("hub_id")
    site = hubs["site_code"]
    members = {h: [c for c in a.index[a["hub_id"] == h] if c != site[h]] for h in hubs.index}
    big = [h for h in hubs.index if len(members[h]) >= 2]
    practices = res.practices.assign(
        zone=lambda p: (p["lon"] > p["lon"].median()).map({True: "east", False: "west"})
    )
    scenario = demo.scenario.replace(
        mean_travel_cap_minutes=4.0,
        locked_groups=((site[big[0]], members[big[0]][0]),),
        apart=((site[big[1]], site[big[2]]),),
        fixed_sites=(site[big[3]],),
        candidate_sites=tuple(site) + (members[big[4]][0],),
        hubs_min=11,
        hubs_max=12,
        within="zone",
        cross_allowed=(members[big[5]][0],),
        optional=(members[big[6]][-1],),
        band="rural_exception",
    )
    edit = pipeline.map_edit_data(
        scenario, res.assignment, practices, res.matrix, res.catchments, demo.loaded.current,
        demo.loaded.boundary,
    )  # fmt: skip
    fmap = maps.proposal_map(
        res.assignment, res.hubs, practices, title="demo-rules", status="test",
        cap=scenario.travel_cap_minutes, band=(scenario.population_min, scenario.population_max),
        catchments=res.catchments, edit=edit,
    )  # fmt: skip
    path = demo.tmp / "rich.html"
    maps.save_map(fmap, path)
    return path, scenario, practices


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=find_chromium(),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", OFFLINE],
        )
        yield b
        b.close()


def open_page(browser, path: Path, fragment: str = ""):
    page = browser.new_page(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.resolve().as_uri() + fragment)
    page.wait_for_function("window.hubopt !== undefined", timeout=15_000)
    page.errors = errors  # type: ignore[attr-defined]
    return page


def python_view(state: dict, practices, matrix, scenario, neighbours, today) -> dict:
    """What hubopt computes in Python for the page's plan (same sites)."""
    plan = pd.Series(state["assignment"], dtype=object).reindex(practices.index)
    plan = plan.where(plan.notna(), None)
    report = check.check_plan(
        check.PlanData(plan, practices, matrix, scenario, current=today, neighbours=neighbours),
        checks=pipeline.GROUPING_CHECKS,
    )
    labels = pd.Series({h["site_code"]: h["hub_id"] for h in state["hubs"]})
    a = tables.assignment_table(plan, practices, matrix, hub_labels=labels)
    hubs = tables.hub_table(a, practices, scenario)
    grouped = a[a["hub_id"] != ""]
    moved = evaluate.practices_moved(
        practices_only(plan, practices).dropna(), today, practices["list_size"]
    )
    return {
        "checks": {r.name: len(r.failures) for r in report.results},
        "hubs": hubs.set_index("hub_id"),
        "overall": evaluate.overall(a, hubs) if len(hubs) else None,
        "patient_minutes": float((grouped["list_size"] * grouped["minutes_to_hub"]).sum()),
        "raw_patient_minutes": check.recompute_weighted_travel(plan, practices, matrix),
        "moved": int(moved.sum()),
        "weight": float(grouped["list_size"].sum()),
    }


def assert_agree(state: dict, py: dict, where: str) -> None:
    page_checks = {k: len(v) for k, v in state["checks"].items()}
    assert page_checks == py["checks"], where
    page_hubs = pd.DataFrame(state["hubs"]).set_index("hub_id").sort_index()
    want = py["hubs"].sort_index()
    assert list(page_hubs.index) == list(want.index), where
    for col in ("site_code", "practices", "list_size", "in_band", "exemption", "max_minutes",
                "mean_minutes"):  # fmt: skip
        assert page_hubs[col].tolist() == want[col].tolist(), f"{where}: {col}"
    for key, value in py["overall"].items():
        if key != "share in band":
            assert state["overall"][key] == value, f"{where}: {key}"
    assert state["patient_minutes"] == pytest.approx(py["patient_minutes"], abs=1e-6), where
    # the raw matrix differs from the 2-decimal one by at most half a hundredth per patient
    assert abs(state["patient_minutes"] - py["raw_patient_minutes"]) <= 0.005 * py["weight"] + 1e-6
    assert state["moved_vs_today"] == py["moved"], where


def random_edits(page, seed: int, steps: int, check_each) -> set[str]:
    """``steps`` seeded random edits (moves to neighbouring and far hubs, new hubs, new
    sites, undo, redo, reset, today's groups); ``check_each(state, where)`` after each.
    Returns the names of the checks that failed along the way."""
    rng = random.Random(seed)
    broken: set[str] = set()
    for step in range(steps):
        st = page.evaluate("window.hubopt.state()")
        codes = sorted(st["hub_of"])
        hubs = [h["hub_id"] for h in st["hubs"]]
        op = rng.choices(
            ["move", "move_far", "new", "site", "undo", "redo", "reset", "today"],
            weights=[30, 8, 6, 8, 8, 4, 2, 2],
        )[0]
        picked = rng.sample(codes, rng.choice([1, 1, 1, 2, 3]))
        if op in ("move", "move_far"):
            hub = rng.choice(hubs)
            if op == "move":  # a hub with a practice next to the first one picked
                near = [st["hub_of"][c] for c in codes if c != picked[0]]
                hub = rng.choice(near[:8]) if near else hub
            args = f"window.hubopt.moveTo({picked!r}, {hub!r})"
        elif op == "new":
            args = f"window.hubopt.newHub({picked!r})"
        elif op == "site":
            args = f"window.hubopt.makeSite({picked[0]!r})"
        elif op == "today":
            args = "window.hubopt.startFromToday()"
        else:
            args = f"window.hubopt.{op}()"
        page.evaluate(args)
        st = page.evaluate("window.hubopt.state()")
        broken |= {k for k, v in st["checks"].items() if v}
        check_each(st, f"step {step} ({args})")
    return broken


def test_random_edits_agree_with_python_checks(demo, browser):
    """120 seeded random edits on the demo's map: after each, every figure and every
    named check on the page equals hubopt's Python for the same plan."""
    page = open_page(browser, demo.map, "#edit")
    res = demo.res
    start = page.evaluate("window.hubopt.state()")
    assert start["breaches"] == 0 and start["changed"] == []

    def agree(st, where):
        py = python_view(st, res.practices, res.matrix, demo.scenario, demo.neighbours, demo.today)
        assert_agree(st, py, where)

    agree(start, "proposal")
    broken = random_edits(page, seed=24, steps=120, check_each=agree)
    assert {"population_within_band", "travel_within_cap", "contiguous", "oversize_alone"} <= broken
    assert page.errors == []


def test_random_edits_break_every_rule_and_agree(rich, demo, browser):
    """The same on a map whose scenario switches every optional rule on: each rule is
    broken by some edit and the page agrees with check_plan throughout."""
    path, scenario, practices = rich
    page = open_page(browser, path, "#edit")
    res = demo.res
    neighbours = adjacency.practice_neighbours(practices, demo.loaded.boundary)

    def agree(st, where):
        py = python_view(st, practices, res.matrix, scenario, neighbours, demo.today)
        assert_agree(st, py, where)

    agree(page.evaluate("window.hubopt.state()"), "proposal")
    broken = random_edits(page, seed=7, steps=150, check_each=agree)
    rules = {"population_within_band", "oversize_alone", "travel_within_cap", "contiguous",
             "hub_count_in_range", "fixed_sites_open", "sites_are_candidates", "locked_together",
             "kept_apart", "within_zone", "mean_travel_within_cap"}  # fmt: skip
    assert rules <= broken, rules - broken
    assert page.errors == []


def lonely_practice(page, codes: list[str]) -> str:
    """The practice drawn furthest from any other (a clean click target)."""
    pts = {c: page.evaluate(f"window.hubopt.point({c!r})") for c in codes}

    def room(c):
        return min(
            (pts[c]["x"] - pts[o]["x"]) ** 2 + (pts[c]["y"] - pts[o]["y"]) ** 2
            for o in codes
            if o != c
        )

    return max(codes, key=room)


def test_click_through_edit_undo_breach_download_evaluate_keep(demo, browser, tmp_path):
    """A reviewer's session: Edit, click a practice, move it, undo, redo, a breach
    flagged, reset, today's groups, a shift-drag box, download; the downloaded plan
    scores through `hubopt evaluate` with the page's figures, and `hubopt run --keep`
    re-solves around it with proposal, edit and re-solved plan side by side."""
    page = open_page(browser, demo.map)
    edit_button = page.get_by_role("button", name="Edit this plan")
    assert edit_button.is_visible()
    edit_button.click()
    undo = page.get_by_role("button", name="Undo")
    assert undo.is_visible() and undo.is_disabled()
    st = page.evaluate("window.hubopt.state()")
    codes = sorted(st["hub_of"])
    target = lonely_practice(page, codes)
    pt = page.evaluate(f"window.hubopt.point({target!r})")
    page.mouse.click(pt["x"], pt["y"])
    assert page.evaluate("window.hubopt.selected()") == [target]
    assert "1 selected" in page.locator(".hubopt-edit-tools").inner_text()

    # move it to the biggest other hub: a hub out of band, flagged on the map
    hubs = sorted(st["hubs"], key=lambda h: -h["list_size"])
    other = next(h["hub_id"] for h in hubs if h["hub_id"] != st["hub_of"][target])
    page.select_option(".hubopt-edit-tools select", other)
    page.get_by_role("button", name="Move", exact=True).click()
    moved = page.evaluate("window.hubopt.state()")
    assert moved["hub_of"][target] == other and moved["changed"] == [target]
    assert moved["breaches"] > 0
    assert "rule breach" in page.locator(".hubopt-edit-panel").inner_text()
    assert page.locator(".hubopt-edit-panel tr.hubopt-touched").count() >= 1
    assert "changed by you 1" in page.locator(".hubopt-edit-bar").inner_text()
    py = python_view(moved, demo.res.practices, demo.res.matrix, demo.scenario, demo.neighbours,
                     demo.today)  # fmt: skip
    assert_agree(moved, py, "clicked move")

    page.keyboard.press("Control+z")
    assert page.evaluate("window.hubopt.state()")["changed"] == []
    page.get_by_role("button", name="Redo").click()
    assert page.evaluate("window.hubopt.state()")["changed"] == [target]
    page.get_by_role("button", name="Reset to proposal").click()
    assert page.evaluate("window.hubopt.state()")["breaches"] == 0

    page.get_by_role("button", name="Start from today").click()
    today = page.evaluate("window.hubopt.state()")
    assert today["moved_vs_today"] == 0
    py = python_view(today, demo.res.practices, demo.res.matrix, demo.scenario, demo.neighbours,
                     demo.today)  # fmt: skip
    assert_agree(today, py, "today's groups")
    page.get_by_role("button", name="Reset to proposal").click()

    # shift-drag a box around the lonely practice: it is selected
    page.keyboard.down("Shift")
    page.mouse.move(pt["x"] - 12, pt["y"] - 12)
    page.mouse.down()
    page.mouse.move(pt["x"] + 12, pt["y"] + 12, steps=4)
    page.mouse.up()
    page.keyboard.up("Shift")
    assert target in page.evaluate("window.hubopt.selected()")

    # a reviewer's edit that keeps every rule: the first single move the page passes
    found = page.evaluate(
        """() => { const h = window.hubopt, st = h.state();
        for (const c of Object.keys(st.hub_of).sort()) for (const x of st.hubs) {
          if (st.hub_of[c] === x.hub_id) continue;
          h.moveTo([c], x.hub_id);
          if (h.state().breaches === 0) return [c, x.hub_id];
          h.undo(); }
        return null; }"""
    )
    assert found is not None
    edited_state = page.evaluate("window.hubopt.state()")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download plan").click()
    csv = tmp_path / "edited.csv"
    download.value.save_as(csv)
    plan = pd.read_csv(csv, dtype=str, keep_default_na=False)
    assert list(plan.columns[:3]) == ["practice_code", "hub_id", "hub_site_code"]
    assert plan.loc[plan["changed"] == "yes", "practice_code"].tolist() == [found[0]]

    runner = CliRunner()
    r = runner.invoke(main, ["evaluate", str(demo_scenario_path()), "--grouping", str(csv),
                             "--out", str(tmp_path / "ev")])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert (
        "Checks (edited): assigned_once ok" in r.output
        and "FAILED" not in r.output.split("Checks (edited)")[1].splitlines()[0]
    )
    groups = pd.read_csv(tmp_path / "ev" / "edited_groups.csv", keep_default_na=False)
    page_hubs = pd.DataFrame(edited_state["hubs"]).set_index("hub_id").sort_index()
    groups = groups.set_index("hub_id").sort_index()
    for col in ("site_code", "list_size", "max_minutes", "mean_minutes", "in_band"):
        assert groups[col].tolist() == page_hubs[col].tolist(), col

    r = runner.invoke(main, ["run", str(demo_scenario_path()), "--keep", str(csv), "--out",
                             str(tmp_path / "kept"), "--maps-dir", str(tmp_path / "maps")])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "Reviewer's edit (edited.csv)" in r.output and "Cost of the edit" in r.output
    report = (tmp_path / "maps" / "demo-kept-report.html").read_text()
    assert "proposal" in report and "reviewer&#39;s edit" in report and "re-solved" in report
    a = pd.read_csv(tmp_path / "kept" / "assignment.csv", keep_default_na=False)
    kept_hub = a.loc[a["practice_code"] == found[0], "hub_id"].iloc[0]
    together = set(a.loc[a["hub_id"] == kept_hub, "practice_code"])
    assert set(plan.loc[plan["hub_id"] == found[1], "practice_code"]) <= together
    assert page.errors == []


def test_edit_update_is_fast(demo, browser):
    """Each edit re-checks and redraws within 50 ms (the demo; see
    benchmarks/map_edit.py for larger areas)."""
    page = open_page(browser, demo.map, "#edit")
    random_edits(page, seed=3, steps=40, check_each=lambda st, where: None)
    times = page.evaluate("window.hubopt.state()")["times"]
    assert len(times) >= 30 and sorted(times)[len(times) // 2] < 50
