"""hubopt as a package: one version, the data every command reads shipped as package
data (read through importlib.resources, never from the clone's layout), typed, and the
list of modules exempt from the type check's stricter rules only ever shrinking.

The wheel itself is built, installed in a clean environment away from the clone and
run by ``.ci/check-wheel`` (in ``.ci/run``)."""

from __future__ import annotations

import tomllib
from importlib import resources

import hubopt
from hubopt.data import demo_scenario_path
from hubopt.scenario import load_scenario
from tests.conftest import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())

#: Modules that may still have untyped definitions: this list may only shrink.
UNTYPED_ALLOWED = {
    "hubopt.cli",
    "hubopt.inputs.area",
    "hubopt.inputs.load",
    "hubopt.inputs.nhs",
    "hubopt.inputs.practices",
    "hubopt.outputs.maps",
    "hubopt.outputs.report",
    "hubopt.pipeline",
    "hubopt.roads._routing",
    "hubopt.roads.matrix",
    "hubopt.roads.network",
    "hubopt.roads.osm",
    "hubopt.solver.backends.highs",
    "hubopt.solver.bounds",
    "hubopt.solver.explain",
    "hubopt.solver.inprocess",
}


def test_the_version_is_written_in_one_place():
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    attr = PYPROJECT["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "hubopt.__version__"
    changelog = (REPO / "CHANGELOG.md").read_text()
    assert f"## {hubopt.__version__} " in changelog  # each version says what changed


def test_the_demo_is_package_data():
    path = demo_scenario_path()
    assert path == resources.files("hubopt.data") / "demo" / "demo.toml"
    s = load_scenario(path)
    for p in (s.practices, s.network, s.boundary, s.current):
        assert p is not None and p.is_file(), p
        assert p.is_relative_to(REPO / "hubopt" / "data"), p
    assert not (REPO / "data").exists()  # no second copy outside the package


def test_every_file_the_commands_read_is_declared_package_data():
    declared = PYPROJECT["tool"]["setuptools"]["package-data"]
    assert "py.typed" in declared["hubopt"] and (REPO / "hubopt" / "py.typed").is_file()
    for package, patterns in declared.items():
        root = REPO / package.replace(".", "/")
        for pattern in patterns:
            assert list(root.glob(pattern)), f"{package}: {pattern} matches nothing"
    data = REPO / "hubopt" / "data"
    shipped = {p for pattern in declared["hubopt.data"] for p in data.glob(pattern)}
    on_disk = {p for p in data.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")}
    assert on_disk <= shipped, sorted(on_disk - shipped)


def test_untyped_definitions_are_refused_outside_a_shrinking_list():
    mypy = PYPROJECT["tool"]["mypy"]
    assert mypy["disallow_untyped_defs"] and mypy["disallow_incomplete_defs"]
    exempt = [o for o in mypy["overrides"] if o.get("disallow_untyped_defs") is False]
    assert len(exempt) == 1
    assert set(exempt[0]["module"]) <= UNTYPED_ALLOWED  # fix a module, then drop it here too
