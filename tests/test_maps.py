"""The reviewer's map: what must be visible in the HTML, and a real render."""

from __future__ import annotations

import re

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from hubopt.outputs import catchments, maps, tables
from hubopt.outputs.screenshot import find_chromium, rendered_dom, screenshot

PLAN = {"A": "B", "B": "B", "C": "B", "D": "D", "E": "D"}
NASTY = "<script>alert('x')</script> `${alert(1)}` Surgery"
needs_chromium = pytest.mark.skipif(find_chromium() is None, reason="chromium is not installed")


def current_groups() -> pd.DataFrame:
    """Today: North PCN {A, B}, South & East PCN {C, D, E}. Matched with the proposal
    (hubs {A,B,C}@B and {D,E}@D) by shared patients: H01-N1 (35k), H02-N2 (37k), so
    only C moves (from N2 to H01)."""
    return pd.DataFrame(
        {
            "group_id": ["N1", "N1", "N2", "N2", "N2"],
            "group_name": ["North PCN"] * 2 + ["South & East PCN"] * 3,
        },
        index=pd.Index(list("ABCDE"), name="practice_code"),
    )


def line_boundary() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[box(-1.23, 52.57, -1.10, 52.63)], crs="EPSG:4326")


@pytest.fixture
def line_tables(line_area):
    practices, t, scenario = line_area
    practices = practices.copy()
    practices.loc["C", "name"] = NASTY
    a = tables.assignment_table(pd.Series(PLAN), practices, t)
    hubs = tables.hub_table(a, practices, scenario)
    return practices, t, scenario, a, hubs


@pytest.fixture
def line_map(line_tables, tmp_path):
    practices, t, scenario, a, hubs = line_tables
    from hubopt.outputs import evaluate

    current = current_groups()
    fmap = maps.proposal_map(
        a,
        hubs,
        practices,
        title="line",
        status="optimal (proven)",
        cap=4.5,  # A and C (5 min from B) are over it: two breaches
        band=(30_000, 50_000),
        boundary=line_boundary(),
        current=current,
        current_scored=evaluate.score(current["group_id"], practices, t, scenario),
    )
    path = tmp_path / "line.html"
    maps.save_map(fmap, path)
    return path, a, hubs


def test_tables(line_tables):
    _, _, _, a, hubs = line_tables
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
        "Solver: optimal (proven)",
        "2 hubs, 2 in the band 30,000-50,000 patients",
        "Beta Health Centre",  # hub site name
        "45,000",  # hub population
        # a hub's tooltip: band, worst and mean travel; its popup lists members
        "45,000 patients, in band 30,000-50,000",
        "road minutes to hub site: worst 5.0, mean 3.3 (patient-weighted)",
        "Alpha Surgery (A)",
        # a practice's popup
        "Road minutes to hub site: 5.0",
        "Today: North PCN (N1)",
        # the layers a reviewer toggles
        "Proposal: hubs and their areas",
        "Today\\u0027s groups (e.g. PCNs)",  # layer names are JSON in the page
        "Area boundary",
        "Rule breaches",
        "Practices that move (vs today)",
        '"Legend"',
        # today's groups, escaped
        "South &amp; East PCN",
        "matched with proposed hub H02",
    ):
        assert text in html, text


def test_practices_that_move_are_highlighted(line_tables, line_map):
    practices, *_ = line_tables
    c = catchments.build(*line_tables[3:], practices, current=current_groups())
    assert list(c.moved["practice_code"]) == ["C"]
    # today's groups take the colour of the proposed hub they match
    assert c.current_colours == {"N1": c.colours["H01"], "N2": c.colours["H02"]}
    html = line_map[0].read_text()
    assert "<b>1</b> of 5 practices move from today's groups" in html
    moved_tip = re.findall(r"moves: today ([^<]*), proposed hub (H\d\d)", html)
    assert moved_tip == [("South &amp; East PCN (N2)", "H01")]


def test_rule_breaches_are_drawn(line_map):
    html = line_map[0].read_text()
    over = re.findall(r"(\w[\w ]*): 5\.0 road minutes to its site, over the 4.5 min cap", html)
    # proposal: A and C are 5 min from site B; today: B is 5 min from N1's best site A
    assert set(over) == {"Alpha Surgery", "Surgery", "Beta Health Centre"}
    assert "2 practices over the cap" in html


def test_out_of_band_hub_is_flagged(line_tables, tmp_path):
    practices, t, scenario, _, _ = line_tables
    plan = pd.Series({"A": "A", "B": "B", "C": "B", "D": "D", "E": "D"})  # A alone: 20,000
    a = tables.assignment_table(plan, practices, t)
    hubs = tables.hub_table(a, practices, scenario)
    fmap = maps.proposal_map(a, hubs, practices, title="t", status="s", cap=12)
    html = fmap.get_root().render()
    assert "20,000 patients, <b style='color:#e00000'>OUT OF BAND</b>" in html
    assert "H01: 20,000 patients, outside the population band" in html  # breach layer
    assert "\\u0026#9888;H01" in html  # the label warns too (icons are JSON in the page)


def test_input_text_is_escaped(line_map):
    html = line_map[0].read_text()
    assert "<script>alert('x')</script>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    # folium puts tooltips and popups in JS template strings: no live ` or ${ from input
    assert "${alert(1)}" not in html and "`${" not in html
    assert "&#96;&#36;{alert(1)}&#96; Surgery" in html


def test_single_file_without_cdn(line_map):
    html = line_map[0].read_text()
    assert "cdn.jsdelivr.net" not in html and "code.jquery.com" not in html
    assert "<script src=" not in html and "<link rel=" not in html
    assert "Leaflet" in html  # inlined library


def test_neighbouring_hubs_differ_in_colour():
    """24 hubs in a row, each touching the next: more hubs than palette colours, so
    colours repeat, but never between neighbours."""
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
@needs_chromium
def test_map_renders_in_headless_chromium(line_map, tmp_path):
    """The map actually draws: the screenshot shows the hub colours."""
    from PIL import Image

    png = screenshot(
        line_map[0], tmp_path / "shot.png", width=1000, height=700, wait_ms=4000, offline=True
    )
    img = Image.open(png).convert("RGB")
    colours = img.getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 50, "screenshot is blank"
    palette = {tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in maps.PALETTE}
    seen = {rgb for _, rgb in colours}
    assert len(palette & seen) >= 2, "no hub colours drawn"


def crowded_town():
    """A town of four hubs 300 m apart, a ring of eight suburban hubs 4 km out and four
    rural ones 20 km out: at county zoom the town's areas are too small for labels.

    ::

                    R4
                 S  S  S
        R1       S TT  S       R2
                   TT
                 S  S  S
                    R3
    """
    import numpy as np

    from tests.conftest import practices_frame

    lat0, lon0 = 52.40, -0.60
    rows = [
        ("R1", "Westby Surgery", lat0, lon0 - 0.30),
        ("R2", "Eastby Surgery", lat0, lon0 + 0.30),
        ("R3", "Southby Surgery", lat0 - 0.18, lon0),
        ("R4", "Northby Surgery", lat0 + 0.18, lon0),
    ]
    rows += [
        (f"S{k}", f"Suburb {k} Surgery", lat0 + 0.035 * np.sin(a), lon0 + 0.055 * np.cos(a))
        for k, a in enumerate(np.linspace(0, 2 * np.pi, 8, endpoint=False))
    ]
    rows += [
        ("T1", "Town North West", lat0 + 0.0015, lon0 - 0.002),
        ("T2", "Town North East", lat0 + 0.0015, lon0 + 0.002),
        ("T3", "Town South West", lat0 - 0.0015, lon0 - 0.002),
        ("T4", "Town South East", lat0 - 0.0015, lon0 + 0.002),
    ]
    practices = practices_frame([(*r, 35_000) for r in rows])
    codes = list(practices.index)
    t = pd.DataFrame(0.0, index=codes, columns=codes)
    plan = pd.Series({c: c for c in codes})
    return practices, t, plan


@pytest.mark.browser
@needs_chromium
def test_crowded_labels_move_to_an_inset(tmp_path, line_area):
    """In the browser, the town's labels that would overlap at county zoom are hidden
    on the main map and the inset appears with them."""
    _, _, scenario = line_area
    practices, t, plan = crowded_town()
    a = tables.assignment_table(plan, practices, t)
    hubs = tables.hub_table(a, practices, scenario)
    fmap = maps.proposal_map(a, hubs, practices, title="town", status="s", cap=10)
    path = tmp_path / "town.html"
    maps.save_map(fmap, path)
    dom = rendered_dom(path, width=1200, height=800)
    inset = re.search(r'<div id="[^"]*-inset" class="hubopt-inset" style="([^"]*)"', dom)
    assert inset and "display: none" not in inset.group(1), "inset not shown"
    assert re.search(r"Crowded area enlarged ×<span>\d+</span>", dom)
    main, inset_map = dom.split('class="hubopt-inset-map', 1)
    opacity = re.compile(r"hubopt-label-icon[^>]*opacity: (\d)")
    shown = opacity.findall(main)
    assert len(shown) == 16 and shown.count("0") == 4, "the town's four labels are hidden"
    assert opacity.findall(inset_map).count("1") >= 4, "and shown in the inset"


def two_towns():
    """The crowded town of :func:`crowded_town` (four hubs 300 m apart, at 52.40,
    -0.60) and a second town of two hubs 300 m apart 35 km north-east: both are
    crowded at county zoom, the first (four hidden labels) is the densest part.

    ::

        V1 V2                     (second town, two hubs)

                    R4
                 S  S  S
        R1       S TT  S       R2  (first town, four hubs)
                   TT
                 S  S  S
                    R3
    """
    from tests.conftest import practices_frame

    practices, _, _ = crowded_town()
    rows = [
        (c, practices.at[c, "name"], practices.at[c, "lat"], practices.at[c, "lon"], 35_000)
        for c in practices.index
    ]
    rows += [
        ("V1", "Village West", 52.62, -0.25),
        ("V2", "Village East", 52.62, -0.2456),
    ]
    rows = [(*r, 35_000) if len(r) == 4 else r for r in rows]
    practices = practices_frame(rows)
    codes = list(practices.index)
    t = pd.DataFrame(0.0, index=codes, columns=codes)
    return practices, t, pd.Series({c: c for c in codes})


def _drawn(practices, t, plan, line_area):
    _, _, scenario = line_area
    a = tables.assignment_table(plan, practices, t)
    hubs = tables.hub_table(a, practices, scenario)
    return a, hubs, catchments.build(a, hubs, practices)


def _label_ids(svg: str) -> set[str]:
    return set(re.findall(r'font-weight="bold">(H\d+)</text>', svg))


def test_report_enlarges_the_densest_part_only(line_area):
    """The report's enlargement shows the first town (four hubs), not the second, and
    magnifies it (x2 or more); the second town's labels stay on the overview."""
    from hubopt.outputs import report

    a, hubs, c = _drawn(*two_towns(), line_area)
    overview, inset, factor = report.overview_svgs(c)
    hub_of = hubs.set_index("site_code")["hub_id"]
    town = {hub_of[k] for k in ("T1", "T2", "T3", "T4")}
    village = {hub_of["V1"], hub_of["V2"]}
    assert factor >= maps.MIN_ENLARGEMENT
    assert town <= _label_ids(inset)
    assert not village & _label_ids(inset)
    assert not town & _label_ids(overview)
    assert 'stroke-dasharray="3 2"' in overview  # the enlarged box, marked


def test_report_leaves_the_enlargement_off_without_a_dense_part(line_area):
    """A 12 x 12 grid of one-practice hubs 1.2 km apart: every label is crowded, but
    evenly, so the only "part" is the whole area and nothing would be enlarged."""
    import numpy as np

    from hubopt.outputs import report
    from tests.conftest import practices_frame

    rows = [
        (f"G{i:02d}{j:02d}", f"Grid {i} {j}", 52.40 + 0.011 * i, -0.60 + 0.018 * j, 35_000)
        for i in range(12)
        for j in range(12)
    ]
    practices = practices_frame(rows)
    codes = list(practices.index)
    t = pd.DataFrame(0.0, index=codes, columns=codes)
    _, _, c = _drawn(practices, t, pd.Series({k: k for k in codes}), line_area)
    overview, inset, factor = report.overview_svgs(c)
    assert inset == "" and factor == 0
    shown = _label_ids(overview)
    assert 0 < len(shown) < len(rows) and np.isfinite(len(shown))
    assert 'stroke-dasharray="3 2"' not in overview


@pytest.mark.browser
@needs_chromium
def test_map_inset_enlarges_the_densest_part(tmp_path, line_area):
    """In the browser: the inset enlarges the first town (x2 or more) and its locator
    box lies around that town, not around both towns."""
    a, hubs, c = _drawn(*two_towns(), line_area)
    practices = two_towns()[0]
    fmap = maps.proposal_map(a, hubs, practices, title="towns", status="s", cap=10, catchments=c)
    path = tmp_path / "towns.html"
    maps.save_map(fmap, path)
    dom = rendered_dom(path, width=1200, height=800)
    factor = re.search(r"Crowded area enlarged ×<span>(\d+)</span>", dom)
    assert factor and int(factor.group(1)) >= 2, "no real enlargement"
    inset_map = dom.split('class="hubopt-inset-map', 1)[1]
    hub_of = hubs.set_index("site_code")["hub_id"]
    shown = re.findall(
        r'hubopt-label-icon[^>]*opacity: 1[^>]*>\s*<div class="hubopt-label"[^>]*>[^<]*?(H\d+)<small>',
        inset_map,
    )
    assert {hub_of[k] for k in ("T1", "T2", "T3", "T4")} <= set(shown), shown
    assert not {hub_of["V1"], hub_of["V2"]} & set(shown), shown
