"""The Jinja2 templates of the HTML outputs, in ``hubopt/outputs/templates`` (package
data): the report page (``report.html``, ``macros.html``, ``report.css``) and the map's
controls (``map.html`` with ``map.css``, ``map.js`` and ``legend.html``).

One environment loads them all. HTML templates autoescape; style sheets and scripts
do not (HTML escaping is wrong there): a value that goes into a script goes through
``|tojson``.
"""

from __future__ import annotations

import re

import jinja2
from markupsafe import Markup

#: A line break next to a tag, with the indentation after it.
_BREAK_AT_TAG = re.compile(r"\n\s*(?=<)|(?<=>)\n\s*")


def join_lines(text: str) -> str:
    """``{% filter join_lines %}``: drop each line break before or after a tag, with
    the indentation after it, so a template can lay out markup on many lines and still
    write it on one (break lines only where no space is meant). Spaces within a line
    stay."""
    out = _BREAK_AT_TAG.sub("", text)
    return Markup(out) if isinstance(text, Markup) else out


#: Every output template, from ``templates/``.
TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("hubopt.outputs", "templates"),
    autoescape=jinja2.select_autoescape(
        disabled_extensions=("css", "js"), default_for_string=True, default=True
    ),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
TEMPLATES.filters["join_lines"] = join_lines
