"""hubopt batch: every area at once, on small synthetic multi-area inputs.

Three CCGs of four practices each (about 40,000 patients: one hub per area), one CCG
whose single practice of 5,000 patients cannot meet the band (the failing area) and one
practice with no CCG code (in no area). Straight-line travel, CBC, one thread.

::

    ICB Q1: CCG AAA (Leicester-ish)  CCG BBB (Manchester-ish)
    ICB Q2: CCG CCC (London-ish)     CCG DDD (one 5,000-patient practice: infeasible)
    no CCG: E0001 (6,000 patients)
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import hubopt
from hubopt import batch
from hubopt.batch import areas as batch_areas
from hubopt.batch import engine
from hubopt.cli import main
from hubopt.errors import InputError, OutputExistsError
from hubopt.inputs import load
from hubopt.outputs.screenshot import find_chromium, rendered_dom, screenshot

CENTRES = {"AAA": (52.60, -1.20, "Q1"), "BBB": (53.40, -2.20, "Q1"), "CCC": (51.50, -0.50, "Q2")}
SIZES = [9_000, 11_000, 10_500, 12_000]


def write_inputs(folder: Path, *, workers: int = 2, extra_rules: str = "") -> Path:
    rows = ["practice_code,name,lat,lon,list_size,ccg_code,icb_code,pcn_code,pcn_name"]
    for ccg, (lat, lon, icb) in CENTRES.items():
        for i, size in enumerate(SIZES):
            dlat, dlon = 0.01 * (i % 2), 0.015 * (i // 2)
            rows.append(
                f"{ccg[0]}{i:04d},{ccg} Practice {i},{lat + dlat},{lon + dlon},{size},{ccg},"
                f"{icb},{ccg}P{i // 2},{ccg} PCN {i // 2}"
            )
    rows.append("D0001,Lonely Surgery,54.5,-3.0,5000,DDD,Q2,DDDP0,DDD PCN")
    rows.append("E0001,No Area Surgery,52.0,-1.0,6000,,,,")
    (folder / "practices.csv").write_text("\n".join(rows) + "\n")
    path = folder / "batch.toml"
    path.write_text(batch_toml('practices = "practices.csv"', workers=workers, rules=extra_rules))
    return path


def batch_toml(
    inputs: str, *, workers: int, rules: str = "", area: str = "", band=(30_000, 50_000)
) -> str:
    """A batch scenario (cap 30 min, straight-line travel, today's PCNs as current)
    over the ``inputs`` lines."""
    return f"""
[scenario]
name = "syn"
[inputs]
{inputs}
current = "pcn"
[area]
{area}
[rules]
population_min = {band[0]}
population_max = {band[1]}
travel_cap_minutes = 30
{rules}
[solver]
time_limit_seconds = 20
threads = 1
[network]
kind = "straight_line"
[batch]
level = "ccg"
workers = {workers}
"""


def practice_count() -> tuple[int, int]:
    return 3 * len(SIZES) + 2, 3 * sum(SIZES) + 5_000 + 6_000


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    """One local-process batch (2 workers) shared by the tests below."""
    folder = tmp_path_factory.mktemp("batch")
    scenario, options = batch.load_batch(write_inputs(folder))
    res = batch.run_batch(scenario, options, out_dir=folder / "out")
    return folder, scenario, options, res


def test_areas_split_one_practice_one_area(tmp_path):
    scenario, options = batch.load_batch(write_inputs(tmp_path))
    table = load.read_all_practices(scenario)
    for level, expected in (("ccg", ["AAA", "BBB", "CCC", "DDD"]), ("icb", ["Q1", "Q2"])):
        opts = batch.BatchOptions(level=level)
        split = batch_areas.split_areas(table, scenario, opts)
        solved = [a for a in split if a.inputs is not None]
        assert [a.code for a in solved] == expected
        assert split[-1].code == batch_areas.NO_AREA and "E0001 (6,000 patients)" in split[-1].error
        members = [c for a in solved for c in a.inputs.practices.index]
        assert len(members) == len(set(members))  # nobody in two areas
        assert sorted(members + ["E0001"]) == sorted(table.practices.index)
        n, patients = practice_count()
        assert sum(a.practices_in_file for a in split) == n
        assert sum(a.patients_in_file for a in split) == patients
        assert all(a.scenario.population_min == 30_000 for a in solved)  # one set of rules
    q2 = next(a for a in batch_areas.split_areas(table, scenario, opts) if a.code == "Q2")
    assert sorted(q2.inputs.practices.index) == ["C0000", "C0001", "C0002", "C0003", "D0001"]


def test_codes_unknown_or_in_two_areas_are_refused(tmp_path):
    scenario, _ = batch.load_batch(write_inputs(tmp_path))
    table = load.read_all_practices(scenario)
    opts = batch.BatchOptions(codes=("AAA+BBB", "BBB", "ZZZ"))
    with pytest.raises(InputError) as err:
        batch_areas.split_areas(table, scenario, opts)
    assert "ZZZ is not in the data" in str(err.value)
    assert "BBB is in more than one area" in str(err.value)
    joined = batch_areas.split_areas(table, scenario, batch.BatchOptions(codes=("AAA+BBB",)))
    assert [a.code for a in joined] == ["AAA+BBB"] and joined[0].practices_in_file == 8


def test_batch_section_errors_named(tmp_path):
    with pytest.raises(InputError) as err:
        batch.batch_options({"level": "region", "wokers": 2})
    assert "unknown key 'wokers'" in str(err.value)
    with pytest.raises(InputError, match="level = 'region'"):
        batch.batch_options({"level": "region"})


def test_every_area_solved_failing_one_reported_totals_conserved(local_run):
    folder, _, _, res = local_run
    s = res.summary.set_index("area")
    assert list(s.index) == ["AAA", "BBB", "CCC", "DDD", "(none)"]
    assert (s.loc[["AAA", "BBB", "CCC"], "status"] == "optimal").all()
    assert (s.loc[["AAA", "BBB", "CCC"], "hubs"] == 1).all()
    assert s.at["DDD", "status"] == "failed" and "No grouping can meet" in s.at["DDD", "reason"]
    assert s.at["(none)", "status"] == "no area"
    n, patients = practice_count()
    assert s["practices_in_file"].sum() == n and s["patients_in_file"].sum() == patients
    assert res.figures["practices_in_file"] == n and res.figures["patients_in_file"] == patients
    # solved + not in any plan = the input, every practice named
    left = pd.read_csv(folder / "out" / "left_out.csv")
    assert sorted(left["practice_code"]) == ["D0001", "E0001"]
    assert res.figures["patients"] + left["list_size"].sum() == patients
    # today's PCNs measured the same way: two PCNs of two practices per area
    assert (s.loc[["AAA", "BBB", "CCC"], "PCN_hubs"] == 2).all()
    assert (s.loc[["AAA", "BBB", "CCC"], "PCN_in_band_share"] == 0).all()  # 20-23k each
    # each area's folder with the usual files, written by its worker
    for code in ("AAA", "BBB", "CCC"):
        area_dir = folder / "out" / code
        for name in ("assignment.csv", "hubs.csv", "map.html", "report.html", "area.json"):
            assert (area_dir / name).is_file()
    on_disk = pd.read_csv(folder / "out" / "summary.csv")
    assert list(on_disk.columns) == batch.national.COLUMNS and len(on_disk) == 5


def test_national_layers_and_index_page(local_run):
    folder, _, _, res = local_run
    out = folder / "out"
    import geopandas as gpd

    hubs = gpd.read_file(out / "england.gpkg", layer="catchments")
    assert sorted(hubs["area"]) == ["AAA", "BBB", "CCC"] and hubs.crs.to_epsg() == 27700
    assert len(gpd.read_file(out / "england.geojson")) == 3
    page = (out / "index.html").read_text()
    assert res.index_bytes == (out / "index.html").stat().st_size
    assert f"This page: {res.index_bytes / 1e3:.0f} KB" in page
    assert f"Made by hubopt {hubopt.__version__}." in page
    for code in ("AAA", "BBB", "CCC"):
        assert f'href="{code}/map.html"' in page and f'href="{code}/report.html"' in page
    assert 'th data-col="0"' in page and "localeCompare" in page  # sortable table
    assert "<script src=" not in page and "cdn" not in page.lower()  # offline


def test_rerun_skips_finished_areas_force_redoes_them(local_run, tmp_path):
    folder, scenario, options, first = local_run
    out = folder / "out"
    stamp = {c: (out / c / "area.json").stat().st_mtime_ns for c in ("AAA", "BBB", "CCC")}
    again = batch.run_batch(scenario, options.__class__(workers=1), out_dir=out)
    assert again.reused == ["AAA", "BBB", "CCC"] and again.solved == ["DDD"]  # failed: redone
    assert {c: (out / c / "area.json").stat().st_mtime_ns for c in stamp} == stamp
    assert again.summary["reused"].tolist()[:3] == [True, True, True]
    # other rules: a plan would be replaced, so refused before any work without --force
    changed = scenario.replace(travel_cap_minutes=25)
    with pytest.raises(OutputExistsError, match="other inputs or rules"):
        batch.run_batch(changed, options, out_dir=out)
    assert {c: (out / c / "area.json").stat().st_mtime_ns for c in stamp} == stamp
    forced = batch.run_batch(scenario, batch.BatchOptions(codes=("AAA",)), out_dir=out, force=True)
    assert forced.solved == ["AAA"] and forced.reused == []
    assert (out / "AAA" / "area.json").stat().st_mtime_ns != stamp["AAA"]


def test_cli_batch_reports_and_exits_1_when_an_area_has_no_plan(local_run):
    folder, *_ = local_run
    runner = CliRunner()
    res = runner.invoke(main, ["batch", str(folder / "batch.toml"), "--out", str(folder / "out")])
    assert res.exit_code == 1, res.output
    assert "Kept 3 areas solved earlier" in res.output
    assert "index.html is" in res.output and "MB" in res.output
    assert "1 failed" in res.output
    assert "DDD (No grouping can meet" in res.output and "E0001 (6,000 patients)" in res.output
    assert "Traceback" not in res.output
    bad = runner.invoke(main, ["batch"])
    assert bad.exit_code == 2 and "--nhs-dir" in bad.output


def dies_first_time(task: engine.Task) -> engine.Row:
    """A worker that dies (the process exits) the first time it meets area AAA."""
    marker = task.folder.parent / f"{task.code}.died"
    if task.code == "AAA" and not marker.exists():
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text("died")
        os._exit(9)
    return engine.solve_area_task(task)


def always_dies(task: engine.Task) -> engine.Row:
    if task.code == "AAA":
        os._exit(9)
    return engine.solve_area_task(task)


def test_dead_worker_is_retried_or_reported_never_loses_others(tmp_path):
    scenario, _ = batch.load_batch(write_inputs(tmp_path))
    opts = batch.BatchOptions(codes=("AAA", "BBB"), workers=1, retries=1)
    res = batch.run_batch(scenario, opts, out_dir=tmp_path / "out", solve=dies_first_time)
    assert (tmp_path / "out" / "AAA.died").exists()
    assert (res.summary["status"] == "optimal").all()  # AAA retried in a new pool
    opts = batch.BatchOptions(codes=("AAA", "BBB"), workers=1, retries=0)
    res = batch.run_batch(scenario, opts, out_dir=tmp_path / "out2", solve=always_dies)
    s = res.summary.set_index("area")
    assert s.at["AAA", "status"] == "failed" and "worker solving it died" in s.at["AAA", "reason"]
    assert s.at["BBB", "status"] == "optimal"
    record = json.loads((tmp_path / "out2" / "AAA" / "area.json").read_text())
    assert record["status"] == "failed"


@contextlib.contextmanager
def in_process_dask():
    """A Dask client on a one-worker cluster in this process (skips without Dask)."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def test_dask_in_process_gives_the_local_plans(local_run, tmp_path):
    folder, scenario, options, local = local_run
    with in_process_dask() as client:
        res = batch.run_batch(scenario, options, out_dir=tmp_path / "dask", client=client)
    cols = ["area", "status", "hubs", "hubs_in_band", "mean_min", "PCN_mean_min"]
    pd.testing.assert_frame_equal(res.summary[cols], local.summary[cols])
    for code in ("AAA", "BBB", "CCC"):
        a = pd.read_csv(folder / "out" / code / "assignment.csv")
        b = pd.read_csv(tmp_path / "dask" / code / "assignment.csv")
        pd.testing.assert_frame_equal(a, b)


def test_without_dask_a_clear_install_hint(monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(InputError, match=r"pip install -e \".\[dask\]\""):
        engine.run_dask([], lambda row: None, scheduler="tcp://127.0.0.1:1")


def test_stopping_a_batch_ends_its_workers(tmp_path):
    """An error in the batch itself (here: the first row's handler; Ctrl-C takes the
    same path) reaches the caller and no worker or solver of the pool runs on."""
    import psutil

    scenario, options = batch.load_batch(write_inputs(tmp_path))
    split = batch_areas.split_areas(load.read_all_practices(scenario), scenario, options)
    tasks = [
        engine.Task(a.code, a.scenario, a.inputs, a.key, tmp_path / "out" / a.folder)
        for a in split
        if a.inputs is not None
    ]

    def stop(row):
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        engine.run_local(tasks, stop, workers=2)

    def running_worker(p: psutil.Process) -> bool:
        try:
            return p.status() != psutil.STATUS_ZOMBIE and "spawn_main" in " ".join(p.cmdline())
        except psutil.Error:  # gone, or a zombie the pool is reaping
            return False

    # a worker just killed may show as running for a moment before the pool reaps it
    # (seen under load): give them a few seconds to be gone, never longer
    left = [p for p in psutil.Process().children(recursive=True) if running_worker(p)]
    psutil.wait_procs(left, timeout=10)
    assert [p for p in left if running_worker(p)] == []


@pytest.mark.browser
@pytest.mark.skipif(find_chromium() is None, reason="Debian's chromium is not installed")
def test_index_page_draws_offline(local_run, tmp_path):
    """Screenshot of index.html, offline: the hubs' colours drawn, the table sorted by a
    click on a header (patients, largest first)."""
    from PIL import Image

    folder, *_ = local_run
    page = (folder / "out" / "index.html").read_text()
    clicked = page.replace(
        "</body>",
        "<script>var th = document.querySelector('th[data-col=\"3\"]'); th.click(); th.click();"
        "document.body.dataset.order = Array.from(document.querySelectorAll("
        "'#hubopt-table tbody tr')).map(function (r) { return r.cells[0].textContent; })"
        ".join(',');</script></body>",
    )
    (folder / "out" / "clicked.html").write_text(clicked)
    png = screenshot(folder / "out" / "clicked.html", tmp_path / "index.png", width=1200,
                     height=900, offline=True)  # fmt: skip
    # the map (below the heading, left of the attribution): hub areas drawn over the
    # empty grey map (no tiles offline)
    box = Image.open(png).convert("RGB").crop((100, 140, 1050, 640))
    drawn = sum(n for n, rgb in box.getcolors(maxcolors=2_000_000) if max(rgb) - min(rgb) > 20)
    assert drawn > 30, "no hub drawn on the national map"
    dom = rendered_dom(folder / "out" / "clicked.html")
    # patients, largest first: AAA = BBB = CCC (42,500, kept in order), (none) 6,000, DDD 5,000
    assert 'data-order="AAA,BBB,CCC,(none),DDD"' in dom


def test_a_repeatable_batch_says_what_ended_each_area(tmp_path):
    """``[solver] repeatable``: each area's row says which steps the clock ended
    ("none" here: work limits and proofs ended them all); the NHS-files scenario is
    repeatable unless told otherwise."""
    scenario, _ = batch.load_batch(write_inputs(tmp_path))
    opts = batch.BatchOptions(codes=("AAA", "BBB"), workers=1)
    res = batch.run_batch(scenario.replace(repeatable=True), opts, out_dir=tmp_path / "out")
    s = res.summary.set_index("area")
    assert list(s.loc[["AAA", "BBB"], "clock_stops"]) == ["none", "none"]
    csv = pd.read_csv(tmp_path / "out" / "summary.csv").set_index("area")
    assert csv.at["AAA", "clock_stops"] == "none"
    plain = batch.run_batch(scenario, opts, out_dir=tmp_path / "plain").summary
    assert plain["clock_stops"].isna().all()  # not a repeatable run: nothing to say
    for name in batch.NHS_FILES.values():  # the files need only exist for the scenario
        (tmp_path / name).touch()
    assert batch.nhs_scenario(tmp_path, name="england").repeatable
    assert not batch.nhs_scenario(tmp_path, name="e", solver={"repeatable": False}).repeatable


def test_bad_rows_of_one_area_fail_that_area_only_and_are_named(tmp_path):
    """Issue 23: a practice of BBB with no position used to stop the whole batch
    before any area was solved. Now BBB fails naming the row (the others finish, the
    totals still add up); with --drop-invalid BBB is solved without it, and it is named
    with its patients in left_out.csv."""
    path = write_inputs(tmp_path, workers=1)
    practices = tmp_path / "practices.csv"
    practices.write_text(
        practices.read_text().replace("B0001,BBB Practice 1,53.41,", "B0001,BBB Practice 1,,")
    )
    runner = CliRunner()
    args = ["batch", str(path), "--codes", "AAA,BBB"]
    res = runner.invoke(main, [*args, "--out", str(tmp_path / "out")])
    assert res.exit_code == 1, res.output
    assert "1 of 2 areas have no plan: BBB (" in res.output
    assert "practices.csv line 7 (B0001): lat is empty" in res.output
    s = pd.read_csv(tmp_path / "out" / "summary.csv").set_index("area")
    assert s.at["AAA", "status"] == "optimal" and s.at["BBB", "status"] == "failed"
    left = pd.read_csv(tmp_path / "out" / "left_out.csv").set_index("practice_code")
    assert sorted(left.index) == ["B0000", "B0001", "B0002", "B0003"]
    assert left.at["B0001", "reason"].startswith("practices.csv line 7 (B0001): lat is empty")
    assert s["patients_in_file"].sum() == s.at["AAA", "patients"] + left["list_size"].sum()
    res = runner.invoke(main, [*args, "--drop-invalid", "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert "Kept 1 area solved earlier" in res.output  # AAA: its inputs and rules unchanged
    s = pd.read_csv(tmp_path / "out" / "summary.csv").set_index("area")
    assert s.at["BBB", "status"] == "optimal" and s.at["BBB", "practices"] == 3
    assert s.at["BBB", "left_out"] == 1 and s.at["BBB", "left_out_patients"] == 11_000
    left = pd.read_csv(tmp_path / "out" / "left_out.csv")
    assert list(left["practice_code"]) == ["B0001"] and list(left["list_size"]) == [11_000]
    assert s["patients_in_file"].sum() == s["patients"].sum() + left["list_size"].sum()


def test_batch_on_a_regional_network_routes_each_area_on_its_part(tmp_path, monkeypatch):
    """``--network``: one extract read once into a road store before the areas start;
    the area it covers (AAA) gets road minutes, the others fall back to straight-line
    minutes saying why, in summary.csv, the area's notes and index.html; a Dask worker
    gets the same plans from the same store."""
    from hubopt.roads import store
    from tests.test_road_store import grid_extract

    monkeypatch.setenv(store.CACHE_ENV, str(tmp_path / "stores"))
    extract = grid_extract(tmp_path / "region.osm.pbf", n=20, lat0=52.55, lon0=-1.26)
    path = write_inputs(tmp_path)
    built = []
    real_build = store.build_store
    monkeypatch.setattr(
        store, "build_store", lambda *a, **k: built.append(1) or real_build(*a, **k)
    )
    res = CliRunner().invoke(main, ["batch", str(path), "--network", str(extract), "--out",
                                    str(tmp_path / "out"), "--workers", "2"])  # fmt: skip
    assert res.exit_code == 1, res.output  # DDD has no plan, as without roads
    assert built == [1]  # read once, in this process, before the areas
    s = pd.read_csv(tmp_path / "out" / "summary.csv").set_index("area")
    assert s.loc["AAA", "travel"] == "road" and pd.isna(s.loc["AAA", "travel_note"])
    for code in ("BBB", "CCC"):
        assert s.loc[code, "travel"] == "straight line"
        assert "does not cover the area" in s.loc[code, "travel_note"]
        notes = json.loads((tmp_path / "out" / code / "summary.json").read_text())["notes"]
        assert any(n.startswith("NO ROAD MINUTES") for n in notes)
    aaa = json.loads((tmp_path / "out" / "AAA" / "summary.json").read_text())
    assert aaa["travel_times"].startswith("road network region.osm.pbf")
    page = (tmp_path / "out" / "index.html").read_text()
    assert page.count('class="fallback"') == 2 and "not covered by the road network" in page
    assert "Travel: road minutes in 1 area, straight-line estimates in 2" in res.output
    scenario, options = batch.load_batch(path)
    scenario = scenario.replace(network=extract, network_kind="road",
                                network_fallback="straight_line")  # fmt: skip
    with in_process_dask() as client:
        dask = batch.run_batch(scenario, options, out_dir=tmp_path / "dask", client=client)
    assert built == [1]  # the store is re-used
    a = pd.read_csv(tmp_path / "out" / "AAA" / "assignment.csv")
    b = pd.read_csv(tmp_path / "dask" / "AAA" / "assignment.csv")
    pd.testing.assert_frame_equal(a, b)
    assert dask.summary.set_index("area").loc["AAA", "travel"] == "road"
