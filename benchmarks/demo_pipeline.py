"""Time each stage of the main job on the embedded demo area.

    python benchmarks/demo_pipeline.py [--repeat 3]

Prints, per repeat, seconds per stage, the model's size and the solver status.
Figures, not tests: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import statistics

from hubopt import pipeline
from hubopt.cli import demo_scenario_path
from hubopt.model import eligible_pairs
from hubopt.scenario import load_scenario


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    scenario = load_scenario(demo_scenario_path())
    rows = []
    for k in range(args.repeat):
        res = pipeline.run(scenario, out_dir=None, maps_dir=None)
        rows.append(res.timings)
        pairs = len(eligible_pairs(res.matrix, scenario.travel_cap_minutes))
        n = len(res.practices)
        print(
            f"run {k + 1}: practices {n}, variables {pairs} of {n * n} pairs, "
            f"status {res.solve.status}, hubs {len(res.hubs)}, "
            + ", ".join(f"{s} {t:.2f}s" for s, t in res.timings.items())
            + f", total {sum(res.timings.values()):.2f}s"
        )
    med = {s: statistics.median(r[s] for r in rows) for s in rows[0]}
    print(
        "median: "
        + ", ".join(f"{s} {t:.2f}s" for s, t in med.items())
        + f", total {sum(med.values()):.2f}s"
    )


if __name__ == "__main__":
    main()
