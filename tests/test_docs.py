"""The documentation cannot drift from the code: every key a scenario file can have is
in the scenario reference (generated from :class:`hubopt.scenario.Scenario`, its
reader's schema and its docstring), with a meaning; the site builds it section by
section; the README is a front page that still gives the two commands."""

from __future__ import annotations

import dataclasses
import re
import sys

from hubopt.batch.areas import _BATCH_KEYS, BatchOptions
from hubopt.scenario import _SCHEMA, Scenario, key_reference, scenario_from_dict
from tests.conftest import REPO

DOCS = REPO / "docs"
sys.path.insert(0, str(DOCS / "_ext"))
import reference_tables  # noqa: E402


def test_every_scenario_key_is_documented_with_a_meaning():
    rows = reference_tables.all_keys()
    documented = {(r.section, r.key) for r in rows}
    schema = {(section, key) for section, keys in _SCHEMA.items() for key in keys}
    schema |= {("batch", key) for key in _BATCH_KEYS}
    assert documented == schema
    assert [f"[{r.section}] {r.key}" for r in rows if not r.meaning.strip()] == []


def test_every_scenario_attribute_is_reachable_from_a_documented_key():
    """A field of Scenario that no key sets would be a setting the page never shows."""
    set_by_keys = {r.attribute for r in key_reference()} | {"current_from_pcn", "source"}
    assert {f.name for f in dataclasses.fields(Scenario)} <= set_by_keys
    assert {f.name for f in dataclasses.fields(BatchOptions)} == set(_BATCH_KEYS)


def test_documented_defaults_are_the_defaults():
    """A scenario with only a name and practices gets exactly the documented defaults."""
    s = scenario_from_dict(
        {"scenario": {"name": "x"}, "inputs": {"practices": str(REPO / "pyproject.toml")}}
    )
    for r in key_reference():
        if r.default in ("(required)", "(not set)") or r.attribute == "practices":
            continue
        value = getattr(s, r.attribute)
        assert reference_tables.toml_value(value) == r.default, r.key


def test_the_scenario_page_has_a_table_for_every_section():
    page = (DOCS / "scenario.md").read_text()
    tables = re.findall(r"```\{scenario-keys\} (\w+)", page)
    assert sorted(tables) == sorted([*_SCHEMA, "batch"])
    for section in tables:
        assert len(reference_tables.table_lines(section)) > 2


def test_every_docs_page_is_in_the_table_of_contents():
    index = (DOCS / "index.md").read_text()
    pages = {p.stem for p in DOCS.glob("*.md")} - {"index"}
    pages |= {f"notebooks/{p.stem}" for p in (REPO / "notebooks").glob("*.ipynb")}
    listed = set(re.findall(r"^([\w/-]+)$", index, flags=re.M))
    assert pages <= listed, sorted(pages - listed)


def test_readme_is_a_front_page_with_the_two_commands():
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) < 120
    assert 'pip install -e ".[dev]"' in readme and "hubopt demo" in readme
    assert "\npytest\n" in readme
    for link in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (REPO / link).exists(), link
