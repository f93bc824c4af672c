"""England in one command: every CCG of January 2021 with one set of rules.

    python benchmarks/england.py [--workers N] [--scheduler ADDRESS|local]
        [--areas CODES] [--time-limit S] [--out DIR] [--force] [--compare DIR]
        [--data ../shared/data]

Runs :func:`hubopt.batch.run_batch` over the NHS files in ``../shared/data/nhs`` (list
sizes 1 Jan 2021, ODS register, ePCN membership, postcode coordinates) with the
issue's rules: band 30,000-50,000 with ``band = "rural_exception"``, cap 30 minutes,
``contiguous = true``, lists under 1,000 left out, straight-line travel (no road
network in ../shared/data covers England; ``--network`` routes on one), CBC with one
thread per area. Default
engine: local processes; ``--scheduler local`` starts a Dask ``LocalCluster`` of
``--workers`` processes, ``--scheduler tcp://host:8786`` uses a running cluster.

Prints one line per area (status, gap, hubs, in band, seconds, today's PCNs measured
the same way, a fingerprint of the plan), peak memory (this process, and the largest
finished child: a worker with its CBC), the national figures (share of hubs in band
and contiguous, patient-weighted mean travel, areas weighted by patients) against
today's PCNs, and last ``areas N plans K proven P in_band_share S contiguous_share C
total_s T``. A rerun into the same ``--out`` keeps the areas already solved (restart an
interrupted run); ``--force`` solves them again. ``--compare DIR`` says which areas'
plans (``assignment.csv``) are identical to another run's. Figures, not tests.
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import sys
import time
from pathlib import Path

import pandas as pd

from hubopt import batch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_areas import ccg_names, list_size_ccgs  # noqa: E402  (CCG names, ONS boundaries)

HERE = Path(__file__).resolve().parent
RULES = {
    "population_min": 30_000,
    "population_max": 50_000,
    "band": "rural_exception",
    "travel_cap_minutes": 30,
    "contiguous": True,
}


def fingerprint(folder: Path) -> str:
    """A short hash of an area's plan: practice -> hub site, sorted."""
    path = folder / "assignment.csv"
    if not path.is_file():
        return "-"
    a = pd.read_csv(path, dtype=str).sort_values("practice_code")
    text = a[["practice_code", "hub_site_code"]].to_csv(index=False)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def _f(value: object, spec: str) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    return format(value, spec)


def _stops(value: object) -> str:
    """Repeatable runs: "work" when every step ended at its work limit or proof, else
    the steps the clock ended; "-" when the run was not repeatable."""
    if not isinstance(value, str):
        return "-"
    return "work" if value == "none" else value


def area_line(row: dict, out: Path) -> str:
    gap = 0.0 if row.get("status") == "optimal" else row.get("gap")
    text = (
        f"{row['area']:<8} {row.get('practices_in_file', 0):>5} "
        f"{_f(row.get('patients_in_file'), ',.0f'):>10} {str(row.get('status')):<14} "
        f"{_f(gap, '.2%'):>7} {_f(row.get('hubs'), '.0f'):>4} "
        f"{_f(row.get('in_band_share'), '.0%'):>5} {_f(row.get('contiguous_share'), '.0%'):>5} "
        f"{_f(row.get('mean_min'), '.1f'):>5} {_f(row.get('seconds'), '.0f'):>5} "
        f"{_f(row.get('PCN_hubs'), '.0f'):>4} {_f(row.get('PCN_in_band_share'), '.0%'):>5} "
        f"{_f(row.get('PCN_contiguous_share'), '.0%'):>5} {_f(row.get('PCN_mean_min'), '.1f'):>5} "
        f"{fingerprint(out / str(row.get('folder') or '-'))} {_stops(row.get('clock_stops'))}"
    )
    return f"{text}  {row['reason']}" if isinstance(row.get("reason"), str) else text


HEADER = (
    f"{'area':<8} {'pract':>5} {'patients':>10} {'status':<14} {'gap':>7} {'hubs':>4} "
    f"{'inb':>5} {'cont':>5} {'mean':>5} {'s':>5} {'PCNs':>4} {'Pinb':>5} {'Pcont':>5} "
    f"{'Pmean':>5} {'plan':<10} ended by"
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=1, help="areas solved at once")
    ap.add_argument("--scheduler", help="Dask scheduler address, or 'local' (LocalCluster)")
    ap.add_argument("--areas", help="comma-separated CCG codes (default: every CCG)")
    ap.add_argument("--time-limit", type=float, default=120.0, help="seconds per area")
    ap.add_argument("--out", type=Path, default=Path("out") / "england-benchmark")
    ap.add_argument("--force", action="store_true", help="solve every area again")
    ap.add_argument("--compare", type=Path, help="another run's --out: are the plans the same?")
    ap.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    ap.add_argument(
        "--network",
        type=Path,
        help="road minutes from this extract (or folder of extracts, or road store) "
        "instead of straight-line travel; areas it does not cover fall back and say so",
    )
    ap.add_argument(
        "--clock-only",
        action="store_true",
        help="not repeatable: wall-clock limits only (the code before [solver] repeatable)",
    )
    args = ap.parse_args()
    nhs_dir = args.data.resolve() / "nhs"
    missing = [f for f in batch.NHS_FILES.values() if not (nhs_dir / f).is_file()]
    if missing:
        print(f"Real NHS data not found in {nhs_dir} ({', '.join(missing)}); nothing to do.")
        return
    scenario = batch.nhs_scenario(
        nhs_dir,
        name="england",
        rules=RULES,
        area={"min_list_size": 1000},
        solver={
            "time_limit_seconds": args.time_limit,
            "threads": 1,
            "repeatable": not args.clock_only,
        },
        network=args.network,
    )
    codes = tuple(c.strip().upper() for c in (args.areas or "").split(",") if c.strip())
    options = batch.BatchOptions(
        level="ccg", codes=codes, workers=args.workers, scheduler=args.scheduler
    )
    engine = args.scheduler and f"Dask {args.scheduler}" or "local processes"
    print(
        f"Band 30,000-50,000 (rural_exception), cap 30 min, contiguous, lists under 1,000 "
        f"left out, as at {batch.NHS_AS_AT}, "
        f"{'road minutes on ' + str(args.network) if args.network else 'straight-line travel'}"
        f", CBC 1 thread, time limit "
        f"{args.time_limit:g} s per area; {args.workers} worker(s), {engine}; out {args.out}\n"
        "inb/cont = share of hubs in band / contiguous; mean = patient-weighted minutes to "
        "the hub site; P* = today's PCNs measured the same way; plan = fingerprint of "
        "practice -> hub site; ended by = 'work' where every step of a repeatable run ended "
        "at its work limit or proof, else the steps the clock ended.\n",
        flush=True,
    )
    print(HEADER, flush=True)
    start = time.perf_counter()
    res = batch.run_batch(
        scenario,
        options,
        out_dir=args.out,
        force=args.force,
        on_area=lambda row: print(area_line(row, args.out), flush=True),
        names=ccg_names(args.data.resolve(), list_size_ccgs(nhs_dir)),
    )
    total = time.perf_counter() - start
    for row in res.summary.to_dict("records"):
        if row.get("reused") is True or row["area"] == batch.NO_AREA:
            print(
                area_line(row, args.out) + "  (kept from an earlier run)" * bool(row.get("reused"))
            )
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    f = res.figures
    print(
        f"\nsolved now {len(res.solved)}, kept {len(res.reused)}; peak memory: this process "
        f"{me:.0f} MiB, largest finished child (worker or CBC) {kids:.0f} MiB; "
        f"index.html {res.index_bytes / 1e6:.2f} MB"
    )
    print(batch.lead_text(scenario, f))
    if args.compare is not None:
        same = [
            c
            for c in res.summary["folder"].dropna()
            if c and fingerprint(args.out / c) == fingerprint(args.compare / c) != "-"
        ]
        plans = int(res.summary["hubs"].notna().sum())
        print(f"plans identical to {args.compare}: {len(same)} of {plans} areas")
        differ = sorted(set(res.summary["folder"].dropna()) - set(same) - {""})
        if differ:
            print(f"differ: {', '.join(differ)}")
    stops = res.summary.get("clock_stops")
    if stops is not None:
        ended = stops.dropna()
        print(f"repeatable: {int((ended == 'none').sum())} of {len(ended)} areas ended by work "
              "limits or proofs alone")  # fmt: skip
    if args.network is not None:
        fell = ", ".join(f["fallback_areas"]) or "-"
        print(f"travel: road minutes in {f['road_areas']} areas, straight-line in "
              f"{f['straight_line_areas']} (fell back: {fell})")  # fmt: skip
    pct = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    print(
        f"areas {f['areas']} plans {f['plans']} proven {f['proven']} in_band_share "
        f"{pct(f['in_band_share'])} contiguous_share {pct(f['contiguous_share'])} "
        f"total_s {total:.0f}",
        flush=True,
    )
    sys.exit(0)


if __name__ == "__main__":
    main()
