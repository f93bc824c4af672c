"""Outputs: what planners and reviewers open, from a plan and its inputs.

Owns the per-practice and per-hub tables (:mod:`~hubopt.outputs.tables`), scoring any
grouping the same way and comparing them (:mod:`~hubopt.outputs.evaluate`),
catchment areas (:mod:`~hubopt.outputs.catchments`), GIS layers
(:mod:`~hubopt.outputs.gis`), map colours (:mod:`~hubopt.outputs.colours`), the Folium
map (:mod:`~hubopt.outputs.maps`), the one-page HTML report
(:mod:`~hubopt.outputs.report`, from ``templates/report.html``) and headless-Chromium
screenshots (:mod:`~hubopt.outputs.screenshot`).

May import every stage before it (:mod:`hubopt.solver`, :mod:`hubopt.model`,
:mod:`hubopt.roads`, :mod:`hubopt.inputs`), never the app layer (pipeline, what-ifs,
CLI). Inside it, imports run tables/colours -> evaluate -> catchments -> gis, maps,
report.
"""
