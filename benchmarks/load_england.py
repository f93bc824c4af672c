"""Load and validate every English practice from the NHS files as published.

    python benchmarks/load_england.py [--data ../shared/data] [--repeat 3]

Reads the ODS register (epraccur), list sizes (gp-reg-pat-prac-all), the PCN map,
ePCN membership as at 2021-01-01 (from the .xlsx and from its CSV export) and the
postcode lookup, joins and validates them, and prints seconds per step and the
counts. Figures, not tests: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from hubopt.inputs import nhs
from hubopt.outputs import evaluate

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    d = args.data / "nhs"
    steps = {
        "list_sizes": lambda: nhs.read_list_sizes(d / "gp-reg-pat-prac-all_2021-01.csv"),
        "register": lambda: nhs.read_epraccur(d / "epraccur_late2021.csv"),
        "pcn_map": lambda: nhs.read_practice_map(d / "gp-reg-pat-prac-map_2022-01.csv"),
        "epcn_xlsx": lambda: nhs.read_epcn(d / "ePCN_2022-02-16.xlsx", as_at="2021-01-01"),
        "epcn_csv": lambda: nhs.read_epcn(
            d / "ePCN_2022-02-16_CorePartnerDetails.csv", as_at="2021-01-01"
        ),
        "postcodes": lambda: nhs.read_postcode_lookup(d / "practice_postcodes_latlon.csv"),
    }
    times: dict[str, list[float]] = {k: [] for k in [*steps, "assemble", "total (csv ePCN)"]}
    for _ in range(args.repeat):
        got = {}
        for name, fn in steps.items():
            t = time.perf_counter()
            got[name] = fn()
            times[name].append(time.perf_counter() - t)
        t = time.perf_counter()
        table = nhs.assemble(
            list_sizes=got["list_sizes"],
            postcodes=got["postcodes"],
            register=got["register"],
            pcn_map=got["pcn_map"],
            epcn=got["epcn_csv"],
        )
        times["assemble"].append(time.perf_counter() - t)
        times["total (csv ePCN)"].append(
            sum(times[k][-1] for k in times if k not in ("epcn_xlsx", "total (csv ePCN)"))
        )
    p = table.practices
    pcn = evaluate.population_summary(p["pcn_code"], p["list_size"], band=(30_000, 50_000))
    print(
        f"practices {len(p)}, patients {int(p['list_size'].sum()):,}, rejects {len(table.rejects)}"
    )
    print(
        f"PCNs as at 2021-01-01 {pcn['groups']}, median {pcn['median']:,.0f}, "
        f"within 30-50k {pcn['share_in_band']:.1%}, practices above 50k "
        f"{pcn['practices_above_band']}, practices in no PCN {pcn['practices_ungrouped']}"
    )
    for name, ts in times.items():
        print(f"{name:18s} median {statistics.median(ts):.3f} s  (of {len(ts)})")


if __name__ == "__main__":
    main()
