"""Every notebook in notebooks/ runs top to bottom, offline, with nbclient.

Each runs in a temporary copy of the repository's layout (``repo/notebooks`` with the
notebook, ``shared/data`` linked when ``../shared/data`` exists; the demo comes from the
installed package, ``hubopt.demo_scenario_path()``), so the outputs the notebooks write (``../out/...``) land in
the temporary folder and nothing is written into the repository. Without
``../shared/data``, ``02_real_area`` falls back to the demo area and still runs.
"""

from __future__ import annotations

import shutil

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import REPO, SHARED_DATA

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks_and_they_are_committed_without_outputs():
    assert [p.name for p in NOTEBOOKS] == [
        "01_quickstart.ipynb",
        "02_real_area.ipynb",
        "03_what_if.ipynb",
        "04_choices.ipynb",
    ]
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), path.name
        assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
        assert any("parameters" in c.metadata.get("tags", []) for c in code[:2]), path.name


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    root = tmp_path_factory.mktemp("notebooks")
    repo = root / "repo"
    (repo / "notebooks").mkdir(parents=True)
    if SHARED_DATA.is_dir():
        (root / "shared").mkdir()
        (root / "shared" / "data").symlink_to(SHARED_DATA, target_is_directory=True)
    return repo


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, layout, monkeypatch):
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # no jupyter_core path warning
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    copy = layout / "notebooks" / path.name
    shutil.copy(path, copy)
    nb = nbformat.read(copy, as_version=4)
    NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(copy.parent)}},
    ).execute()  # raises CellExecutionError, with the cell and traceback, on any error
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    assert (layout / "out" / "notebooks").is_dir()  # outputs went to the copy
