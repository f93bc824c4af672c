{#
  The script of the map's controls (map.html): which view (proposal or today's groups)
  is shown and what follows it (rule breaches, legend part), label decluttering, the
  inset map and the first fit. ``this`` is hubopt.outputs.maps._Controls: the names of
  folium's layers as JavaScript variables, and values as JSON (|tojson).
#}
{% if this.edit %}
{{ this.edit_js }}
{% endif %}
(function () {
  var map = {{ this._parent.get_name() }};
  var views = { {% for k, v in this.views.items() %}{{ k|tojson }}: {{ v }},{% endfor %} };
  var followers = { {% for k, v in this.followers.items() %}{{ k|tojson }}: {{ v }},{% endfor %} };
  var breaches = {{ this.breaches }};
  var legendLayer = {{ this.legend_layer }};
  // overlays that step aside in edit mode (practices that move, choices)
  var overlays = [{% for v in this.overlays %}{{ v }},{% endfor %}];
  var legend = document.getElementById({{ (this.get_name() ~ "-legend")|tojson }});
  var insetBox = document.getElementById({{ (this.get_name() ~ "-inset")|tojson }});
  // the legend and inset sit inside the map so that they print and screenshot with it
  map.getContainer().appendChild(legend);
  map.getContainer().appendChild(insetBox);
  L.DomEvent.disableClickPropagation(legend);
  L.DomEvent.disableScrollPropagation(legend);
  L.DomEvent.disableClickPropagation(insetBox);
  L.DomEvent.disableScrollPropagation(insetBox);

  function activeView() {
    for (var k in views) { if (map.hasLayer(views[k])) return k; }
    return "proposal";
  }
  function syncView() {
    var v = activeView();
    breaches.clearLayers();
    if (followers[v]) breaches.addLayer(followers[v]);
    legend.querySelectorAll("[data-view]").forEach(function (el) {
      el.style.display = el.getAttribute("data-view") === v ? "" : "none";
    });
  }
  map.on("overlayadd overlayremove", function (e) {
    if (e.layer === legendLayer) legend.style.display = e.type === "overlayadd" ? "" : "none";
  });

  function labelsOf(group) {
    var out = [];
    group.eachLayer(function (l) {
      var ic = l.options && l.options.icon;
      var isLabel = ic && /hubopt-label/.test(ic.options.className || "");
      if (l instanceof L.Marker && isLabel) out.push(l);
    });
    return out;
  }
  // Show labels in priority order (largest areas first). On the main map a label is
  // hidden where it would overlap one already shown or its area is too small to hold
  // it; in the inset (nudge) a label first tries spots around its point.
  var NUDGES = [[0, 0], [0, -32], [0, 32], [-62, 0], [62, 0],
                [-62, -32], [62, -32], [-62, 32], [62, 32]];
  function declutter(m, labels, nudge, needRoom) {
    var shown = [], hidden = [];
    labels.forEach(function (l) {
      if (!l._hubHome) l._hubHome = l.getLatLng();
      var home = l._hubHome, p0 = m.latLngToContainerPoint(home);
      var s = l.options.icon.options.iconSize, a = l.options.icon.options.iconAnchor;
      var metresPerPixel = 40075016.686 * Math.cos(home.lat * Math.PI / 180) /
        Math.pow(2, m.getZoom() + 8);
      var cramped = needRoom && 2 * (l.options.room || 0) / metresPerPixel < 0.8 * s[0];
      var clash = [], placed = null;
      (nudge ? NUDGES : [[0, 0]]).some(function (d) {
        var b = { l: l, x0: p0.x + d[0] - a[0] - 2, y0: p0.y + d[1] - a[1] - 2 };
        b.x1 = b.x0 + s[0] + 4; b.y1 = b.y0 + s[1] + 4;
        var c = shown.filter(function (o) {
          return !(b.x1 < o.x0 || b.x0 > o.x1 || b.y1 < o.y0 || b.y0 > o.y1);
        });
        if (!clash.length) clash = c;
        if (!c.length) { placed = { b: b, d: d }; return true; }
        return false;
      });
      if (placed && !cramped) {
        shown.push(placed.b);
        l.setLatLng(m.containerPointToLatLng(p0.add(placed.d)));
        l.setOpacity(1);
      } else {
        l.setLatLng(home);
        l.setOpacity(0);
        hidden.push({ b: { l: l }, with: clash });
      }
    });
    return hidden;
  }

  var insetMap = L.map(insetBox.querySelector(".hubopt-inset-map"), {
    zoomControl: false, attributionControl: false, dragging: false, scrollWheelZoom: false,
    doubleClickZoom: false, boxZoom: false, keyboard: false, touchZoom: false,
    zoomSnap: 0.25
  });
  var insetLayer = null, insetView = null, insetBounds = null;
  function copy(l) {
    var o = L.extend({}, l.options, { interactive: false });
    if (l instanceof L.LayerGroup) {
      var g = L.featureGroup();
      l.eachLayer(function (c) { var k = copy(c); if (k) g.addLayer(k); });
      return g;
    }
    if (l instanceof L.CircleMarker) return L.circleMarker(l.getLatLng(), o);
    if (l instanceof L.Polygon) return L.polygon(l.getLatLngs(), o);
    if (l instanceof L.Polyline) return L.polyline(l.getLatLngs(), o);
    if (l instanceof L.Marker) return L.marker(l.getLatLng(), o);
    return null;
  }
  // a box on the main map around the area the inset enlarges
  var locator = L.rectangle([[0, 0], [0, 0]], {
    color: "#444", weight: 1.5, dashArray: "4 3", fill: true, fillOpacity: 0,
  }).bindTooltip("Enlarged in the inset: click to zoom here");
  locator.on("click", function () { if (insetBounds) map.fitBounds(insetBounds); });
  insetBox.addEventListener("click", function () {
    if (insetBounds) map.fitBounds(insetBounds);
  });

  function hideInset() {
    insetBox.style.display = "none";
    map.removeLayer(locator);
  }
  // The crowded part the inset enlarges: hidden labels closer than CROWD_LINK_PX on the
  // main map belong to one part (single linkage); the part with the most hidden labels
  // is the densest (a city centre at county zoom). Hidden labels elsewhere show when
  // the map is zoomed in.
  var CROWD_LINK_PX = {{ this.link_px|tojson }}, MIN_ENLARGEMENT = {{ this.min_enlargement|tojson }};
  function densestPart(homes) {
    var xy = homes.map(function (ll) { return map.latLngToContainerPoint(ll); });
    var part = homes.map(function (_, i) { return i; });
    function root(i) { while (part[i] !== i) i = part[i] = part[part[i]]; return i; }
    xy.forEach(function (a, i) {
      xy.forEach(function (b, j) {
        if (j > i && a.distanceTo(b) < CROWD_LINK_PX) part[root(i)] = root(j);
      });
    });
    var size = {}, best = null;
    homes.forEach(function (_, i) {
      var r = root(i);
      size[r] = (size[r] || 0) + 1;
      if (best === null || size[r] > size[best]) best = r;
    });
    return homes.filter(function (_, i) { return root(i) === best; });
  }

  var edit = null;  // the edit mode (edit.js), when the page carries its data
  function refresh() {
    if (edit && edit.editing()) return hideInset();
    var v = activeView();
    var hidden = declutter(map, labelsOf(views[v]), false, true);
    if (!hidden.length) return hideInset();
    var pts = densestPart(hidden.map(function (h) { return h.b.l._hubHome; }));
    insetBox.style.display = "";
    insetMap.invalidateSize();
    if (insetView !== v) {
      if (insetLayer) insetMap.removeLayer(insetLayer);
      insetLayer = copy(views[v]).addTo(insetMap);
      insetView = v;
    }
    // the crowded area: around the hidden labels (60 px each way), with every
    // practice in it
    var core = L.latLngBounds([]), area = L.latLngBounds(pts);
    pts.forEach(function (ll) {
      var p = map.latLngToContainerPoint(ll);
      core.extend(map.containerPointToLatLng(p.subtract([60, 60])));
      core.extend(map.containerPointToLatLng(p.add([60, 60])));
    });
    views[v].eachLayer(function (l) {
      if (l instanceof L.CircleMarker && core.contains(l.getLatLng())) area.extend(l.getLatLng());
    });
    insetBounds = area.pad(0.1);
    locator.setBounds(insetBounds);
    if (!map.hasLayer(locator)) locator.addTo(map);
    insetMap.fitBounds(insetBounds, { animate: false, maxZoom: 16, padding: [30, 16] });
    var labels = labelsOf(insetLayer).filter(function (l) {
      return insetBounds.contains(l._hubHome || l.getLatLng());
    });
    // zoom in while labels still overlap, as long as the crowded ones stay in view
    function inView() {
      var size = insetMap.getSize();
      return pts.every(function (ll) {
        var p = insetMap.latLngToContainerPoint(ll);
        return p.x >= 29 && p.x <= size.x - 29 && p.y >= 15 && p.y <= size.y - 15;
      });
    }
    for (var k = 0; k < 12 && declutter(insetMap, labels, false).length; k++) {
      var z = insetMap.getZoom();
      insetMap.setZoom(z + 0.25, { animate: false });
      if (!inView()) {
        insetMap.setZoom(z, { animate: false });
        break;
      }
    }
    declutter(insetMap, labels, true);  // then move labels that still overlap
    // labels of areas beyond the inset's edge would show cut in half: leave them off
    var size = insetMap.getSize();
    labelsOf(insetLayer).forEach(function (l) {
      var p = insetMap.latLngToContainerPoint(l.getLatLng());
      var a = l.options.icon.options.iconAnchor, s = l.options.icon.options.iconSize;
      if (p.x - a[0] < 0 || p.y - a[1] < 0 || p.x - a[0] + s[0] > size.x ||
          p.y - a[1] + s[1] > size.y) l.setOpacity(0);
    });
    var factor = Math.pow(2, insetMap.getZoom() - map.getZoom());
    // an "enlargement" that hardly enlarges shows nothing the main map does not
    if (factor < MIN_ENLARGEMENT) return hideInset();
    insetBox.querySelector(".hubopt-inset-title span").textContent = factor.toFixed(0);
  }
  map.on("baselayerchange", function () { syncView(); refresh(); });
  map.on("zoomend", refresh);
  // fit the area between the legend (left) and the layer box and inset (right);
  // on a narrow window fold the legend away first
  function fit() {
    var width = map.getSize().x, right = 340;
    var left = legend.offsetLeft + legend.offsetWidth + 10;
    if (width - left - right < 0.3 * width) {
      var d = legend.querySelector("details");
      if (d) d.open = false;
      left = 10; right = 10;
    }
    map.fitBounds({{ this.bounds|tojson }}, {
      paddingTopLeft: [left, 10], paddingBottomRight: [right, 10], animate: false
    });
  }
  // start once folium's script has added every layer to the map
  setTimeout(function () {
    // map.html#current opens on today's groups (for links and screenshots)
    if (views.current && /current/.test(window.location.hash)) {
      map.removeLayer(views.proposal);
      map.addLayer(views.current);
    }
    syncView();
    fit();
    refresh();
    var data = document.getElementById({{ (this.get_name() ~ "-edit-data")|tojson }});
    if (data) {
      // in edit mode the page draws the edited plan: the static layers step aside
      var control = map.getContainer().querySelector(".leaflet-control-layers");
      var shown = [];
      edit = window.hubopt = huboptEditMode(map, JSON.parse(data.textContent), {
        legend: legend,
        declutter: function (group) { declutter(map, labelsOf(group), false, false); },
        name: {{ this.edit_name|tojson }},
        hide: function () {
          var aside = Object.values(views).concat([breaches], overlays);
          shown = aside.filter(function (l) { return map.hasLayer(l); });
          shown.forEach(function (l) { map.removeLayer(l); });
          if (control) control.style.display = "none";
          Array.prototype.forEach.call(legend.children, function (el) {
            if (!el.classList.contains("hubopt-edit-panel")) { el._hubDisplay = el.style.display; el.style.display = "none"; }
          });
          legend.style.display = "";
          hideInset();
        },
        show: function () {
          shown.forEach(function (l) { map.addLayer(l); });
          if (control) control.style.display = "";
          Array.prototype.forEach.call(legend.children, function (el) {
            if (!el.classList.contains("hubopt-edit-panel")) el.style.display = el._hubDisplay || "";
          });
          syncView();
          refresh();
        },
      });
      if (/edit/.test(window.location.hash)) edit.enter();
    }
  }, 0);
})();
