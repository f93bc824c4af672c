"""Figures for planners' choices: alternatives, what stays together, rule prices.

    python benchmarks/choices.py [--area demo|llr] [--k 3] [--time-limit 120]
        [--within 0.03] [--differ 5] [--prices] [--threads 1] [--data ../shared/data]

``demo`` is ``hubopt/data/demo/demo.toml`` (road network); ``llr`` is Leicester, Leicestershire
& Rutland (CCGs 03W, 04C, 04V) built from ``../shared/data/nhs`` as in
``benchmarks/real_areas.py`` (straight-line travel, band 30,000-50,000 strict, cap 30,
not contiguous, lists under 100 left out). The best plan gets half the time limit and
the alternatives share the rest; ``--prices`` re-solves each rule in one more time
limit. Prints the figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from hubopt import whatif  # noqa: E402


def llr_scenario(data: Path, time_limit: float):
    from real_areas import area_scenario  # noqa: PLC0415

    area = {"code": "llr", "name": "Leicester, Leicestershire & Rutland", "kind": "named",
            "ccg": ["03W", "04C", "04V"], "icb": [], "time_limit": time_limit}  # fmt: skip
    opts = {"band": "30000-50000", "cap": 30.0, "oversize": "own_hub", "band_mode": "strict",
            "contiguous": False, "min_list_size": 100, "solver": "cbc",
            "heuristic_only": False}  # fmt: skip
    return area_scenario(area, opts, data / "nhs")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--area", default="demo", choices=["demo", "llr"])
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--within", type=float, default=0.03)
    ap.add_argument("--differ", type=int, default=5)
    ap.add_argument("--prices", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    args = ap.parse_args()
    scenario = (
        HERE.parent / "hubopt" / "data" / "demo" / "demo.toml"
        if args.area == "demo"
        else llr_scenario(args.data, args.time_limit)
    )
    t0 = time.perf_counter()
    area = whatif.prepare(
        scenario, time_limit_seconds=args.time_limit, threads=args.threads,
        alternatives_within=args.within, alternatives_differ=args.differ,
    )  # fmt: skip
    print(f"{area}; inputs and matrix {time.perf_counter() - t0:.1f} s", flush=True)
    t0 = time.perf_counter()
    plans = whatif.alternatives(area, args.k)
    print(f"alternatives: {time.perf_counter() - t0:.1f} s in all", flush=True)
    print(plans.attrs["text"])
    if len(plans):
        print(plans.to_string())
        pairs = plans.attrs["together"]
        print(pairs["verdict"].value_counts().to_string())
        moves = plans.attrs["moves"]
        print(f"practices contested: {moves['practice_code'].nunique()}")
        if len(moves):
            print(moves.to_string())
    if args.prices:
        t0 = time.perf_counter()
        prices = whatif.rule_prices(area)
        print(f"rule prices: {time.perf_counter() - t0:.1f} s in all (incl. the best plan)")
        for _, p in prices.iterrows():
            print(f"  [{p['status']}, {p['seconds']:.1f} s] {p['sentence']}")


if __name__ == "__main__":
    main()
