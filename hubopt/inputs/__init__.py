"""Inputs: the planner's tables and the NHS files, read and checked in one pass.

Owns the practices, candidate-site and grouping tables, the area's boundary
(:mod:`~hubopt.inputs.practices`), the NHS publications (:mod:`~hubopt.inputs.nhs`),
selecting an area by code or outline (:mod:`~hubopt.inputs.area`) and loading a
scenario's inputs in one call (:mod:`~hubopt.inputs.load`). Choosing an area and
writing its scenario file for ``hubopt init`` is the app layer's
(:mod:`hubopt.onboard`), not this stage's.

May import: :mod:`hubopt.scenario` and :mod:`hubopt.errors` only (it is the first
stage; the contract in ``pyproject.toml`` checks this).
"""

from hubopt.inputs.practices import (
    BNG,
    ENGLAND_BBOX,
    GROUP_COLUMNS,
    INVALID,
    LEFT_OUT_COLUMNS,
    MAX_LIST_SIZE,
    PRACTICE_COLUMNS,
    SITE_COLUMNS,
    PracticeTable,
    Problem,
    check_practices,
    check_rows,
    finish_practices,
    left_out_frame,
    practices_only,
    problems_error,
    read_boundary,
    read_edited_plan,
    read_grouping,
    read_practices,
    read_practices_table,
    read_sites,
    read_text_csv,
    require_columns,
    site_only_codes,
    usable_list_size,
)

__all__ = [
    "BNG",
    "ENGLAND_BBOX",
    "GROUP_COLUMNS",
    "INVALID",
    "LEFT_OUT_COLUMNS",
    "MAX_LIST_SIZE",
    "PRACTICE_COLUMNS",
    "SITE_COLUMNS",
    "PracticeTable",
    "Problem",
    "check_practices",
    "check_rows",
    "finish_practices",
    "left_out_frame",
    "practices_only",
    "problems_error",
    "read_boundary",
    "read_edited_plan",
    "read_grouping",
    "read_practices",
    "read_practices_table",
    "read_sites",
    "read_text_csv",
    "require_columns",
    "usable_list_size",
    "site_only_codes",
]
