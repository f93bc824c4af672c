"""The command line: exit codes, messages, no tracebacks, no overwriting."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import hubopt
from hubopt.cli import main
from hubopt.outputs.screenshot import find_chromium, screenshot
from tests.conftest import REPO, TINY_PRACTICES, tiny_scenario_file


def _tiny_scenario(tmp_path, **rules) -> str:
    """Four practices (40,000 patients) on tests/input_data/tiny.osm."""
    return tiny_scenario_file(tmp_path, **rules)


def _invoke(*args):
    return CliRunner().invoke(main, list(args))


def test_run_writes_outputs_and_refuses_to_overwrite(tmp_path):
    scen = _tiny_scenario(tmp_path)
    out, maps = tmp_path / "out", tmp_path / "maps"
    r = _invoke("run", scen, "--out", str(out), "--maps-dir", str(maps))
    assert r.exit_code == 0, r.output
    assert "Status: optimal (proven)" in r.output
    assert "Hubs: 1 (1 within 30,000-50,000)" in r.output
    for f in (
        "assignment.csv",
        "hubs.csv",
        "hubs.geojson",
        "matrix.csv",
        "summary.json",
        "map.html",
    ):
        assert (out / f).is_file(), f
    assert (maps / "tiny.html").is_file()
    a = pd.read_csv(out / "assignment.csv")
    assert list(a.columns) == [
        "practice_code", "practice_name", "list_size", "hub_id",
        "hub_site_code", "hub_site_name", "minutes_to_hub", "lat", "lon", "travel_times",
    ]  # fmt: skip
    assert set(a["travel_times"]) == {"road"}
    assert set(a["hub_id"]) == {"H01"}
    before = (out / "hubs.csv").read_text()
    again = _invoke("run", scen, "--out", str(out), "--maps-dir", str(maps))
    assert again.exit_code == 3
    assert "already exist" in again.output and "--force" in again.output
    assert "Traceback" not in again.output
    assert (out / "hubs.csv").read_text() == before
    forced = _invoke("run", scen, "--out", str(out), "--maps-dir", str(maps), "--force")
    assert forced.exit_code == 0, forced.output


def test_missing_scenario_file():
    r = _invoke("run", "no/such/file.toml")
    assert r.exit_code == 2
    assert "Scenario file no/such/file.toml not found" in r.output
    assert "Traceback" not in r.output


def test_bad_practice_rows_listed(tmp_path):
    scen = _tiny_scenario(tmp_path)
    (tmp_path / "practices.csv").write_text(
        TINY_PRACTICES.replace("12000", "twelve").replace("52.595,-1.080,8000", ",-1.080,8000")
    )
    r = _invoke("run", scen, "--out", str(tmp_path / "o"))
    assert r.exit_code == 2
    assert "line 2 (T1): list_size 'twelve' is not a number" in r.output
    assert "line 5 (T4): lat is empty" in r.output
    assert "Traceback" not in r.output
    assert not (tmp_path / "o").exists()


def test_oversize_practice_explained(tmp_path):
    scen = _tiny_scenario(tmp_path, oversize="error")
    (tmp_path / "practices.csv").write_text(TINY_PRACTICES.replace("12000", "62000"))
    r = _invoke("run", scen, "--out", str(tmp_path / "o"))
    assert r.exit_code == 5
    assert (
        "practice T1 Top Street Surgery has 62,000 patients, above the upper band of 50,000"
        in r.output
    )


def test_band_that_no_number_of_hubs_fits(tmp_path):
    scen = _tiny_scenario(tmp_path, population_min=45000)
    r = _invoke("run", scen, "--out", str(tmp_path / "o"))
    assert r.exit_code == 5
    assert "the practices total 40,000 patients" in r.output


def test_override_from_command_line(tmp_path):
    scen = _tiny_scenario(tmp_path)
    r = _invoke(
        "run", scen, "--out", str(tmp_path / "o"), "--maps-dir", str(tmp_path), "--min-pop", "60000"
    )
    assert r.exit_code == 2
    assert "population_min 60,000 is above population_max 50,000" in r.output


def test_debug_shows_traceback(tmp_path):
    r = _invoke("--debug", "run", "no/such/file.toml")
    assert r.exit_code != 0
    assert r.exception is not None and type(r.exception).__name__ == "InputError"


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """`hubopt demo` once for the module's tests."""
    tmp = tmp_path_factory.mktemp("demo")
    r = _invoke("demo", "--out", str(tmp / "out"), "--maps-dir", str(tmp / "maps"))
    assert r.exit_code == 0, r.output
    return tmp, r.output


@pytest.mark.slow
def test_demo_end_to_end(demo_run):
    """`hubopt demo` on the embedded area: proven optimal, every check passes."""
    tmp, output = demo_run
    out = tmp / "out"
    assert "Status: optimal (proven)" in output and "Proposal vs current grouping" in output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "optimal"
    assert all(summary["checks"].values())
    assert summary["practices"] >= 40
    hubs = pd.read_csv(out / "hubs.csv", keep_default_na=False)
    exempt = hubs["exemption"] != ""
    assert (hubs.loc[~exempt, "in_band"] == "yes").all()
    assert (hubs.loc[exempt, "list_size"] > 50_000).all() and exempt.sum() == 1
    assert hubs["max_minutes"].max() <= 25
    a = pd.read_csv(out / "assignment.csv")
    assert a["practice_code"].is_unique and a["hub_id"].notna().all()
    assert hubs["list_size"].sum() == a["list_size"].sum()
    comparison = pd.read_csv(out / "comparison.csv", index_col="measure")
    assert list(comparison.columns) == ["proposal", "current"]
    html = (tmp / "maps" / "demo.html").read_text()
    for _, h in hubs.iterrows():
        assert h["hub_id"] in html and f"{h['list_size']:,}" in html


def _documented(heading: str) -> list[str]:
    """The first column of the table under ``heading`` in docs/outputs.md, in order."""
    text = (REPO / "docs" / "outputs.md").read_text()
    rows = text.split(heading, 1)[1].split("\n#", 1)[0].splitlines()
    return [r.split("|")[1].strip().strip("`") for r in rows if r.startswith("| `")]


@pytest.mark.slow
def test_every_output_column_is_documented(demo_run):
    """docs/outputs.md lists every column of every table the demo writes, in order, and
    every key of summary.json: a new column fails here until the page explains it."""
    tmp, _ = demo_run
    out = tmp / "out"
    for name in ("assignment", "hubs", "comparison", "rejects"):
        header = (out / f"{name}.csv").read_text().splitlines()[0].split(",")
        assert _documented(f"### `{name}.csv`") == header, name
    assert _documented("### `matrix.csv`") == ["from_to"]
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary) <= set(_documented("### `summary.json`"))
    assert summary["hubopt_version"] == hubopt.__version__


@pytest.mark.browser
@pytest.mark.skipif(find_chromium() is None, reason="Debian's chromium is not installed")
def test_demo_map_draws(demo_run):
    """Screenshot of the demo map: not blank, with at least five hub colours."""
    from PIL import Image

    from hubopt.outputs.maps import PALETTE

    tmp, _ = demo_run
    png = screenshot(tmp / "maps" / "demo.html", tmp / "demo.png")
    seen = {rgb for _, rgb in Image.open(png).convert("RGB").getcolors(maxcolors=2_000_000)}
    palette = {tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in PALETTE}
    assert len(seen) > 100
    assert len(palette & seen) >= 5


def test_drop_invalid_writes_rejects(tmp_path):
    scen = _tiny_scenario(tmp_path)
    (tmp_path / "practices.csv").write_text(
        TINY_PRACTICES + "T5,Broken Row Surgery,52.6,-1.09,lots\n"
    )
    out = tmp_path / "o"
    r = _invoke("run", scen, "--out", str(out), "--maps-dir", str(tmp_path / "m"), "--drop-invalid")
    assert r.exit_code == 0, r.output
    rejects = pd.read_csv(out / "rejects.csv")
    assert list(rejects["practice_code"]) == ["T5"]
    assert "'lots' is not a number" in rejects["reason"][0]
    assert "T5 Broken Row Surgery (patients unknown)" in r.output
    assert "T5" not in pd.read_csv(out / "assignment.csv")["practice_code"].tolist()


def test_evaluate_current_and_a_proposal(tmp_path):
    """Today's groups {T1,T2} and {T3,T4}; a proposal with all four together.

    Band 30-50k: {T1,T2} = 21,000 and {T3,T4} = 19,000 are both below 30,000; the
    proposal's single group of 40,000 is in band.
    """
    scen = _tiny_scenario(tmp_path)
    (tmp_path / "groups.csv").write_text(
        "practice_code,pcn_code,pcn_name\nT1,P1,West PCN\nT2,P1,West PCN\nT3,P2,East PCN\nT4,P2,East PCN\n"
    )
    Path(scen).write_text(
        Path(scen).read_text().replace("[rules]", 'current = "groups.csv"\n[rules]')
    )
    (tmp_path / "proposal.csv").write_text("practice_code,hub_id\nT1,H01\nT2,H01\nT3,H01\nT4,H01\n")
    out = tmp_path / "ev"
    r = _invoke("evaluate", scen, "--grouping", str(tmp_path / "proposal.csv"), "--out", str(out))
    assert r.exit_code == 0, r.output
    cmp = pd.read_csv(out / "comparison.csv", index_col="measure")
    assert list(cmp.columns) == ["current", "proposal"]
    assert cmp.loc["hubs", "current"] == "2" and cmp.loc["hubs in band", "current"] == "0"
    assert cmp.loc["hubs in band", "proposal"] == "1"
    groups = pd.read_csv(out / "current_groups.csv")
    assert sorted(groups["list_size"]) == [19_000, 21_000]
    assert set(groups["hub_id"]) == {"P1", "P2"}
    again = _invoke(
        "evaluate", scen, "--grouping", str(tmp_path / "proposal.csv"), "--out", str(out)
    )
    assert again.exit_code == 3
