"""The synthetic "Demoshire" demo data, run by ``scripts/make_demo_data.py``.

* :mod:`.frame`       the local planar frame (km east/north of 52.35 N, 0.60 W) and
  its conversion to lat/lon.
* :mod:`.geography`   street names, towns, villages, the motorway, the roads between
  settlements (:func:`~.geography.build`) and the county outline.
* :mod:`.practices`   the GP practices, their list sizes and postcodes, and the
  current (PCN-like) groups.
* :mod:`.osm_writer`  the :class:`~.osm_writer.Network` container of nodes and tagged
  ways, written out as OSM XML 0.6.
* :mod:`.provenance`  the county outline as GeoJSON and the text of PROVENANCE.md.
"""
