"""The scenario reference's tables, as Markdown, from the code (no Sphinx needed here,
so the tests check them without the docs extras): every key of every section of a
scenario file, what its value must be, its default and its meaning.
"""

from __future__ import annotations

import dataclasses
import re

from hubopt.batch.areas import _BATCH_KEYS, BatchOptions
from hubopt.scenario import KeyDoc, attribute_docs, key_reference, kind_text, toml_value

__all__ = ["all_keys", "batch_reference", "markdown", "table_lines", "toml_value"]


def batch_reference() -> list[KeyDoc]:
    """The ``[batch]`` keys (``hubopt batch``), as :func:`key_reference` gives the rest."""
    docs = attribute_docs(BatchOptions)
    fields = {f.name: f for f in dataclasses.fields(BatchOptions)}
    return [
        KeyDoc(
            section="batch",
            key=key,
            kind=kind_text((kind,)),
            default=toml_value(fields[key].default),
            meaning=docs.get(key, ""),
            attribute=key,
        )
        for key, kind in _BATCH_KEYS.items()
    ]


def all_keys() -> list[KeyDoc]:
    """Every key of a scenario file, ``[batch]`` last."""
    return key_reference() + batch_reference()


def markdown(text: str) -> str:
    """A docstring paragraph (reStructuredText roles) as MyST Markdown in a table cell."""
    text = re.sub(r":(\w+):`", r"{\1}`", text)  # :func:`x` -> {func}`x`
    return text.replace("|", "\\|")


def table_lines(section: str) -> list[str]:
    rows = [r for r in all_keys() if r.section == section]
    if not rows:
        raise ValueError(f"no section [{section}] in a scenario file")
    lines = ["| key | value | default | meaning |", "|---|---|---|---|"]
    first: dict[str, str] = {}
    for r in rows:
        meaning = markdown(r.meaning)
        if r.meaning in first:  # several keys explained by one paragraph
            meaning = f"see `{first[r.meaning]}`"
        else:
            first[r.meaning] = r.key
        default = r.default.replace("|", "\\|")
        key = f"`{r.key}`" + (f" (Python: `{r.attribute}`)" if r.attribute != r.key else "")
        lines.append(f"| {key} | {r.kind} | `{default}` | {meaning} |")
    return lines
