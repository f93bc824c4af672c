"""hubopt: propose how GP practices group into hubs of a target population.

One subpackage per stage, imports running one way only (down this list; the
import-linter contracts in ``pyproject.toml`` check it in CI)::

    cli, whatif          the app layer: commands and what-ifs
    batch/               every area at once, one set of rules
    pipeline, onboard    runs the stages in order for a Scenario; ``hubopt init``'s scenario file
    outputs/             tables, comparison, catchments, GIS layers, map, report
    solver/              solving a built model: CBC/HiGHS, stages, bounds, heuristics
    model/               the integer program, exemptions, neighbours, diagnosis, checks
    roads/               OSM reading, speeds, routing, the travel-time matrix (the seam)
    inputs/              practices, sites, boundary, NHS files, area selection, loading
    scenario, errors     parameters and errors, used by every stage

The modules of the flat layout before 0.2 (``hubopt.matrix``, ``hubopt.load``,
``hubopt.evaluate``, ...) still resolve as attributes, so ``from hubopt import matrix``
keeps working.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from hubopt.data import demo_scenario_path
from hubopt.errors import (
    HuboptError,
    InfeasibleError,
    InputError,
    NetworkError,
    OutputExistsError,
    SolverError,
)
from hubopt.scenario import Scenario, load_scenario

#: The version: the one place it is written (``pyproject.toml`` reads it from here);
#: ``hubopt --version``, every report, ``summary.json`` and the matrix metadata show it.
__version__ = "0.2.0"

#: Where the modules of the flat layout live now (``from hubopt import matrix``).
_MOVED = {
    "osm_io": "hubopt.roads.osm",
    "network": "hubopt.roads.network",
    "speeds": "hubopt.roads.speeds",
    "matrix": "hubopt.roads.matrix",
    "nhs": "hubopt.inputs.nhs",
    "area": "hubopt.inputs.area",
    "load": "hubopt.inputs.load",
    "adjacency": "hubopt.model.adjacency",
    "diagnose": "hubopt.model.diagnose",
    "check": "hubopt.model.check",
    "solve": "hubopt.solver",
    "stages": "hubopt.solver.stages",
    "lagrange": "hubopt.solver.bounds",
    "reduce": "hubopt.solver.bounds",
    "report": "hubopt.outputs.tables",
    "evaluate": "hubopt.outputs.evaluate",
    "catchments": "hubopt.outputs.catchments",
    "colours": "hubopt.outputs.colours",
    "maps": "hubopt.outputs.maps",
    "html_report": "hubopt.outputs.report",
    "screenshot": "hubopt.outputs.screenshot",
}


def __getattr__(name: str) -> ModuleType:
    if name in _MOVED:
        return importlib.import_module(_MOVED[name])
    raise AttributeError(f"module 'hubopt' has no attribute {name!r}")


__all__ = [
    "HuboptError",
    "InfeasibleError",
    "InputError",
    "NetworkError",
    "OutputExistsError",
    "Scenario",
    "SolverError",
    "demo_scenario_path",
    "load_scenario",
]
