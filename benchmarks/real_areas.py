"""Solve real NHS areas and score today's PCNs with the same measures.

    python benchmarks/real_areas.py [--areas llr,hull,cambs,ncumbria] [--time-limit 120]
        [--cap 30] [--band 30000-50000] [--oversize own_hub|error] [--solver cbc]
        [--band-mode strict|rural_exception|elastic] [--contiguous]
        [--data ../shared/data]

Builds each area from the NHS files as published in ``../shared/data/nhs`` (list sizes
1 Jan 2021, ODS register, ePCN membership as at 2021-01-01, postcode coordinates;
practices under 100 patients and closed/dormant ones left out), makes a straight-line
travel matrix (no road network in ``../shared/data`` covers these areas), solves with
:func:`hubopt.pipeline.solve_matrix` and scores today's PCNs with
:func:`hubopt.outputs.evaluate.score`. Prints one table; an area whose rules cannot be met shows
the error as its status. Figures, not tests: nothing here asserts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from hubopt import pipeline
from hubopt.errors import HuboptError, InfeasibleError
from hubopt.inputs import load
from hubopt.outputs import evaluate, tables
from hubopt.scenario import BAND_MODES, OVERSIZE_POLICIES, SOLVERS, scenario_from_dict

HERE = Path(__file__).resolve().parent

#: name -> (description, CCG codes of January 2021)
AREAS = {
    "llr": ("Leicester, Leicestershire & Rutland", ["03W", "04C", "04V"]),
    "hull": ("Hull", ["03F"]),
    "cambs": ("Cambridgeshire & Peterborough", ["06H"]),
    "ncumbria": ("North Cumbria", ["01H"]),
}
COLUMNS = (
    "area practices patients hubs status gap solve_s worst_min mean_min in_band PCNs "
    "PCN_worst_min PCN_mean_min PCN_in_band"
).split()
NHS_FILES = {
    "list_sizes": "gp-reg-pat-prac-all_2021-01.csv",
    "register": "epraccur_late2021.csv",
    "pcn_membership": "ePCN_2022-02-16_CorePartnerDetails.csv",
    "postcodes": "practice_postcodes_latlon.csv",
}


def area_scenario(name: str, args: argparse.Namespace, nhs_dir: Path):
    lo, hi = (int(v) for v in args.band.split("-"))
    raw = {
        "scenario": {"name": f"real-{name}", "description": AREAS[name][0]},
        "inputs": {**NHS_FILES, "current": "pcn"},
        "area": {"ccg": AREAS[name][1], "as_at": "2021-01-01", "min_list_size": 100},
        "rules": {
            "population_min": lo,
            "population_max": hi,
            "travel_cap_minutes": args.cap,
            "oversize": args.oversize,
            "band": args.band_mode,
            "contiguous": args.contiguous,
        },
        "solver": {"name": args.solver, "time_limit_seconds": args.time_limit},
        "network": {"kind": "straight_line"},
    }
    return scenario_from_dict(raw, base_dir=nhs_dir, where=f"area {name}")


def run_area(name: str, args: argparse.Namespace, nhs_dir: Path) -> tuple[dict, list[str]]:
    """One table row, and the notes and errors to print under the table."""
    row: dict[str, object] = {"area": name}
    notes: list[str] = []
    timings: dict[str, float] = {}
    try:
        scenario = area_scenario(name, args, nhs_dir)
        loaded = load.load_inputs(scenario)
        practices = loaded.practices
        notes += loaded.notes
        row |= {"practices": len(practices), "patients": int(practices["list_size"].sum())}
        minutes = pipeline.travel_matrix(scenario, practices, notes=notes)
        today = evaluate.overall(
            *evaluate.score(loaded.current["group_id"], practices, minutes, scenario)
        )
        row |= {
            "PCNs": today["hubs"],
            "PCN_worst_min": today["worst minutes to site"],
            "PCN_mean_min": today["mean minutes to site (patient-weighted)"],
            "PCN_in_band": today["share in band"],
        }
        result, _ = pipeline.solve_matrix(
            practices, minutes, scenario, timings=timings, current=loaded.current,
            boundary=loaded.boundary,
        )  # fmt: skip
        assignment = tables.assignment_table(result.assignment, practices, minutes)
        plan = evaluate.overall(assignment, tables.hub_table(assignment, practices, scenario))
        row |= {
            "hubs": plan["hubs"],
            "status": result.status,
            "gap": "-" if result.gap is None else f"{result.gap:.2%}",
            "worst_min": plan["worst minutes to site"],
            "mean_min": plan["mean minutes to site (patient-weighted)"],
            "in_band": plan["share in band"],
        }
    except HuboptError as exc:
        row["status"] = "infeasible" if isinstance(exc, InfeasibleError) else type(exc).__name__
        notes.append(f"{row['status']}: {exc}")
    if "solve" in timings:
        row["solve_s"] = round(timings["solve"], 1)
    return row, notes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--areas", default=",".join(AREAS), help=f"comma-separated: {', '.join(AREAS)}")
    ap.add_argument("--time-limit", type=float, default=120.0, help="seconds per area")
    ap.add_argument("--cap", type=float, default=30.0, help="travel cap, minutes")
    ap.add_argument("--band", default="30000-50000", help="population band, MIN-MAX")
    ap.add_argument("--oversize", default="own_hub", choices=OVERSIZE_POLICIES)
    ap.add_argument("--band-mode", default="strict", choices=BAND_MODES)
    ap.add_argument("--contiguous", action="store_true", help="one connected area per hub")
    ap.add_argument("--solver", default="cbc", choices=SOLVERS)
    ap.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    args = ap.parse_args()
    names = [a.strip() for a in args.areas.split(",") if a.strip()]
    unknown = sorted(set(names) - set(AREAS))
    if unknown:
        ap.error(f"unknown areas {unknown}; known: {', '.join(AREAS)}")
    nhs_dir = (args.data / "nhs").resolve()
    missing = [f for f in NHS_FILES.values() if not (nhs_dir / f).is_file()]
    if missing:
        print(f"Real NHS data not found in {nhs_dir} ({', '.join(missing)}); nothing to do.")
        return

    rows, notes = [], {}
    for name in names:
        print(f"{name}: {AREAS[name][0]} ...", file=sys.stderr, flush=True)
        row, notes[name] = run_area(name, args, nhs_dir)
        rows.append(row)
    table = pd.DataFrame(rows, columns=COLUMNS, dtype=object).fillna("-")
    print(
        f"Band {args.band} patients ({args.band_mode}), travel cap {args.cap:g} min, "
        f"oversize = {args.oversize}, contiguous = {args.contiguous}, "
        f"solver {args.solver}, time limit {args.time_limit:g} s per area.\n"
        "Travel times are straight-line estimates: no road network in ../shared/data covers "
        "these areas (Rutland's covers 1 of LLR's 3 CCGs, Cambridge's only the city).\n"
        "Minutes are to the hub site (PCNs: the member minimising patient-weighted travel); "
        "mean is patient-weighted; in band = share of hubs within the band.\n"
    )
    print(table.to_string(index=False))
    print("\nNotes (each once):")
    shown: set[str] = set()
    for name, lines in notes.items():
        for line in lines:
            if line not in shown and not line.startswith("left out 0 "):
                shown.add(line)
                print(f"- {name}: {line}")


if __name__ == "__main__":
    main()
