"""The package layout's import contracts (import-linter, configured in pyproject.toml).

Stages import one way only (app layer > outputs > solver > model > roads > inputs >
scenario > errors | text), the outputs import one way among themselves, the independent
checks never use the model or solver, and no package has an import circle.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which(
    "lint-imports"
)

pytestmark = pytest.mark.skipif(LINT is None, reason="import-linter is not installed")


def _lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [LINT, str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_every_import_contract_is_kept():
    r = _lint(ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "5 kept, 0 broken" in r.stdout


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "hubopt", tmp_path / "hubopt", ignore=shutil.ignore_patterns("vendor"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        # a stage importing a later one: the model reaching for the map
        ("model/program.py", "from hubopt.outputs import maps", "Stages import one way"),
        # the outputs importing the app layer
        ("outputs/report.py", "from hubopt import pipeline", "Stages import one way"),
        # the independent checks using the model they check
        ("model/check.py", "from hubopt.model import program", "independent checks"),
        # an import circle inside one stage
        ("solver/clock.py", "from hubopt.solver import stages", "No import circles"),
        # a solver back-end reaching up for the staged solve that calls it
        ("solver/backends/cbc.py", "from hubopt.solver import plan", "solver's one path"),
    ],
)
def test_a_wrong_import_fails_by_name(tmp_path, module, line, contract):
    root = _copy(tmp_path)
    path = root / "hubopt" / module
    path.write_text(path.read_text() + f"\n{line}  # deliberately wrong\n")
    r = _lint(root)
    assert r.returncode != 0
    broken = [ln for ln in r.stdout.splitlines() if ln.endswith("BROKEN")]
    assert broken, r.stdout
    assert contract in r.stdout
    assert Path(module).stem in r.stdout  # the offending module is named


def test_the_flat_layout_names_still_resolve():
    """``from hubopt import matrix`` (and the other modules of the flat layout before the
    stages became packages) keeps working for scripts and notebooks written against it."""
    import hubopt
    from hubopt import evaluate, inputs, load, matrix, model, pipeline, solve, solver, whatif
    from hubopt.inputs import load as new_load
    from hubopt.outputs import evaluate as new_evaluate
    from hubopt.roads import matrix as new_matrix

    assert (matrix, load, evaluate, solve) == (new_matrix, new_load, new_evaluate, solver)
    assert callable(inputs.read_practices) and callable(model.build)
    assert callable(pipeline.solve_matrix) and callable(whatif.prepare)
    assert hubopt.report is hubopt.outputs.tables
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        hubopt.nonsense  # noqa: B018
