"""Roads: from an OSM extract to the practice x practice travel-time matrix.

Owns reading road data (:mod:`~hubopt.roads.osm`: PBF/XML with pyosmium, GraphML and
downloads through OSMnx), UK speeds per road type (:mod:`~hubopt.roads.speeds`), the
routable network and snapping (:mod:`~hubopt.roads.network`), shortest paths
(:mod:`~hubopt.roads._routing`) and the matrix with its metadata
(:mod:`~hubopt.roads.matrix`), which is the seam: nothing after this stage sees a graph.

May import: :mod:`hubopt.inputs`, :mod:`hubopt.scenario`, :mod:`hubopt.errors`.
"""
