"""Reference tables generated from the code while the site builds, so they cannot drift.

``{scenario-keys} SECTION`` renders every key of one section of a scenario file (what
its value must be, its default and its meaning) from :func:`hubopt.scenario.key_reference`
(the ``[batch]`` section from :class:`hubopt.batch.areas.BatchOptions`), through
``reference_tables.py``. ``tests/test_docs.py`` checks that every key has a meaning and
every section a table.
"""

from __future__ import annotations

from docutils import nodes
from docutils.statemachine import StringList
from reference_tables import table_lines
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


class ScenarioKeys(SphinxDirective):
    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        section = self.arguments[0].strip("[]")
        container = nodes.container(classes=["scenario-keys"])
        self.state.nested_parse(StringList(table_lines(section)), self.content_offset, container)
        return [container]


def setup(app: Sphinx) -> dict[str, object]:
    app.add_directive("scenario-keys", ScenarioKeys)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
