"""The ``hubopt`` command line: a thin layer over :mod:`hubopt.pipeline`.

Library errors become one clear message and a non-zero exit; tracebacks only with
``--debug``. Logs go to stderr, results to files and a short summary to stdout.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from tqdm import tqdm

from hubopt import pipeline
from hubopt.errors import HuboptError, InputError
from hubopt.outputs import units
from hubopt.scenario import Scenario, load_scenario

log = logging.getLogger("hubopt")

REPO_DATA = Path(__file__).resolve().parent.parent / "data"
DEMO_SCENARIO = REPO_DATA / "demo" / "demo.toml"


def demo_scenario_path() -> Path:
    """Path of the embedded demo scenario (lives in the repository's data/ folder)."""
    if not DEMO_SCENARIO.is_file():
        raise InputError(
            "The demo data was not found.",
            [
                f"expected {DEMO_SCENARIO}; install hubopt from a clone with "
                '`pip install -e ".[dev]"` so the data/ folder is present'
            ],
        )
    return DEMO_SCENARIO


def _fail(exc: HuboptError) -> None:
    click.echo(f"Error: {exc}", err=True)
    sys.exit(exc.exit_code)


@contextmanager
def planner_errors(debug: bool) -> Iterator[None]:
    """Turn errors into one message and an exit code; tracebacks only with --debug."""
    try:
        yield
    except HuboptError as exc:
        if debug:
            raise
        _fail(exc)
    except Exception:
        if debug:
            raise
        click.echo(
            "Error: hubopt hit an unexpected problem. Run again with --debug for the "
            "full traceback and report it.",
            err=True,
        )
        sys.exit(70)


def run_options(f):
    """Options shared by ``run`` and ``demo``."""

    @click.option(
        "--out",
        "out_dir",
        type=click.Path(path_type=Path),
        help="Output folder [default: out/<scenario>].",
    )
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
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        return f(*args, **kwargs)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks.")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
@click.version_option(package_name="hubopt")
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
        changes = {k: v for k, v in overrides.items() if v not in (None, False)}
        if changes:
            scenario = scenario.replace(**changes)
        out = out_dir or Path("out") / scenario.name
        with progress_line() as progress:
            result = pipeline.run(
                scenario, out_dir=out, maps_dir=maps_dir, force=force, progress=progress
            )
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
        f"Scenario {s['scenario']}: {s['practices']} practices, {s['patients']:,} patients",
        f"Status: {s['status_text']}",
        f"Hubs: {s['hubs']} ({s['hubs_in_band']} within "
        f"{result.scenario.population_min:,}-{result.scenario.population_max:,}), "
        f"population {s['population_min']:,} to {s['population_max']:,}",
        f"Travel to hub site: worst {w(s['worst_minutes'])}, patient-weighted mean "
        f"{w(s['mean_minutes'])}, cap {result.scenario.travel_cap_minutes:g} min",
        f"Checks: {result.checks.summary()}",
        "Seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in s["seconds"].items()),
    ]
    if result.comparison is not None:
        lines += ["", "Proposal vs current grouping:", result.comparison.to_string(), ""]
    lines += [f"Note: {n}" for n in s["notes"]]
    lines += ["Wrote:"] + [f"  {p}" for p in result.files]
    return "\n".join(lines)


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
    """Run the embedded demo area (same as `hubopt run data/demo/demo.toml`)."""
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
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    help="Output folder [default: out/<scenario>-evaluation].",
)
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
@click.pass_context
def evaluate_cmd(ctx, scenario_file, groupings, out_dir, force):
    """Score today's grouping (and any --grouping) with the proposal's measures."""
    with planner_errors(ctx.obj["debug"]):
        scenario = load_scenario(scenario_file)
        named = {p.parent.name if p.name == "assignment.csv" else p.stem: p for p in groupings}
        out = out_dir or Path("out") / f"{scenario.name}-evaluation"
        res = pipeline.evaluate_groupings(scenario, groupings=named, out_dir=out, force=force)
    lines = [f"Scenario {scenario.name}: {len(next(iter(res.scored.values()))[0])} practices"]
    lines += [res.comparison.to_string(), ""]
    lines += [f"Note: {n}" for n in res.notes]
    lines += ["Wrote:"] + [f"  {p}" for p in res.files]
    click.echo("\n".join(lines))


__all__ = ["main", "Scenario"]
