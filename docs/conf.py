"""Sphinx configuration of hubopt's documentation site.

Built offline with warnings as errors (``.ci/build-docs``)::

    pip install -e ".[docs]"
    sphinx-build -W --keep-going -b html docs docs/_build/html

Pages are MyST Markdown; the notebooks in ``notebooks/`` are executed while building
(MyST-NB, no pandoc needed); the API reference comes from the numpydoc docstrings
(autodoc + napoleon); the scenario reference is generated from the code
(``_ext/hubopt_reference.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import hubopt  # noqa: E402

project = "hubopt"
author = "hubopt contributors"
copyright = "hubopt contributors; code MIT, demo data CC0"
version = release = hubopt.__version__  # the page says the version it documents

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax copied into the site: formulas show offline too
    "sphinx.ext.viewcode",
    "sphinx_copybutton",
    "hubopt_reference",
]
exclude_patterns = ["_build", "out", "jupyter_execute", "**.ipynb_checkpoints"]
suppress_warnings = ["myst.header"]  # pages moved from the README keep their headings
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist", "substitution"]
myst_substitutions = {"version": release}
myst_heading_anchors = 3

# Notebooks: executed on every build (offline, a few minutes), in their own folder so
# their outputs (``../out/...``) land in docs/out, which git ignores.
import os  # noqa: E402

nb_execution_mode = os.environ.get("HUBOPT_DOCS_EXECUTE", "force")  # "off" for a quick look
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": False}
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_ivar = True

html_theme = "furo"
html_title = f"hubopt {release}"
html_static_path: list[str] = []
html_theme_options = {"source_directory": "docs/"}


def _titles_to_rubrics(app, what, name, obj, options, lines: list[str]) -> None:
    """A module docstring's own section titles (``Formulation`` over a line of dashes,
    as in :mod:`hubopt.model.program`) become rubrics: a section cannot open inside the
    API entry that shows the docstring."""
    if what != "module":
        return
    for i in range(len(lines) - 1):
        title, rule = lines[i], lines[i + 1]
        if (
            title.strip()
            and not title.startswith(" ")
            and rule.strip()
            and set(rule.strip()) <= set("-=~^")
            and len(rule.strip()) >= len(title.strip())
            and (i == 0 or not lines[i - 1].strip())
        ):
            lines[i], lines[i + 1] = f".. rubric:: {title.strip()}", ""


def setup(app) -> None:
    app.connect("autodoc-process-docstring", _titles_to_rubrics)
