"""The ``hubopt`` command line: a thin layer over :mod:`hubopt.pipeline`.

Library errors become one clear message and a non-zero exit; tracebacks only with
``--debug``. Logs go to stderr, results to files and a short summary to stdout.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from tqdm import tqdm

from hubopt import __version__, batch, onboard, paths, pipeline
from hubopt.data import demo_scenario_path
from hubopt.errors import HuboptError, InputError
from hubopt.inputs.area import left_out_lines
from hubopt.outputs import evaluate, units
from hubopt.outputs.choices import choices_lines
from hubopt.scenario import BAND_MODES, Scenario, load_scenario
from hubopt.text import plural

log = logging.getLogger("hubopt")

#: what the command says when Ctrl-C stopped it (exit 130), and on a bug (exit 70)
STOPPED = (
    "Stopped (Ctrl-C). Nothing half-written is kept as finished: a batch keeps the areas "
    "already done, and the same command picks up from there."
)
UNEXPECTED = (
    "Error: hubopt hit an unexpected problem. Run again with --debug for the full "
    "traceback and report it."
)


def _exit(text: str, code: int) -> None:
    click.echo(text, err=True)
    sys.exit(code)


@contextmanager
def _ctrl_c_seen() -> Iterator[list[bool]]:
    """Note a Ctrl-C (then raise KeyboardInterrupt as Python does): a reader may turn
    the interrupt into an error of its own (pandas' CSV parser says the read failed),
    which is still the planner's Ctrl-C."""
    seen: list[bool] = []

    def on_ctrl_c(signum, frame):
        seen.append(True)
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGINT, on_ctrl_c)
    except ValueError:  # not the main thread: nothing to note
        yield seen
        return
    try:
        yield seen
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def planner_errors(debug: bool) -> Iterator[None]:
    """Turn errors into one message and an exit code; tracebacks only with --debug."""
    with _ctrl_c_seen() as ctrl_c:
        try:
            yield
        except KeyboardInterrupt:
            if debug:
                raise
            _exit(STOPPED, 130)
        except Exception as exc:
            if debug:
                raise
            if ctrl_c:
                _exit(STOPPED, 130)
            if isinstance(exc, HuboptError):
                _exit(f"Error: {exc}", exc.exit_code)
            _exit(UNEXPECTED, 70)


def out_option(default: str):
    """The ``--out`` option of a command, with the folder it defaults to."""
    return click.option(
        "--out",
        "out_dir",
        type=click.Path(path_type=Path),
        help=f"Output folder [default: {default}].",
    )


def run_options(f):
    """Options shared by ``run`` and ``demo``."""

    @out_option("out/<scenario>")
    @click.option(
        "--maps-dir",
        type=click.Path(path_type=Path),
        default=Path("maps"),
        show_default=True,
        help="Folder that also receives <scenario>.html.",
    )
    @click.option("--force", is_flag=True, help="Overwrite existing output files.")
    @click.option(
        "--drop-invalid",
        is_flag=True,
        default=None,
        help="Leave out practices with problems (listed in rejects.csv) instead of stopping.",
    )
    @click.option(
        "--cap", "travel_cap_minutes", type=float, help="Override the travel cap (road minutes)."
    )
    @click.option("--min-pop", "population_min", type=int, help="Override the band's lower limit.")
    @click.option("--max-pop", "population_max", type=int, help="Override the band's upper limit.")
    @click.option(
        "--time-limit", "time_limit_seconds", type=float, help="Override the solver time limit (s)."
    )
    @click.option(
        "--heuristic-only",
        is_flag=True,
        default=None,
        help="Quick look: the first plan and the neighbourhood search, no whole model "
        "(the gap is then unknown).",
    )
    @click.option(
        "--repeatable",
        is_flag=True,
        default=None,
        help="Fixed amounts of work besides the time limit: the same plan on any machine "
        "([solver] repeatable).",
    )
    @click.option(
        "--alternatives",
        type=click.IntRange(min=0),
        help="Also find up to K alternative plans near the best ([output] alternatives).",
    )
    @click.option(
        "--rule-prices",
        is_flag=True,
        default=None,
        help="Also re-solve with each rule relaxed to say what it costs ([output] rule_prices).",
    )
    @click.option(
        "--keep",
        type=click.Path(path_type=Path, dir_okay=False),
        help="A plan edited on the map (Download plan): hold the reviewer's changed hubs "
        "(locked groups, sites fixed), optimise the rest, and compare proposal, edit and "
        "re-solved plan in the report. Writes <scenario>-kept.",
    )
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        return f(*args, **kwargs)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks.")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
@click.version_option(version=__version__, prog_name="hubopt")
@click.pass_context
def main(ctx: click.Context, debug: bool, verbose: int, quiet: bool) -> None:
    """hubopt: propose how GP practices group into hubs of a target population."""
    level = (
        logging.ERROR if quiet else [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    )
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    ctx.obj = {"debug": debug, "quiet": quiet}


def _execute(
    ctx: click.Context, scenario_path: Path, out_dir, maps_dir, force, **overrides
) -> None:
    with planner_errors(ctx.obj["debug"]):
        scenario = load_scenario(scenario_path)
        # only what was given on the command line (an unset flag is not "false")
        keep = overrides.pop("keep", None)
        changes = {k: v for k, v in overrides.items() if v is not None and v is not False}
        if keep is not None:  # the re-solve goes beside the proposal, not over it
            changes["name"] = f"{scenario.name}-kept"
        if changes:
            scenario = scenario.replace(**changes)
        out = out_dir or Path("out") / scenario.name
        with progress_line() as progress:
            result = pipeline.run(
                scenario, out_dir=out, maps_dir=maps_dir, force=force, progress=progress,
                keep=keep,
            )  # fmt: skip
    click.echo(format_summary(result))


@contextmanager
def progress_line() -> Iterator[Callable[[str], None]]:
    """One line on stderr that the solver's progress rewrites (best plan, bound, gap),
    on a terminal; each line also goes to the log (shown with ``-v``)."""
    bar = tqdm(total=0, bar_format="{desc}", file=sys.stderr, disable=not sys.stderr.isatty())

    def show(text: str) -> None:
        log.info(text)
        bar.set_description_str(f"solver: {text}")

    try:
        yield show
    finally:
        bar.close()


def format_summary(result: pipeline.RunResult) -> str:
    s = result.summary()
    w = units.minutes_of(result.matrix)
    lines = [
        f"Scenario {s['scenario']}: {plural(s['practices'], 'practice')}, "
        f"{s['patients']:,} patients",
        f"Status: {s['status_text']}",
        f"Hubs: {s['hubs']} ({s['hubs_in_band']} within "
        f"{result.scenario.population_min:,}-{result.scenario.population_max:,}), "
        f"population {s['population_min']:,} to {s['population_max']:,}",
        f"Travel to hub site: worst {w(s['worst_minutes'])}, patient-weighted mean "
        f"{w(s['mean_minutes'])}, cap {result.scenario.travel_cap_minutes:g} min",
        f"Checks: {result.checks.summary()}",
        "Seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in s["seconds"].items()),
    ]
    if result.choices is not None:
        lines += choices_lines(result.choices)
    if result.comparison is not None:
        lines += ["", "Proposal vs current grouping:", result.comparison.to_string(), ""]
    if result.review is not None:
        lines += review_lines(result.review)
    lines += [f"Note: {n}" for n in s["notes"]]
    lines += ["Wrote:"] + [f"  {p}" for p in result.files]
    return "\n".join(lines)


def review_lines(review) -> list[str]:
    """The reviewer's edit, the proposal and the re-solved plan side by side, with what
    the edit costs."""
    lines = [
        "",
        f"Reviewer's edit ({review.source.name}): {plural(len(review.kept), 'hub')} held, "
        "the rest re-solved:",
        review.comparison.to_string(),
    ]
    if "proposal" in review.scored:
        for name in ("reviewer's edit", "re-solved"):
            extra, share = review.cost(name)
            lines.append(f"Cost of the edit ({name}): {extra:+,.0f} patient-minutes ({share:+.1%})")
    for name, failures in review.failures.items():
        lines += [f"Breach ({name}): {f}" for f in failures]
    return lines + [""]


@main.command("run")
@click.argument("scenario_file", type=click.Path(path_type=Path))
@run_options
@click.pass_context
def run_cmd(ctx, scenario_file, **kwargs):
    """Propose hubs for the area and rules in SCENARIO_FILE (TOML)."""
    _execute(ctx, scenario_file, **kwargs)


@main.command("demo")
@run_options
@click.pass_context
def demo_cmd(ctx, **kwargs):
    """Run the demo area shipped with hubopt (Demoshire: 52 practices, a road network)."""
    with planner_errors(ctx.obj["debug"]):
        path = demo_scenario_path()
    _execute(ctx, path, **kwargs)


@main.command("evaluate")
@click.argument("scenario_file", type=click.Path(path_type=Path))
@click.option(
    "--grouping",
    "groupings",
    multiple=True,
    type=click.Path(path_type=Path),
    help="A grouping CSV to score (practice_code + group_id/hub_id/pcn_code), e.g. a "
    "proposal's assignment.csv. Repeat for several.",
)
@out_option("out/<scenario>-evaluation")
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
@click.pass_context
def evaluate_cmd(ctx, scenario_file, groupings, out_dir, force):
    """Score today's grouping (and any --grouping) with the proposal's measures."""
    with planner_errors(ctx.obj["debug"]):
        scenario = load_scenario(scenario_file)
        named = {p.parent.name if p.name == "assignment.csv" else p.stem: p for p in groupings}
        out = out_dir or Path("out") / f"{scenario.name}-evaluation"
        res = pipeline.evaluate_groupings(scenario, groupings=named, out_dir=out, force=force)
    practices = len(next(iter(res.scored.values()))[0])
    lines = [f"Scenario {scenario.name}: {plural(practices, 'practice')}"]
    lines += [res.comparison.to_string(), ""]
    for name, report in res.checks.items():
        lines.append(f"Checks ({name}): {report.summary()}")
        lines += [f"  - {f}" for f in report.failures]
    lines += [f"Note: {n}" for n in res.notes]
    lines += ["Wrote:"] + [f"  {p}" for p in res.files]
    click.echo("\n".join(lines))


@main.command("init")
@click.argument("area")
@click.option(
    "--nhs-dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder with the NHS files as downloaded (gp-reg-pat-prac-all, epraccur, ePCN, "
    "a postcode lookup such as ONSPD).",
)
@click.option(
    "--boundaries",
    type=click.Path(path_type=Path),
    help="Folder of ONS outlines (CCG / sub-ICB, ICB, local authority): the area's "
    "outline goes into the scenario.",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path),
    help="Scenario file to write [default: <code>-<name>.toml].",
)
@click.option(
    "--network",
    type=click.Path(path_type=Path),
    help="Road network for road minutes: the OpenStreetMap extract (.osm.pbf) of the "
    "county, a region or England, or a folder of them [default: straight-line estimate].",
)
@click.option("--force", is_flag=True, help="Overwrite an existing scenario file.")
@click.pass_context
def init_cmd(ctx, area, nhs_dir, boundaries, out, network, force):
    """Write a scenario for AREA (a CCG, sub-ICB location, ICB or local-authority code,
    or part of a name) from the NHS files in --nhs-dir, and say what it holds."""
    with planner_errors(ctx.obj["debug"]):
        done = onboard.init_area(
            area, nhs_dir, out=out, boundaries=boundaries, force=force, network=network
        )
        click.echo(format_onboarding(done))


def format_onboarding(done: onboard.Onboarding) -> str:
    """What ``hubopt init`` found, in a planner's words, ending with the run command."""
    plan, loaded = done.plan, done.inputs
    p = loaded.practices
    lines = [f"NHS files in {plan.files['list_sizes'].parent}:"]
    for key, path in plan.files.items():
        when = loaded.published.get(key, "date not known")
        lines.append(f"  {key.replace('_', ' '):<15} {path.name}: {when}")
        lines += [f"  {'':<15} not used (older): {o.name}" for o in done.passed_over.get(key, [])]
    lines += ["", f"Area: {plan.area}", f"As at: {plan.as_at} (the list sizes' extract date)"]
    lines.append(f"Practices: {len(p)}, {int(p['list_size'].sum()):,} patients")
    if loaded.current is not None:
        band = (done.scenario.population_min, done.scenario.population_max)
        pcns = evaluate.population_summary(loaded.current["group_id"], p["list_size"], band=band)
        # no PCN at all (an ePCN file without rows for the area): none in band
        in_band = round(pcns["share_in_band"] * pcns["groups"]) if pcns["groups"] else 0
        lines.append(
            f"Today's PCNs: {pcns['groups']}, {in_band} of them within {band[0]:,}-{band[1]:,} "
            f"patients; {plural(int(pcns['practices_ungrouped']), 'practice')} in no PCN"
        )
    out = loaded.rejects
    if len(out):
        lines.append(
            f"Left out: {plural(len(out), 'practice')}, {int(out['patients'].sum()):,} patients:"
        )
        lines += [f"  - {line}" for line in left_out_lines(out)]
    else:
        lines.append("Left out: none")
    lines += [f"Note: {n}" for n in loaded.notes if n.startswith("kept ")]
    lines += [f"Note: {n}" for n in plan.notes]
    lines += ["", "Wrote:"] + [f"  {w}" for w in done.written]
    if plan.network is None:
        lines.append(
            "Travel is a straight-line estimate until you add a road network (see the file's "
            "[inputs] comments)."
        )
    else:
        lines.append(
            f"Travel: road minutes on {plan.network.name}, read once into a road store beside "
            "it on the first run (a few minutes for all of England), then re-used."
        )
    lines += [
        "",
        "Next:",
        f"  hubopt run {done.scenario_path}",
    ]
    return "\n".join(lines)


def _area_line(row: dict) -> str:
    """One line per area as it finishes (stderr)."""
    if row.get("hubs") is None or row.get("hubs") != row.get("hubs"):
        return f"{row['area']}: {row.get('status')} - {row.get('reason')}"
    gap = "proven optimal" if row["status"] == "optimal" else f"gap {row.get('gap') or 0:.2%}"
    return (
        f"{row['area']}: {plural(row['practices'], 'practice')}, {row['patients']:,} patients "
        f"-> {plural(row['hubs'], 'hub')} ({row['hubs_in_band']} in band), {row['status']}, {gap}, "
        f"{row.get('seconds', 0):.0f} s"
    )


@main.command("batch")
@click.argument("scenario_file", required=False, type=click.Path(path_type=Path))
@click.option(
    "--by",
    "level",
    type=click.Choice(list(batch.LEVELS)),
    help="Area level: CCG / sub-ICB location or ICB [default: the file's [batch] level, else ccg].",
)
@click.option("--codes", help="Only these areas, comma-separated; A+B joins two into one.")
@click.option(
    "--nhs-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder of the NHS files as published ("
    + ", ".join(batch.NHS_FILES.values())
    + "), instead of SCENARIO_FILE: rules from the options, today's PCNs as current, "
    "straight-line travel (or --network).",
)
@click.option(
    "--network",
    type=click.Path(path_type=Path, exists=True),
    help="Road minutes for every area from one extract of a region or England "
    "(.osm.pbf), or a folder of county extracts: read once into a road store beside it "
    "(re-used by later runs), each area routed on its part; an area it does not cover "
    "gets straight-line minutes and says so [default: the file's network, else "
    "straight-line travel].",
)
@out_option("out/<scenario>-batch")
@click.option("--workers", type=int, help="Areas solved at once [default: [batch] workers, 1].")
@click.option(
    "--scheduler",
    help="Dask scheduler address (tcp://host:8786), or 'local' for a Dask LocalCluster of "
    '--workers processes [default: local processes, no Dask]. Needs pip install -e ".[dask]".',
)
@click.option("--force", is_flag=True, help="Solve every area again, replacing its results.")
@click.option("--cap", "travel_cap_minutes", type=float, help="Travel cap (minutes).")
@click.option("--min-pop", "population_min", type=int, help="The band's lower limit.")
@click.option("--max-pop", "population_max", type=int, help="The band's upper limit.")
@click.option("--band-mode", "band", type=click.Choice(BAND_MODES), help="Band rule.")
@click.option("--contiguous/--no-contiguous", default=None, help="One connected area per hub.")
@click.option("--min-list-size", type=int, help="Leave out smaller lists.")
@click.option(
    "--drop-invalid",
    is_flag=True,
    default=None,
    help="Leave out (and name in left_out.csv) practices whose rows have problems, instead "
    "of failing their area.",
)
@click.option(
    "--time-limit", "time_limit_seconds", type=float, help="Solver time limit per area (s)."
)
@click.option(
    "--repeatable/--no-repeatable",
    default=None,
    help="Fixed amounts of work besides the time limit, so that any number of workers "
    "gives the same plans [default: on with --nhs-dir, else the file's [solver] repeatable].",
)
@click.pass_context
def batch_cmd(ctx, scenario_file, level, codes, nhs_dir, network, out_dir, workers, scheduler,
              force, **overrides):  # fmt: skip
    """Propose hubs for every area (CCG / sub-ICB or ICB) with one set of rules.

    SCENARIO_FILE is a scenario with a [batch] section (level, codes, workers,
    scheduler, retries); or give --nhs-dir. Each area's results go to its own folder as
    soon as it is done; a rerun skips areas already solved with the same inputs and
    rules. Writes summary.csv, left_out.csv, england.gpkg, england.geojson and an
    offline index.html. Exit 0 when every area has a plan, 1 when some have none.
    """
    with planner_errors(ctx.obj["debug"]):
        if (scenario_file is None) == (nhs_dir is None):
            raise InputError(
                "Give a batch scenario file or --nhs-dir (one of them).",
                ["e.g. hubopt batch england.toml, or hubopt batch --by ccg --nhs-dir data/nhs"],
            )
        if scenario_file is not None:
            scenario, options = batch.load_batch(scenario_file)
        else:
            paths.check_input_folders([(nhs_dir, "--nhs-dir")])
            scenario = batch.nhs_scenario(nhs_dir, name="england", network=network)
            options = batch.BatchOptions()
        changes = {k: v for k, v in overrides.items() if v is not None}
        if network is not None and scenario_file is not None:
            changes |= {"network": network.resolve(), "network_kind": "road", "matrix": None,
                        "network_fallback": "straight_line"}  # fmt: skip
        if changes:
            scenario = scenario.replace(**changes)
        given = {
            "level": level,
            "workers": workers,
            "scheduler": scheduler,
            "codes": None
            if codes is None
            else tuple(c.strip().upper() for c in codes.split(",") if c.strip()),
        }
        options = dataclasses.replace(options, **{k: v for k, v in given.items() if v is not None})
        out = out_dir or Path("out") / f"{scenario.name}-batch"
        quiet = ctx.obj["quiet"]
        res = batch.run_batch(
            scenario, options, out_dir=out, force=force, progress=not quiet,
            on_area=None if quiet else lambda row: tqdm.write(_area_line(row), file=sys.stderr),
        )  # fmt: skip
        f = res.figures
        lines = [batch.lead_text(scenario, f)]
        if res.reused:
            lines.append(
                f"Kept {plural(len(res.reused), 'area')} solved earlier with the same inputs "
                "and rules (--force solves them again)."
            )
        lines += ["Wrote:"] + [f"  {p}" for p in res.files]
        lines.append(
            f"index.html is {res.index_bytes / 1e6:.1f} MB (national map simplified, "
            "each area linked to its own map and report)."
        )
        click.echo("\n".join(lines))
        missing = res.summary[res.summary["hubs"].isna()]
        if len(missing):
            why = zip(missing["area"], missing["reason"], strict=True)
            click.echo(
                f"Error: {len(missing)} of {len(res.summary)} areas have no plan: "
                + "; ".join(f"{a} ({r})" for a, r in why)
                + f". See {out / 'summary.csv'} and left_out.csv.",
                err=True,
            )
            sys.exit(1)


__all__ = ["main", "Scenario"]
