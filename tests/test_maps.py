"""The reviewer's map: what must be visible in the HTML, and a real render."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest

from hubopt import maps, report
from hubopt.screenshot import find_chromium, screenshot

PLAN = {"A": "B", "B": "B", "C": "B", "D": "D", "E": "D"}


@pytest.fixture
def line_map(line_area, tmp_path):
    practices, t, scenario = line_area
    practices = practices.copy()
    practices.loc["C", "name"] = "<script>alert('x')</script> Surgery"
    a = report.assignment_table(pd.Series(PLAN), practices, t)
    hubs = report.hub_table(a, practices, scenario)
    geo = report.hubs_geodataframe(a, hubs, practices)
    current = pd.DataFrame(
        {
            "group_id": ["N1", "N1", "N2", "N2", "N2"],
            "group_name": ["North PCN"] * 2 + ["South & East PCN"] * 3,
        },
        index=pd.Index(list("ABCDE"), name="practice_code"),
    )
    fmap = maps.proposal_map(
        a, hubs, geo, practices, title="line", status="optimal (proven)", cap=12, current=current
    )
    path = tmp_path / "line.html"
    maps.save_map(fmap, path)
    return path, a, hubs


def test_tables(line_map):
    _, a, hubs = line_map
    assert list(hubs["hub_id"]) == ["H01", "H02"]  # west to east on equal latitude
    h = hubs.set_index("site_code")
    assert h.loc["B", "list_size"] == 45_000 and h.loc["D", "list_size"] == 37_000
    # patient-weighted mean at B: (20k*5 + 10k*5) / 45k = 3.33 min; worst 5
    assert h.loc["B", "mean_minutes"] == pytest.approx(3.33, abs=0.01)
    assert h.loc["B", "max_minutes"] == 5
    assert a.set_index("practice_code").loc["E", "minutes_to_hub"] == 4


def test_html_shows_what_a_reviewer_needs(line_map):
    path, _, _ = line_map
    html = path.read_text()
    for text in (
        "hubopt: line",
        "optimal (proven)",
        "Beta Health Centre",  # hub site name
        "45,000",  # hub population
        "Road minutes to hub site",  # popup
        "Proposed hubs",
        "Current groups",
        "Rule breaches",
        "South &amp; East PCN",
    ):
        assert text in html, text


def test_input_text_is_escaped(line_map):
    html = line_map[0].read_text()
    assert "<script>alert('x')</script>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Surgery" in html


def test_single_file_without_cdn(line_map):
    html = line_map[0].read_text()
    assert "cdn.jsdelivr.net" not in html and "code.jquery.com" not in html
    assert "<script src=" not in html
    assert "Leaflet" in html  # inlined library


def test_neighbouring_hubs_differ_in_colour():
    """24 hubs in a row, each touching the next: more hubs than palette colours, so
    colours repeat, but never between neighbours."""
    from shapely.geometry import box

    outlines = gpd.GeoDataFrame(
        {"hub_id": [f"H{k:02d}" for k in range(24)]},
        geometry=[box(400_000 + 1000 * k, 300_000, 401_000 + 1000 * k, 301_000) for k in range(24)],
        crs="EPSG:27700",
    )
    colours = maps.hub_colours(outlines)
    assert len(set(colours.values())) < 24
    for k in range(23):
        assert colours[f"H{k:02d}"] != colours[f"H{k + 1:02d}"]


@pytest.mark.browser
@pytest.mark.skipif(find_chromium() is None, reason="Debian's chromium is not installed")
def test_map_renders_in_headless_chromium(line_map, tmp_path):
    """The map actually draws: the screenshot shows the hub colours."""
    from PIL import Image

    png = screenshot(line_map[0], tmp_path / "shot.png", width=1000, height=700, wait_ms=4000)
    img = Image.open(png).convert("RGB")
    colours = img.getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 50, "screenshot is blank"
    palette = {tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in maps.PALETTE}
    seen = {rgb for _, rgb in colours}
    assert len(palette & seen) >= 2, "no hub colours drawn"
