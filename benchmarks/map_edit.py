"""How fast the map's edit mode updates, and how big the map file is.

    python benchmarks/map_edit.py [--areas demo,llr,qop] [--edits 200] [--time-limit 30]
        [--data ../shared/data] [--out DIR]

For each area: run hubopt (the demo as shipped; LLR = CCGs 03W+04C+04V and Greater
Manchester = ICB QOP from the NHS files in ``../shared/data/nhs``, straight-line
travel, band 30,000-50,000 ``rural_exception``, cap 30 min, contiguous, lists under
1,000 left out, ``--time-limit`` seconds), open the map in Debian's chromium through
Playwright (``executable_path``), enter edit mode and make ``--edits`` seeded random
edits (moves of 1-3 practices to another hub, new hubs, new sites, undo, redo), each
timed in the page with ``performance.now()`` from the edit to the page redrawn (plan
re-checked, map, legend table and bar updated). Prints per area: practices, hubs, the
HTML file's size and the part of it that is the edit mode's data, and the update time
(median, 95th percentile, worst). Figures, not tests: nothing here asserts.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
from pathlib import Path

from hubopt import pipeline
from hubopt.batch import nhs_scenario
from hubopt.data import demo_scenario_path
from hubopt.outputs.screenshot import OFFLINE, find_chromium
from hubopt.scenario import Scenario, load_scenario

RULES = {
    "population_min": 30_000,
    "population_max": 50_000,
    "travel_cap_minutes": 30,
    "band": "rural_exception",
    "contiguous": True,
}


def scenario_of(area: str, data: Path, time_limit: float) -> Scenario:
    if area == "demo":
        return load_scenario(demo_scenario_path())
    chosen = {"llr": {"ccg": ["03W", "04C", "04V"]}, "qop": {"icb": ["QOP"]}}[area]
    return nhs_scenario(
        data / "nhs", name=f"edit-{area}", rules=RULES,
        area={**chosen, "min_list_size": 1000},
        solver={"time_limit_seconds": time_limit, "repeatable": False},
    )  # fmt: skip


def edit_times(html: Path, edits: int, seed: int = 24) -> tuple[list[float], float]:
    """Update times (ms) of ``edits`` random edits, and the time to enter edit mode."""
    from playwright.sync_api import sync_playwright

    rng = random.Random(seed)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=find_chromium(),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", OFFLINE],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(html.resolve().as_uri())
        page.wait_for_function("window.hubopt !== undefined", timeout=60_000)
        page.evaluate("window.hubopt.enter()")
        enter_ms = page.evaluate("window.hubopt.state().ms")
        for _ in range(edits):
            st = page.evaluate("window.hubopt.state()")
            codes = sorted(st["hub_of"])
            hubs = [h["hub_id"] for h in st["hubs"]]
            picked = rng.sample(codes, rng.choice([1, 1, 2, 3]))
            op = rng.choices(["move", "new", "site", "undo", "redo"], [60, 8, 12, 12, 8])[0]
            call = {
                "move": f"window.hubopt.moveTo({picked!r}, {rng.choice(hubs)!r})",
                "new": f"window.hubopt.newHub({picked!r})",
                "site": f"window.hubopt.makeSite({picked[0]!r})",
                "undo": "window.hubopt.undo()",
                "redo": "window.hubopt.redo()",
            }[op]
            page.evaluate(call)
        times = page.evaluate("window.hubopt.state().times")[1:]  # the first is entering
        browser.close()
    return times, enter_ms


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--areas", default="demo,llr,qop")
    ap.add_argument("--edits", type=int, default=200)
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data"
    )
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="hubopt-map-edit-"))
    print(f"{'area':<6} {'practices':>9} {'hubs':>5} {'html MB':>8} {'edit data KB':>12} "
          f"{'enter ms':>9} {'median ms':>9} {'p95 ms':>7} {'max ms':>7}")  # fmt: skip
    for area in args.areas.split(","):
        scenario = scenario_of(area, args.data, args.time_limit)
        res = pipeline.run(scenario, out_dir=out / area, maps_dir=out / "maps", force=True)
        html = out / "maps" / f"{scenario.name}.html"
        text = html.read_text(encoding="utf-8")
        blob = re.search(r'-edit-data">(.*?)</script>', text, re.S)
        blob_kb = len(blob.group(1).encode()) / 1024 if blob else 0.0
        times, enter_ms = edit_times(html, args.edits)
        times.sort()
        print(
            f"{area:<6} {len(res.assignment):>9} {len(res.hubs):>5} "
            f"{html.stat().st_size / 1e6:>8.2f} {blob_kb:>12.0f} {enter_ms:>9.1f} "
            f"{statistics.median(times):>9.1f} {times[int(0.95 * (len(times) - 1))]:>7.1f} "
            f"{times[-1]:>7.1f}",
            flush=True,
        )
    print(f"maps in {out / 'maps'}")


if __name__ == "__main__":
    main()
