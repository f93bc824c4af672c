"""The data shipped inside the package: Demoshire, the synthetic demo area.

``demo/`` holds the scenario (``demo.toml``), its practices, today's groups and road
network, ``boundaries/`` its outline; ``demo/PROVENANCE.md`` says how they were made
(``scripts/make_demo_data.py``). They ship in the wheel as package data and are found
through :mod:`importlib.resources`, so ``hubopt demo`` works from an installed wheel as
it does from a clone.
"""

from __future__ import annotations

import tempfile
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from hubopt.errors import InputError

_EXTRACTED: list[Path] = []


def _copy_tree(src: Traversable, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for item in src.iterdir():
        if item.is_dir():
            if item.name != "__pycache__":
                _copy_tree(item, dst / item.name)
        elif not item.name.endswith((".py", ".pyc")):
            (dst / item.name).write_bytes(item.read_bytes())


def data_dir() -> Path:
    """The folder of the shipped data on disk (a temporary copy when the package is
    imported from a zip file, made once per process)."""
    root = resources.files(__name__)
    if isinstance(root, Path):
        return root
    if not _EXTRACTED:  # pragma: no cover - zipped installs only
        tmp = Path(tempfile.mkdtemp(prefix="hubopt-data-"))
        _copy_tree(root, tmp)
        _EXTRACTED.append(tmp)
    return _EXTRACTED[0]


def demo_scenario_path() -> Path:
    """Path of the demo scenario file, ``demo/demo.toml`` (what ``hubopt demo`` runs).

    Raises
    ------
    InputError
        When the package was installed without its data (a broken build).
    """
    path = data_dir() / "demo" / "demo.toml"
    if not path.is_file():
        raise InputError(
            "The demo data was not found.",
            [
                f"expected {path}; this copy of hubopt was installed without its package "
                "data: reinstall it (`pip install --force-reinstall hubopt`)"
            ],
        )
    return path
