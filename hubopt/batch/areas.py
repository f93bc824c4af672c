"""Split one national read of the practices into areas, one set of rules for all.

Each practice belongs to exactly one area: its CCG / sub-ICB location code (the
list-size file's ``CCG_CODE``, column ``ccg_code``) or its ICB code (``icb_code``).
Practices with no code are kept as an area of their own that is reported, never
solved, so the national totals still add up to the input's.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

import hubopt
from hubopt import inputs
from hubopt.batch import engine
from hubopt.errors import InputError
from hubopt.inputs import load
from hubopt.roads import store
from hubopt.scenario import Scenario, read_toml, scenario_from_dict

#: area level -> the practices column that names each practice's area
LEVELS = {"ccg": "ccg_code", "icb": "icb_code"}
#: The NHS files as published, by their usual names in one folder (``--nhs-dir``):
#: list sizes 1 Jan 2021, ODS register, ePCN membership, postcode coordinates.
NHS_FILES = {
    "list_sizes": "gp-reg-pat-prac-all_2021-01.csv",
    "register": "epraccur_late2021.csv",
    "pcn_membership": "ePCN_2022-02-16_CorePartnerDetails.csv",
    "postcodes": "practice_postcodes_latlon.csv",
}
#: the date the files above describe (PCN membership, open or closed)
NHS_AS_AT = "2021-01-01"
#: the area of practices with no code at the chosen level, and its status
NO_AREA = "(none)"
NO_AREA_STATUS = "no area"


@dataclass(frozen=True)
class BatchOptions:
    """The ``[batch]`` section: which areas, and how they run.

    Attributes
    ----------
    level
        ``"ccg"`` (CCG / sub-ICB location) or ``"icb"``.
    codes
        Only these areas (every area of the level when empty); ``"A+B"`` joins two
        codes into one area.
    workers
        Areas solved at once (local processes, or Dask workers of a local cluster).
    scheduler
        A Dask scheduler address (``tcp://host:8786``), ``"local"`` for a Dask
        ``LocalCluster`` of ``workers`` processes, or None for local processes.
    retries
        How many times an area whose worker died is started again.
    """

    level: str = "ccg"
    codes: tuple[str, ...] = ()
    workers: int = 1
    scheduler: str | None = None
    retries: int = 2

    def __post_init__(self) -> None:
        problems = []
        if self.level not in LEVELS:
            problems.append(f"[batch] level = {self.level!r}; use one of {', '.join(LEVELS)}")
        if self.workers < 1:
            problems.append(f"[batch] workers = {self.workers}; give 1 or more")
        if self.retries < 0:
            problems.append(f"[batch] retries = {self.retries}; give 0 or more")
        if problems:
            raise InputError("The batch settings have problems:", problems)


_BATCH_KEYS = {"level": str, "codes": list, "workers": int, "scheduler": str, "retries": int}


def batch_options(raw: dict[str, Any], where: str = "[batch]") -> BatchOptions:
    """:class:`BatchOptions` from a ``[batch]`` table, every bad key named."""
    problems = []
    for key, value in raw.items():
        kind = _BATCH_KEYS.get(key)
        if kind is None:
            problems.append(f"{where}: unknown key '{key}'; known: {', '.join(_BATCH_KEYS)}")
        elif not isinstance(value, kind) or isinstance(value, bool):
            problems.append(f"{where}: {key} = {value!r} should be {kind.__name__}")
    if problems:
        raise InputError("The batch settings have problems:", problems)
    values = dict(raw)
    if "codes" in values:
        values["codes"] = tuple(str(c).strip().upper() for c in values["codes"])
    return BatchOptions(**values)


def load_batch(path: str | Path) -> tuple[Scenario, BatchOptions]:
    """Read a batch scenario: a scenario file with a ``[batch]`` section."""
    path = Path(path)
    raw = read_toml(path)
    options = batch_options(raw.pop("batch", {}), where=f"{path} [batch]")
    return scenario_from_dict(raw, base_dir=path.parent, where=str(path)), options


def nhs_scenario(
    nhs_dir: str | Path,
    *,
    name: str,
    rules: dict[str, Any] | None = None,
    area: dict[str, Any] | None = None,
    solver: dict[str, Any] | None = None,
    description: str = "",
    network: str | Path | None = None,
) -> Scenario:
    """A scenario over the NHS files of :data:`NHS_FILES` in ``nhs_dir``, compared with
    today's PCNs, repeatable (``[solver] repeatable``: the same plans from one worker or
    many) unless ``solver`` says otherwise; road minutes on ``network`` (an extract of
    a region or England, or a folder of county extracts), each area the network does
    not cover on straight-line travel (and saying so), or straight-line travel
    everywhere without one."""
    raw = {
        "scenario": {"name": name, "description": description},
        "inputs": {**NHS_FILES, "current": "pcn"},
        "area": {"as_at": NHS_AS_AT, **(area or {})},
        "rules": dict(rules or {}),
        "solver": {"repeatable": True, **(solver or {})},
        "network": {"kind": "straight_line"},
    }
    if network is not None:
        raw["inputs"]["network"] = str(Path(network).resolve())
        raw["network"] = {"kind": "road", "fallback": "straight_line"}
    return scenario_from_dict(raw, base_dir=nhs_dir, where=f"{name} ({nhs_dir})")


@dataclass
class BatchArea:
    """One area of a batch: its scenario and selected inputs (None when it could not
    be chosen: ``error`` says why), and what the input file holds for it."""

    code: str
    scenario: Scenario
    inputs: load.Inputs | None
    practices_in_file: int
    patients_in_file: int
    name: str = ""
    error: str | None = None
    key: str = ""
    left_out: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def folder(self) -> str:
        """The area's folder name under the batch output folder."""
        return self.code.replace("+", "_")


def area_codes(practices: pd.DataFrame, level: str) -> pd.Series:
    """Practice code -> the code of its area at ``level`` (``""`` where it has none)."""
    column = LEVELS[level]
    if column not in practices.columns:
        raise InputError(
            f"The practices have no {column} column to split them into {level} areas.",
            [
                f"add a {column} column to the practices table, or use the NHS list-size "
                "file ([inputs] list_sizes), whose CCG_CODE gives every practice's area"
            ],
        )
    return _codes(practices[column])


def _codes(column: pd.Series) -> pd.Series:
    return column.fillna("").astype(str).str.strip().str.upper()


def input_rows(table: inputs.PracticeTable, level: str) -> pd.DataFrame:
    """Every practice row of the input, usable or left out for problems, with its
    ``area`` code at ``level`` (``""`` where it has none), ``name``, ``patients``
    (``<NA>`` where the list size is unusable) and ``problem`` (``""`` when usable):
    what the national totals add up to."""
    p, r = table.practices, table.rejects
    codes = area_codes(p, level)
    blank = pd.Series("", index=r.index, dtype=object)
    usable = pd.DataFrame(
        {
            "practice_code": p.index.to_numpy(),
            "name": p["name"].to_numpy(),
            "patients": p["list_size"].to_numpy(),
            "area": codes.to_numpy(),
            "problem": "",
        }
    )
    rejected = pd.DataFrame(
        {
            "practice_code": r["practice_code"].to_numpy(),
            "name": r["name"].to_numpy(),
            "patients": r["patients"].to_numpy(),
            "area": _codes(r.get(LEVELS[level], blank)).to_numpy(),
            "problem": r["reason"].to_numpy(),
        }
    )
    both = pd.concat([usable, rejected], ignore_index=True) if len(r) else usable
    both["patients"] = pd.to_numeric(both["patients"], errors="coerce").astype("Int64")
    return both


def _groups(codes: pd.Series, wanted: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The areas to run: every code present, or the ``wanted`` ones (``A+B`` joined);
    a code in two areas or absent from the data is refused."""
    present = sorted(set(codes) - {""})
    if not wanted:
        return [(c,) for c in present]
    groups = [tuple(p.strip() for p in w.split("+") if p.strip()) for w in wanted]
    flat = [c for g in groups for c in g]
    problems = [
        f"[batch] codes (--codes): {c} is not in the data" for c in sorted(set(flat) - set(present))
    ]
    problems += [
        f"[batch] codes (--codes): {c} is in more than one area; each practice belongs to one area"
        for c in sorted({c for c in flat if flat.count(c) > 1})
    ]
    if problems:
        raise InputError("The batch's areas have problems:", problems)
    return list(dict.fromkeys(groups))


def _name(practices: pd.DataFrame, level: str) -> str:
    column = f"{level}_name"
    if column in practices.columns and len(practices):
        return str(practices[column].iloc[0])
    return ""


def split_areas(
    table: inputs.PracticeTable,
    base: Scenario,
    options: BatchOptions,
    *,
    boundary: gpd.GeoDataFrame | None = None,
) -> list[BatchArea]:
    """One :class:`BatchArea` per area of ``options.level`` (or per ``options.codes``), each
    with the base rules and its own practices, as :func:`hubopt.inputs.load.load_inputs`
    would choose them for ``[area] ccg = [code]``; with every area, practices with no
    code come last as the area :data:`NO_AREA` (reported, not solved)."""
    practices = table.practices
    rows = input_rows(table, options.level)
    codes = area_codes(practices, options.level)
    groups = _groups(rows["area"], options.codes)
    areas = []
    for group in groups:
        code = "+".join(group)
        members = rows[rows["area"].isin(group)]
        choose: dict[str, Any] = {"ccg": (), "icb": (), options.level: group}
        scenario = base.replace(name=f"{base.name}-{code}", practice_codes=(), **choose)
        area = BatchArea(
            code,
            scenario,
            None,
            len(members),
            int(members["patients"].sum()),
            name=_name(practices[codes.isin(group)], options.level),
        )
        try:
            area.inputs = load.inputs_for_area(table, scenario, boundary=boundary)
            area.left_out = area.inputs.rejects
            area.key = content_key(scenario, area.inputs)
        except InputError as exc:
            area.error = engine.reason(exc)
        areas.append(area)
    orphans = rows[rows["area"].eq("")]
    if not options.codes and len(orphans):
        listed = ", ".join(
            f"{c or 'a row with no code'} ({_patients(n)})"
            for c, n in zip(orphans["practice_code"], orphans["patients"], strict=True)
        )
        areas.append(
            BatchArea(
                NO_AREA,
                base,
                None,
                len(orphans),
                int(orphans["patients"].sum()),
                error=f"no {LEVELS[options.level]} in the input, so in no area: {listed}",
            )
        )
    return areas


def _patients(n: Any) -> str:
    return "list size unusable" if pd.isna(n) else f"{int(n):,} patients"


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def content_key(scenario: Scenario, area_inputs: load.Inputs) -> str:
    """A content hash of an area's input rows (practices, today's grouping) and its
    scenario (every rule and setting) and hubopt's version: a rerun with the same key
    has nothing new to solve."""
    h = hashlib.sha256()
    fields = {
        f.name: _plain(getattr(scenario, f.name))
        for f in dataclasses.fields(scenario)
        # where the scenario came from, and whether rows with problems are left out
        # (the rows kept are hashed below), change no plan
        if f.name not in ("source", "drop_invalid")
    }
    h.update(json.dumps(fields, sort_keys=True, default=str).encode())
    h.update(hubopt.__version__.encode())
    if scenario.network is not None:  # a road store: the extract and speeds it was made from
        key = store.store_key_of(scenario.network)
        h.update((key or "").encode())
    rows = pd.DataFrame(area_inputs.practices.drop(columns="geometry"))
    h.update(rows.sort_index().to_csv().encode())
    if area_inputs.current is not None:
        h.update(area_inputs.current.sort_index().to_csv().encode())
    return h.hexdigest()
