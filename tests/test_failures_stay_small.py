"""Failures stay small (issue 23), tried as a planner would: wrong paths and files get
their own clear error before any work, a road network that misses the area is a
network problem, and faults during a batch (a worker killed mid-area, an area folder
that cannot be written, a full disk, Ctrl-C while reading or solving) end with every
finished area intact, the broken one named, and a rerun that finishes the rest
without redoing the finished ones.

Real solves throughout (PuLP + CBC, local worker processes); a full disk is the
kernel's own: an output file that is a link to ``/dev/full``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from hubopt import batch
from hubopt.batch import engine
from hubopt.cli import main
from tests.conftest import REPO, TINY_PRACTICES, tiny_scenario_file
from tests.test_batch import write_inputs
from tests.test_init import downloads  # noqa: F401  (a fixture)

DEV_FULL = Path("/dev/full")
needs_dev_full = pytest.mark.skipif(not DEV_FULL.exists(), reason="no /dev/full here")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def clear_error(res, code: int, *phrases: str) -> None:
    """Exit ``code``, one ``Error:`` message holding every phrase, no traceback."""
    assert res.exit_code == code, res.output
    assert res.output.startswith("Error: "), res.output
    assert "Traceback" not in res.output and "unexpected problem" not in res.output
    for phrase in phrases:
        assert phrase in res.output, (phrase, res.output)


# --- paths, before any work ---------------------------------------------------------


def test_out_that_is_a_file_is_refused_before_any_work(tmp_path):
    scenario = tiny_scenario_file(tmp_path)
    (tmp_path / "taken").write_text("a report\n")
    maps = tmp_path / "maps"
    res = run("run", scenario, "--out", tmp_path / "taken", "--maps-dir", maps)
    clear_error(res, 3, f"--out folder {tmp_path / 'taken'} is a file, not a folder")
    assert (tmp_path / "taken").read_text() == "a report\n" and not maps.exists()
    res = run(
        "run", scenario, "--out", tmp_path / "taken" / "sub", "--maps-dir", tmp_path / "taken"
    )
    clear_error(res, 3, "is a file, so no folder can be made inside it", "--maps-dir folder")


def test_output_file_that_is_a_folder_is_refused_even_with_force(tmp_path):
    scenario = tiny_scenario_file(tmp_path)
    (tmp_path / "out" / "hubs.csv").mkdir(parents=True)
    res = run("run", scenario, "--out", tmp_path / "out", "--maps-dir", tmp_path / "m", "--force")
    clear_error(res, 3, f"output file {tmp_path / 'out' / 'hubs.csv'} is a folder, not a file")


def read_only(folder: Path, *args) -> subprocess.CompletedProcess:
    """``hubopt *args`` in a process that sees ``folder`` read-only: a read-only bind
    mount in a mount namespace of its own (nothing changes for anyone else)."""
    script = 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" "$0" && exec "$@"'
    cmd = ["unshare", "-rm", "sh", "-c", script, str(folder), sys.executable, "-m", "hubopt"]
    env = os.environ | {"PYTHONPATH": str(REPO)}
    return subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True, env=env)


def _can_mount_read_only() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = Path(tempfile.mkdtemp())
    script = 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" "$0" && ! touch "$0/x"'
    try:
        done = subprocess.run(
            ["unshare", "-rm", "sh", "-c", script, str(probe)], capture_output=True
        )
        return done.returncode == 0
    finally:
        shutil.rmtree(probe)


needs_read_only = pytest.mark.skipif(
    not _can_mount_read_only(), reason="no read-only mount here (unshare -rm not allowed)"
)


@needs_read_only
def test_folder_that_cannot_be_written_is_refused(tmp_path):
    scenario = tiny_scenario_file(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    res = read_only(locked, "run", scenario, "--out", locked / "out", "--maps-dir", tmp_path / "m")
    assert res.returncode == 3, res.stderr
    assert res.stderr.startswith("Error: ") and "Traceback" not in res.stderr
    assert f"--out folder {locked / 'out'}: {locked} cannot be written" in res.stderr
    assert not (tmp_path / "m").exists()  # refused before any work


def test_input_that_is_a_folder_or_missing_is_named(tmp_path):
    scenario = Path(tiny_scenario_file(tmp_path))
    (tmp_path / "practices.csv").unlink()
    (tmp_path / "practices.csv").mkdir()
    clear_error(run("run", scenario), 2, "[inputs] practices:", "is a folder, not a file")
    scenario.write_text(scenario.read_text().replace("practices.csv", "nowhere.csv"))
    clear_error(run("run", scenario), 2, "file", "nowhere.csv does not exist")
    scenario.write_bytes(scenario.read_text().replace("tiny", "Café").encode("cp1252"))
    clear_error(run("run", scenario), 2, "is not UTF-8 text", "save it as UTF-8")
    for command in ("run", "batch"):
        clear_error(run(command, tmp_path), 2, f"Scenario file {tmp_path} is a folder")
    res = run("batch", "--nhs-dir", tmp_path / "no such folder")
    clear_error(res, 2, "--nhs-dir", "no such folder does not exist")


def test_paths_with_spaces_and_accents_work(tmp_path):
    """A scenario, its files and the outputs under folders named as people name them."""
    home = tmp_path / "Données partagées" / "Hub plans 2026"
    home.mkdir(parents=True)
    scenario = tiny_scenario_file(home)
    out, maps = home / "résultats et cartes", home / "cartes à voir"
    res = run("run", scenario, "--out", out, "--maps-dir", maps)
    assert res.exit_code == 0, res.output
    assert (out / "assignment.csv").is_file() and (maps / "tiny.html").is_file()


def test_init_paths_are_checked_before_reading(downloads, tmp_path):  # noqa: F811
    clear_error(
        run("init", "03W", "--nhs-dir", tmp_path / "none"), 2, "--nhs-dir", "does not exist"
    )
    (tmp_path / "file.csv").write_text("x\n")
    clear_error(
        run("init", "03W", "--nhs-dir", tmp_path / "file.csv"), 2, "is a file, not a folder"
    )
    res = run("init", "03W", "--nhs-dir", downloads, "--boundaries", tmp_path / "file.csv")
    clear_error(res, 2, "--boundaries", "is a file, not a folder")
    (tmp_path / "a folder.toml").mkdir()
    res = run("init", "03W", "--nhs-dir", downloads, "-o", tmp_path / "a folder.toml")
    clear_error(res, 3, "scenario file (-o)", "is a folder, not a file")


def test_batch_out_that_is_a_file_and_nhs_dir_that_is_a_file(tmp_path):
    path = write_inputs(tmp_path, workers=1)
    (tmp_path / "out").write_text("not a folder\n")
    res = run("batch", path, "--out", tmp_path / "out")
    clear_error(res, 3, f"--out folder {tmp_path / 'out'} is a file, not a folder")
    res = run("batch", "--nhs-dir", path, "--out", tmp_path / "o2")
    assert res.exit_code == 2 and "is a file" in res.output and "Traceback" not in res.output


def test_network_cache_where_a_file_is_is_refused_before_downloading(tmp_path):
    """[inputs] network is where a download is cached: its folder is checked first."""
    (tmp_path / "cache").write_text("not a folder\n")
    scenario = tiny_scenario_file(
        tmp_path, network=False, inputs_extra='network = "cache/roads.graphml"',
        network_lines='download_place = "Tinyton, England"',
    )  # fmt: skip
    res = run("run", scenario, "--out", tmp_path / "out", "--maps-dir", tmp_path / "m")
    clear_error(res, 3, "[inputs] network (the download's cache): folder", "is a file")


@needs_dev_full
def test_disk_full_while_writing_a_run_is_named(tmp_path):
    scenario = tiny_scenario_file(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "assignment.csv").symlink_to(DEV_FULL)  # every write to it: no space left
    res = run("run", scenario, "--out", out, "--maps-dir", tmp_path / "m", "--force")
    clear_error(res, 3, "Could not write", "the disk is full")


# --- files that are wrong in themselves -------------------------------------------


def test_a_column_given_twice_with_other_values_is_refused(tmp_path):
    scenario = tiny_scenario_file(tmp_path)
    rows = TINY_PRACTICES.splitlines()
    twice = [rows[0] + ",list_size"] + [r + "," + r.rsplit(",", 1)[1] for r in rows[1:]]
    (tmp_path / "practices.csv").write_text("\n".join(twice) + "\n")
    res = run("run", scenario, "--out", tmp_path / "o1", "--maps-dir", tmp_path / "m")
    assert res.exit_code == 0, res.output  # the same values twice: harmless
    twice[3] = twice[3].rsplit(",", 1)[0] + ",18000"
    (tmp_path / "practices.csv").write_text("\n".join(twice) + "\n")
    res = run("run", scenario, "--out", tmp_path / "o2", "--maps-dir", tmp_path / "m2")
    clear_error(
        res, 2, "practices.csv: column 'list_size' is given twice (columns 5 and 6)",
        "line 4: '11000' and '18000'",
    )  # fmt: skip


def test_list_sizes_with_a_column_given_twice(downloads, tmp_path):  # noqa: F811
    sizes = downloads / "gp-reg-pat-prac-all_2021-01.csv"
    lines = sizes.read_text().splitlines()
    lines = [lines[0] + ",NUMBER_OF_PATIENTS"] + [f"{r},{i}" for i, r in enumerate(lines[1:])]
    sizes.write_text("\n".join(lines) + "\n")
    res = run("init", "03W", "--nhs-dir", downloads, "-o", tmp_path / "a.toml")
    clear_error(res, 2, "column 'NUMBER_OF_PATIENTS' is given twice")


def test_road_network_of_another_city_is_a_network_problem(tmp_path):
    """The practices are in Manchester, tests/input_data/tiny.osm in Leicester: before,
    a log line and then exit 5 ("no other practices within 10 minutes")."""
    scenario = tiny_scenario_file(tmp_path)
    moved = TINY_PRACTICES.replace(",52.6", ",53.4").replace(",52.595", ",53.475")
    moved = moved.replace(",-1.1", ",-2.2").replace(",-1.0", ",-2.2")
    (tmp_path / "practices.csv").write_text(moved)
    res = run("run", scenario, "--out", tmp_path / "out", "--maps-dir", tmp_path / "m")
    clear_error(
        res, 4, "The road network tiny.osm does not cover the area: all 4 practices are more "
        "than 10 km from its roads", "practice T1 is 1", "km from the nearest road in tiny.osm",
        "the network covers lat 52.60", "the practices lie at lat 53.4",
        "OpenStreetMap extract of the county",
    )  # fmt: skip
    assert not (tmp_path / "out").exists()


# --- faults during a batch ----------------------------------------------------------


def killed_mid_area(task: engine.Task) -> engine.Row:
    """AAA's worker writes part of the area's files, then is killed (SIGKILL)."""
    if task.code == "AAA":
        task.folder.mkdir(parents=True, exist_ok=True)
        (task.folder / "assignment.csv").write_text("practice_code,hub_id\nA0000,")
        os.kill(os.getpid(), signal.SIGKILL)
    return engine.solve_area_task(task)


def finished(out: Path, code: str) -> dict:
    record = json.loads((out / code / "area.json").read_text())
    assert record["status"] == "optimal" and (out / code / "assignment.csv").is_file()
    return record


def rerun_finishes(scenario, out: Path, done: list[str], redo: list[str]) -> None:
    """A plain rerun keeps ``done`` (their records untouched) and solves ``redo``."""
    stamps = {c: (out / c / "area.json").stat().st_mtime_ns for c in done}
    again = batch.run_batch(scenario, batch.BatchOptions(codes=("AAA", "BBB")), out_dir=out)
    assert again.reused == sorted(done) and again.solved == sorted(redo)
    assert (again.summary["status"] == "optimal").all()
    assert {c: (out / c / "area.json").stat().st_mtime_ns for c in done} == stamps
    for code in done + redo:
        finished(out, code)


def test_worker_killed_mid_area(tmp_path):
    scenario, _ = batch.load_batch(write_inputs(tmp_path))
    out = tmp_path / "out"
    opts = batch.BatchOptions(codes=("AAA", "BBB"), workers=1, retries=0)
    res = batch.run_batch(scenario, opts, out_dir=out, solve=killed_mid_area)
    s = res.summary.set_index("area")
    assert s.at["AAA", "status"] == "failed" and "worker solving it died" in s.at["AAA", "reason"]
    finished(out, "BBB")
    rerun_finishes(scenario, out, done=["BBB"], redo=["AAA"])


@pytest.mark.parametrize("fault", ["file in the way", "disk full"])
def test_area_folder_that_cannot_be_written(tmp_path, fault):
    """BBB's folder cannot be written: a file where its folder belongs, or its
    assignment.csv on a full disk. BBB fails naming the file, AAA finishes, and a
    rerun once it is mended solves BBB alone."""
    if fault == "disk full" and not DEV_FULL.exists():
        pytest.skip("no /dev/full here")
    path = write_inputs(tmp_path, workers=2)
    out = tmp_path / "out"
    out.mkdir()
    if fault == "file in the way":
        (out / "BBB").write_text("in the way\n")
    else:
        (out / "BBB").mkdir()
        (out / "BBB" / "assignment.csv").symlink_to(DEV_FULL)
    res = run("batch", path, "--codes", "AAA,BBB", "--out", out)
    assert res.exit_code == 1 and "Traceback" not in res.output, res.output
    assert "1 of 2 areas have no plan: BBB (Could not write" in res.output
    assert (
        "the disk is full" if fault == "disk full" else "a file stands where a folder is needed"
    ) in res.output
    finished(out, "AAA")
    if (out / "BBB" / "area.json").exists():  # nothing says BBB is done
        assert json.loads((out / "BBB" / "area.json").read_text())["status"] == "failed"
    s = pd.read_csv(out / "summary.csv").set_index("area")
    assert s.at["BBB", "status"] == "failed" and s.at["AAA", "status"] == "optimal"
    (out / "BBB").unlink() if fault == "file in the way" else (
        out / "BBB" / "assignment.csv"
    ).unlink()
    rerun_finishes(batch.load_batch(path)[0], out, done=["AAA"], redo=["BBB"])


@needs_read_only
def test_area_folder_on_a_read_only_disk(tmp_path):
    """BBB's folder is read-only (as a mounted share can be): BBB fails saying so, AAA
    finishes; a rerun where it can be written solves BBB alone."""
    path = write_inputs(tmp_path, workers=1)
    out = tmp_path / "out"
    (out / "BBB").mkdir(parents=True)
    res = read_only(out / "BBB", "batch", path, "--codes", "AAA,BBB", "--out", out)
    assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr
    assert "1 of 2 areas have no plan: BBB (Could not write" in res.stderr
    assert "the disk is read-only" in res.stderr
    finished(out, "AAA")
    assert not (out / "BBB" / "area.json").exists()
    rerun_finishes(batch.load_batch(path)[0], out, done=["AAA"], redo=["BBB"])


def test_ctrl_c_while_solving_keeps_finished_areas(tmp_path):
    """Ctrl-C as the first area finishes (the batch's own thread, as a terminal's
    Ctrl-C arrives): the workers stop, the finished area stays on disk, the rerun
    solves only the rest."""
    scenario, _ = batch.load_batch(write_inputs(tmp_path))
    out = tmp_path / "out"
    opts = batch.BatchOptions(codes=("AAA", "BBB"), workers=1)

    def ctrl_c(row):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        batch.run_batch(scenario, opts, out_dir=out, on_area=ctrl_c)
    first = next(c for c in ("AAA", "BBB") if (out / c / "area.json").exists())
    finished(out, first)
    other = "BBB" if first == "AAA" else "AAA"
    assert not (out / other / "area.json").exists()
    rerun_finishes(scenario, out, done=[first], redo=[other])


def test_ctrl_c_while_reading_is_a_clear_stop(tmp_path):
    """Ctrl-C while the practices are read (they come through a pipe that stalls
    part way): a one-line stop, exit 130, no traceback, nothing written."""
    path = write_inputs(tmp_path, workers=1)
    text = (tmp_path / "practices.csv").read_text()
    # more rows than a pipe holds (64 KB), so the write below returns only once the
    # reader has opened the file and is reading it
    text += "".join(f"Z{i:05d},Filler {i},52.6,-1.2,1000,AAA,Q1,,\n" for i in range(10000))
    (tmp_path / "practices.csv").unlink()
    os.mkfifo(tmp_path / "practices.csv")

    def stall_then_ctrl_c() -> None:
        with open(tmp_path / "practices.csv", "w") as pipe:
            pipe.write(text[: len(text) // 2])
            pipe.flush()
            os.kill(os.getpid(), signal.SIGINT)  # the reader is waiting for the rest

    writer = threading.Thread(target=stall_then_ctrl_c)
    writer.start()
    try:
        res = run("batch", path, "--out", tmp_path / "out")
    finally:
        writer.join()
    assert res.exit_code == 130, res.output
    assert "Stopped (Ctrl-C)" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "out" / "summary.csv").exists()


# --- the first case on the real files ----------------------------------------

#: three practices of CCG 10C (Surrey Heath) whose postcodes the lookup loses
LOST = {"H81039": "GU19 5AQ", "H81040": "GU16 7HG", "H81130": "GU18 5SQ"}


@pytest.mark.realdata
def test_real_files_with_one_ccgs_postcodes_missing(shared_data, tmp_path):
    """``hubopt batch --by ccg --nhs-dir`` over the published files, three of 10C's
    practices' postcodes missing from the lookup: before, "The practices ... have
    problems" before any area was solved. Now 10C fails naming all three, 02Q is
    solved, and every practice is accounted for; with --drop-invalid 10C is solved
    without the three, named with their patients."""
    nhs = tmp_path / "nhs files"
    nhs.mkdir()
    for name in batch.NHS_FILES.values():
        shutil.copy(shared_data / "nhs" / name, nhs / name)
    lookup = nhs / batch.NHS_FILES["postcodes"]
    lines = lookup.read_text().splitlines(keepends=True)
    lookup.write_text("".join(x for x in lines if x.split(",")[0] not in LOST.values()))
    args = ["batch", "--by", "ccg", "--nhs-dir", nhs, "--time-limit", "5", "--workers", "1"]
    res = run(*args, "--codes", "10C,02Q", "--out", tmp_path / "out")
    assert res.exit_code == 1, res.output
    assert "1 of 2 areas have no plan: 10C (" in res.output
    for code, postcode in LOST.items():
        assert f"({code}): postcode '{postcode}' is not in the postcode lookup" in res.output
    s = pd.read_csv(tmp_path / "out" / "summary.csv").set_index("area")
    assert s.at["02Q", "hubs"] > 0 and s.at["10C", "status"] == "failed"
    left = pd.read_csv(tmp_path / "out" / "left_out.csv").set_index("practice_code")
    assert left.loc[list(LOST), "reason"].str.contains("is not in the postcode lookup").all()
    assert s["practices_in_file"].sum() == s["practices"].fillna(0).sum() + len(left)
    assert s["patients_in_file"].sum() == s["patients"].fillna(0).sum() + left["list_size"].sum()
    res = run(*args, "--codes", "10C", "--drop-invalid", "--out", tmp_path / "out")
    assert res.exit_code == 0, res.output
    s = pd.read_csv(tmp_path / "out" / "summary.csv").set_index("area")
    left = pd.read_csv(tmp_path / "out" / "left_out.csv").set_index("practice_code")
    assert sorted(left.index) == sorted(LOST) and s.at["10C", "practices"] == 4
    assert s.at["10C", "left_out_patients"] == left["list_size"].sum() == 6850 + 7883 + 12856
