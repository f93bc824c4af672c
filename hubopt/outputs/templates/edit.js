/*
 * hubopt edit mode: a reviewer edits the plan in the browser and every rule is checked
 * after each edit with the run's own numbers. Plain JavaScript, no build step, no
 * network; inlined into the map by hubopt.outputs.maps. Data: hubopt.outputs.editing.
 *
 * The rule checks mirror hubopt/model/check.py one to one and carry its names; hub
 * figures mirror hubopt.outputs.tables.hub_table (minutes rounded to 2 decimals first),
 * overall figures hubopt.outputs.evaluate.overall, practices moved against today
 * evaluate.practices_moved, and a hub's site when its site leaves evaluate.best_sites.
 */
function huboptEditMode(map, D, ui) {
  "use strict";
  var n = D.codes.length, R = D.rules, NO_ROUTE = 65535;

  // ------------------------------------------------------------------ data
  var bin = atob(D.minutes), M = new Uint16Array(n * n);
  for (var k = 0; k < n * n; k++) M[k] = bin.charCodeAt(2 * k) | (bin.charCodeAt(2 * k + 1) << 8);
  var capFlip = {};
  for (k = 0; k < D.capFlips.length; k += 2) capFlip[D.capFlips[k] * n + D.capFlips[k + 1]] = 1;
  var siteOnly = new Uint8Array(n);
  D.siteOnly.forEach(function (i) { siteOnly[i] = 1; });
  var nb = [];
  for (k = 0; k < n; k++) nb.push([]);
  for (k = 0; k < D.neighbours.length; k += 2) {
    nb[D.neighbours[k]].push(D.neighbours[k + 1]);
    nb[D.neighbours[k + 1]].push(D.neighbours[k]);
  }
  var index = {};
  D.codes.forEach(function (c, i) { index[c] = i; });
  var setOf = function (list) { var s = {}; (list || []).forEach(function (i) { s[i] = 1; }); return s; };
  var exemptSet = setOf(R.exempt), optionalSet = setOf(R.optional), candSet = setOf(R.candidate_sites),
      crossSet = setOf(R.cross_allowed);
  var size = function (i) { return D.sizes[i] || 0; };
  var minutes = function (i, j) { return M[i * n + j] / 100; };

  // Python's round(x, d) and f"{x:.{d}f}": correctly rounded, half to even on exact ties
  function pyFixed(x, d) {
    var s = x.toFixed(d), scale = Math.pow(10, d), y = x * scale;
    if (Number.isInteger(x * 8) && Number.isInteger(y * 2) && !Number.isInteger(y)) {
      var lo = Math.floor(y), even = lo % 2 === 0 ? lo : lo + 1;
      s = (even / scale).toFixed(d);
    }
    return s;
  }
  var pyRound = function (x, d) { return Number(pyFixed(x, d)); };
  var thousands = function (v) { return Math.round(v).toLocaleString("en-GB"); };
  var esc = function (t) {
    return String(t).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  };

  // ------------------------------------------------------------------ state
  // hubOf[i]: index into hubs (-1: no hub); candidate sites that are not practices
  // have none (they belong to the hub whose site they are). hubs[h] = {id, site, colour}.
  function fromPlan(plan) {
    return { hubOf: Int32Array.from(plan.hubOf), hubs: plan.hubs.map(function (h) {
      return { id: h.id, site: h.site, colour: h.colour }; }) };
  }
  var proposal = fromPlan(D.proposal);
  var S = fromPlan(D.proposal);
  var undoStack = [], redoStack = [];
  function snapshot() { return fromPlan(S); }

  function members(st) {  // hub -> practice rows (practices only), in table order
    var out = st.hubs.map(function () { return []; });
    for (var i = 0; i < n; i++) if (st.hubOf[i] >= 0 && !siteOnly[i]) out[st.hubOf[i]].push(i);
    return out;
  }
  function siteOf(st, mem) {  // the plan as check.py sees it: row -> hub site (-1: none)
    var a = new Int32Array(n).fill(-1);
    st.hubs.forEach(function (h, k) {
      if (!mem[k].length) return;
      mem[k].forEach(function (i) { a[i] = h.site; });
      if (siteOnly[h.site]) a[h.site] = h.site;
    });
    return a;
  }

  // evaluate.best_sites: the member that minimises patient-weighted minutes to it
  function bestSite(rows) {
    var best = -1, bestCost = Infinity;
    rows.forEach(function (j) {
      var cost = 0;
      rows.forEach(function (i) { cost += size(i) * M[i * n + j]; });
      if (cost < bestCost) { bestCost = cost; best = j; }
    });
    return best;
  }

  // ------------------------------------------------------------------ the checks
  // Each takes the plan view P and returns failures {text, hub?, row?}, as check.py.
  function view(st) {
    var mem = members(st), a = siteOf(st, mem), hubs = [];
    st.hubs.forEach(function (h, k) {
      if (!mem[k].length) return;
      var rows = mem[k].slice();
      if (siteOnly[h.site]) rows.push(h.site);
      rows.sort(function (x, y) { return x - y; });
      hubs.push({ k: k, id: h.id, site: h.site, rows: rows, practices: mem[k], colour: h.colour });
    });
    return { st: st, a: a, hubs: hubs };
  }
  function isExempt(site, rows) {
    if (!(rows.length === 1 && rows[0] === site)) return false;
    return !!exemptSet[site] || (R.oversize === "own_hub" && size(site) > R.population_max);
  }
  function total(rows) { var t = 0; rows.forEach(function (i) { t += size(i); }); return t; }
  var code = function (i) { return D.codes[i]; };
  var hubName = function (h) { return "hub " + h.id + " (site " + code(h.site) + ")"; };

  var CHECKS = {
    assigned_once: function (P) {
      var out = [];
      for (var i = 0; i < n; i++) {
        if (P.a[i] < 0 && !optionalSet[i] && !siteOnly[i])
          out.push({ row: i, text: "practice " + code(i) + " has no hub" });
      }
      return out;
    },
    sites_are_members: function (P) {
      var out = [];
      P.hubs.forEach(function (h) {
        if (P.a[h.site] !== h.site)
          out.push({ hub: h.k, text: "hub site " + code(h.site) + " is itself assigned to hub " + code(P.a[h.site]) });
      });
      return out;
    },
    population_within_band: function (P) {
      var out = [];
      if (R.band === "elastic") return out;
      P.hubs.forEach(function (h) {
        var t = total(h.rows);
        if (isExempt(h.site, h.rows)) return;
        var lowOk = R.band === "rural_exception" || t >= R.population_min;
        if (!(lowOk && t <= R.population_max))
          out.push({ hub: h.k, text: "hub " + h.id + " has " + thousands(t) + " patients, outside " +
            thousands(R.population_min) + "-" + thousands(R.population_max) });
      });
      return out;
    },
    oversize_alone: function (P) {
      var out = [], big = (R.exempt || []).slice(), seen = {};
      if (R.oversize === "own_hub") for (var i = 0; i < n; i++) if (size(i) > R.population_max) big.push(i);
      big.forEach(function (c) {
        if (seen[c]) return;
        seen[c] = 1;
        if (P.a[c] < 0) return;
        var mates = 0;
        for (var j = 0; j < n; j++) if (j !== c && P.a[j] === P.a[c]) mates++;
        if (P.a[c] !== c || mates)
          out.push({ row: c, hub: P.st.hubOf[c], text: "practice " + code(c) + " must be a hub on its own but shares hub " + code(P.a[c]) });
      });
      return out;
    },
    travel_within_cap: function (P) {
      var out = [];
      for (var i = 0; i < n; i++) {
        var j = P.a[i];
        if (j < 0) continue;
        var c = M[i * n + j], ok = c !== NO_ROUTE && c / 100 <= R.travel_cap_minutes + 1e-6;
        if (capFlip[i * n + j]) ok = !ok;
        if (!ok) out.push({ row: i, hub: P.st.hubOf[i], text: "practice " + code(i) + " is " +
          (c === NO_ROUTE ? "out of reach" : pyFixed(c / 100, 1) + " min") + " from hub site " +
          code(j) + ", cap " + R.travel_cap_minutes });
      }
      return out;
    },
    hub_count_in_range: function (P) {
      var lo = R.hubs_min, hi = R.hubs_max, m = P.hubs.length;
      if ((lo !== null && m < lo) || (hi !== null && m > hi))
        return [{ text: m + " hubs, the scenario asks for " + (lo || 0) + "-" + (hi === null ? "any" : hi) }];
      return [];
    },
    fixed_sites_open: function (P) {
      var open = {};
      P.hubs.forEach(function (h) { open[h.site] = 1; });
      return R.fixed_sites.filter(function (j) { return !open[j]; }).map(function (j) {
        return { row: j, text: "fixed site " + code(j) + " is not a hub site" };
      });
    },
    sites_are_candidates: function (P) {
      if (!R.candidate_sites.length) return [];
      return P.hubs.filter(function (h) {
        return !candSet[h.site] && !isExempt(h.site, h.rows) && !siteOnly[h.site];
      }).map(function (h) { return { hub: h.k, text: "hub site " + code(h.site) + " is not a candidate site" }; });
    },
    locked_together: function (P) {
      var out = [];
      R.locked_groups.forEach(function (g) {
        var sites = g.map(function (i) { return P.a[i]; });
        var split = sites.some(function (s) { return s < 0 || s !== sites[0]; });
        if (split) out.push({ rows: g, text: "locked group [" + g.map(code).join(", ") + "] is split: " +
          g.map(function (i) { return code(i) + " in " + (P.a[i] < 0 ? "no hub" : code(P.a[i])); }).join(", ") });
      });
      return out;
    },
    kept_apart: function (P) {
      var out = [];
      R.apart.forEach(function (g) {
        var by = {}, order = [];
        g.forEach(function (i) {
          if (P.a[i] < 0) return;
          if (!by[P.a[i]]) { by[P.a[i]] = []; order.push(P.a[i]); }
          by[P.a[i]].push(i);
        });
        order.forEach(function (s) {
          if (by[s].length > 1) out.push({ rows: by[s], hub: P.st.hubOf[by[s][0]], text: "practices [" +
            by[s].map(code).join(", ") + "] must be apart but share hub " + code(s) });
        });
      });
      return out;
    },
    within_zone: function (P) {
      if (!R.within || !R.zone) return [];
      var out = [];
      P.hubs.forEach(function (h) {
        var z = R.zone[h.site], strays = h.rows.filter(function (i) {
          return R.zone[i] !== z && !crossSet[i];
        });
        if (strays.length) out.push({ hub: h.k, rows: strays, text: hubName(h) + " (" + R.within +
          " " + z + ") takes " + strays.map(code).join(", ") + " from another " + R.within });
      });
      return out;
    },
    mean_travel_within_cap: function (P) {
      var limit = R.mean_travel_cap_minutes, out = [];
      if (limit === null || limit === undefined) return out;
      P.hubs.forEach(function (h) {
        var w = 0, wt = 0;
        h.rows.forEach(function (i) { w += size(i); wt += size(i) * minutes(i, h.site); });
        var mean = w > 0 ? wt / w : 0;
        if (mean > limit + 1e-6) out.push({ hub: h.k, text: hubName(h) +
          ": patient-weighted mean " + pyFixed(mean, 1) + " min, cap " + limit });
      });
      return out;
    },
    contiguous: function (P) {
      var out = [];
      P.hubs.forEach(function (h) {
        var inHub = {}, seen = {}, parts = [];
        h.rows.forEach(function (i) { inHub[i] = 1; });
        h.rows.forEach(function (i) {
          if (seen[i]) return;
          var part = [], stack = [i];
          seen[i] = 1;
          while (stack.length) {
            var v = stack.pop();
            part.push(v);
            nb[v].forEach(function (u) { if (inHub[u] && !seen[u]) { seen[u] = 1; stack.push(u); } });
          }
          parts.push(part);
        });
        if (parts.length > 1) out.push({ hub: h.k, text: hubName(h) + " is in " + parts.length +
          " separate pieces: " + parts.map(function (p) { return p.map(code).sort().join(", "); }).join("; ") });
      });
      return out;
    },
  };
  // check.APPLIES: the checks of optional rules run only when the scenario uses the rule
  var APPLIES = {
    hub_count_in_range: function () { return R.hubs_min !== null || R.hubs_max !== null; },
    fixed_sites_open: function () { return R.fixed_sites.length > 0; },
    sites_are_candidates: function () { return R.candidate_sites.length > 0; },
    locked_together: function () { return R.locked_groups.length > 0; },
    kept_apart: function () { return R.apart.length > 0; },
    within_zone: function () { return !!R.within; },
    mean_travel_within_cap: function () { return R.mean_travel_cap_minutes !== null; },
    contiguous: function () { return !!R.contiguous; },
  };
  function checkPlan(P) {
    var out = {};
    Object.keys(CHECKS).forEach(function (name) {
      if (!APPLIES[name] || APPLIES[name]()) out[name] = CHECKS[name](P);
    });
    return out;
  }

  // ------------------------------------------------------------------ figures
  function exemption(site, count, t) {  // hubopt.model.exempt.hub_exemption
    if (count === 1) {
      if (exemptSet[site]) return "named exemption, own hub";
      if (R.oversize === "own_hub" && t > R.population_max) return "oversize practice, own hub";
    }
    if (t < R.population_min && (R.band === "rural_exception" || R.band === "elastic"))
      return R.band.replace("_", " ") + ": " + thousands(R.population_min - t) + " below the band";
    if (t > R.population_max && R.band === "elastic")
      return "elastic: " + thousands(t - R.population_max) + " above the band";
    return "";
  }
  function hubTable(P) {  // tables.hub_table, one row per hub
    return P.hubs.map(function (h) {
      var t = 0, worst = 0, wt = 0;
      h.practices.forEach(function (i) {
        var m = minutes(i, h.site);
        t += size(i); wt += size(i) * m; if (m > worst) worst = m;
      });
      var inBand = R.population_min <= t && t <= R.population_max;
      return {
        hub_id: h.id, site_code: code(h.site), site_name: D.names[h.site], practices: h.practices.length,
        list_size: t, in_band: inBand ? "yes" : "no",
        exemption: !inBand || h.practices.length === 1 ? exemption(h.site, h.practices.length, t) : "",
        max_minutes: pyRound(worst, 2), mean_minutes: t > 0 ? pyRound(wt / t, 2) : 0,
      };
    });
  }
  // evaluate.practices_moved: hubs and today's groups paired one to one to keep the most
  // patients together (Hungarian); a practice moves when its hub is not its group's pair
  function movedVsToday(st) {
    if (!D.today) return null;
    var g = D.today.groupOf, hubIdx = {}, grpIdx = {}, hs = [], gs = [], cells = {}, moved = 0;
    for (var i = 0; i < n; i++) {
      if (siteOnly[i] || st.hubOf[i] < 0) continue;
      if (g[i] < 0) continue;
      var h = st.hubOf[i];
      if (!(h in hubIdx)) { hubIdx[h] = hs.length; hs.push(h); }
      if (!(g[i] in grpIdx)) { grpIdx[g[i]] = gs.length; gs.push(g[i]); }
      var key = hubIdx[h] * 100000 + grpIdx[g[i]];
      cells[key] = (cells[key] || 0) + size(i);
    }
    var dense = new Float64Array(hs.length * gs.length);
    Object.keys(cells).forEach(function (key) {
      var r = Math.floor(key / 100000);
      dense[r * gs.length + (key - r * 100000)] = cells[key];
    });
    var pairOfHub = hungarianMax(hs.length, gs.length, function (r, c) { return dense[r * gs.length + c]; });
    for (i = 0; i < n; i++) {
      if (siteOnly[i] || st.hubOf[i] < 0) continue;
      if (g[i] < 0) { moved++; continue; }
      var r = hubIdx[st.hubOf[i]];
      if (pairOfHub[r] !== grpIdx[g[i]]) moved++;
    }
    return moved;
  }
  // maximum-weight assignment of rows to columns (rectangular), as
  // scipy.optimize.linear_sum_assignment(-w): returns the column of each row (-1: none)
  function hungarianMax(rows, cols, w) {
    var N = Math.max(rows, cols), INF = Infinity, u = new Float64Array(N + 1), v = new Float64Array(N + 1),
        p = new Int32Array(N + 1), way = new Int32Array(N + 1), big = 0, r, c;
    for (r = 0; r < rows; r++) for (c = 0; c < cols; c++) big = Math.max(big, w(r, c));
    var C = new Float64Array(N * N).fill(big);
    for (r = 0; r < rows; r++) for (c = 0; c < cols; c++) C[r * N + c] = big - w(r, c);
    for (var i = 1; i <= N; i++) {
      p[0] = i;
      var j0 = 0, minv = new Float64Array(N + 1).fill(INF), used = new Uint8Array(N + 1);
      do {
        used[j0] = 1;
        var i0 = p[j0], delta = INF, j1 = 0;
        for (var j = 1; j <= N; j++) {
          if (used[j]) continue;
          var cur = C[(i0 - 1) * N + j - 1] - u[i0] - v[j];
          if (cur < minv[j]) { minv[j] = cur; way[j] = j0; }
          if (minv[j] < delta) { delta = minv[j]; j1 = j; }
        }
        for (j = 0; j <= N; j++) {
          if (used[j]) { u[p[j]] += delta; v[j] -= delta; } else minv[j] -= delta;
        }
        j0 = j1;
      } while (p[j0] !== 0);
      do { var jw = way[j0]; p[j0] = p[jw]; j0 = jw; } while (j0);
    }
    var out = new Int32Array(rows).fill(-1);
    for (var jj = 1; jj <= N; jj++) {
      if (p[jj] && p[jj] - 1 < rows && jj - 1 < cols) out[p[jj] - 1] = jj - 1;
    }
    return out;
  }
  function figures(st) {
    var P = view(st), hubs = hubTable(P), checks = checkPlan(P), pm = 0, w = 0, worst = 0, ung = 0;
    for (var i = 0; i < n; i++) {
      if (siteOnly[i]) continue;
      if (P.a[i] < 0) { ung++; continue; }
      var c = M[i * n + P.a[i]];
      pm += size(i) * c; w += size(i);
      if (c / 100 > worst) worst = c / 100;
    }
    var breaches = 0;
    Object.keys(checks).forEach(function (k) { breaches += checks[k].length; });
    var inBand = hubs.filter(function (h) { return h.in_band === "yes"; }).length;
    var sizes = hubs.map(function (h) { return h.list_size; });
    return {
      P: P, hubs: hubs, checks: checks, breaches: breaches,
      overall: {
        "hubs": hubs.length, "hubs in band": inBand,
        "smallest hub": sizes.length ? Math.min.apply(null, sizes) : 0,
        "largest hub": sizes.length ? Math.max.apply(null, sizes) : 0,
        "worst minutes to site": pyRound(worst, 1),
        "mean minutes to site (patient-weighted)": w > 0 ? pyRound(pm / 100 / w, 2) : 0,
        "practices ungrouped": ung,
      },
      patient_minutes: pm / 100,
      moved_vs_today: movedVsToday(st),
    };
  }

  // ------------------------------------------------------------------ edits
  var selected = {}, touched = {}, lastMs = null, times = [];
  function fixSite(h, mem) {  // a hub whose site left gets its best site (or dies)
    var hub = S.hubs[h];
    if (siteOnly[hub.site] || S.hubOf[hub.site] === h) return;
    if (mem[h].length) hub.site = bestSite(mem[h]);
  }
  function colourFor() {
    var used = {};
    var mem = members(S);
    S.hubs.forEach(function (h, k) { if (mem[k].length) used[h.colour] = 1; });
    var free = D.palette.filter(function (c) { return !used[c]; });
    return free.length ? free[0] : D.palette[S.hubs.length % D.palette.length];
  }
  function nextId() {
    var width = 2, most = 0;
    S.hubs.concat(proposal.hubs).forEach(function (h) {
      var m = /^H(\d+)$/.exec(h.id);
      if (m) { most = Math.max(most, Number(m[1])); width = Math.max(width, m[1].length); }
    });
    var s = String(most + 1);
    while (s.length < width) s = "0" + s;
    return "H" + s;
  }
  function rows(codes) {
    return codes.map(function (c) { return typeof c === "number" ? c : index[c]; })
      .filter(function (i) { return i !== undefined && !siteOnly[i]; });
  }
  function edit(change) {  // every edit: undo point, change, re-check, redraw, timed
    var t0 = performance.now(), before = snapshot();
    var ok = change();
    if (ok === false) return false;
    undoStack.push(before);
    redoStack = [];
    update(t0, before);
    return true;
  }
  function moveRows(list, h) {
    var old = {};
    list.forEach(function (i) {
      if (S.hubOf[i] >= 0 && S.hubOf[i] !== h) old[S.hubOf[i]] = 1;
      S.hubOf[i] = h;
    });
    var mem = members(S);
    Object.keys(old).forEach(function (o) { fixSite(Number(o), mem); });
  }
  var api = {
    moveTo: function (codes, hubId) {
      var list = rows(codes), h = S.hubs.findIndex(function (x) { return x.id === hubId; });
      if (!list.length || h < 0) return false;
      return edit(function () { moveRows(list, h); });
    },
    newHub: function (codes) {
      var list = rows(codes);
      if (!list.length) return false;
      return edit(function () {
        var id = nextId(), colour = colourFor();
        S.hubs.push({ id: id, site: list[0], colour: colour });
        moveRows(list, S.hubs.length - 1);
        S.hubs[S.hubs.length - 1].site = bestSite(list);
      });
    },
    makeSite: function (c) {
      var i = rows([c])[0];
      if (i === undefined || S.hubOf[i] < 0 || S.hubs[S.hubOf[i]].site === i) return false;
      return edit(function () { S.hubs[S.hubOf[i]].site = i; });
    },
    undo: function () {
      if (!undoStack.length) return false;
      var t0 = performance.now(), before = snapshot();
      redoStack.push(before);
      S = undoStack.pop();
      update(t0, before);
      return true;
    },
    redo: function () {
      if (!redoStack.length) return false;
      var t0 = performance.now(), before = snapshot();
      undoStack.push(before);
      S = redoStack.pop();
      update(t0, before);
      return true;
    },
    reset: function () { return edit(function () { S = fromPlan(D.proposal); }); },
    startFromToday: function () {
      if (!D.today) return false;
      return edit(function () { S = fromPlan({ hubs: D.today.groups, hubOf: D.today.groupOf }); });
    },
    select: function (codes, add) {
      if (!add) selected = {};
      rows(codes).forEach(function (i) { selected[i] = 1; });
      drawSelection();
      renderToolbar();
    },
    selected: function () { return Object.keys(selected).map(function (i) { return code(Number(i)); }); },
    state: function () {
      var f = figures(S), assignment = {}, hubOf = {}, checks = {};
      for (var i = 0; i < n; i++) {
        assignment[code(i)] = f.P.a[i] < 0 ? null : code(f.P.a[i]);
        if (!siteOnly[i]) hubOf[code(i)] = S.hubOf[i] < 0 ? "" : S.hubs[S.hubOf[i]].id;
      }
      Object.keys(f.checks).forEach(function (k) {
        checks[k] = f.checks[k].map(function (x) { return x.text; });
      });
      return {
        assignment: assignment, hub_of: hubOf, hubs: f.hubs, checks: checks, breaches: f.breaches,
        overall: f.overall, patient_minutes: f.patient_minutes, moved_vs_today: f.moved_vs_today,
        changed: changedRows().map(code), undo: undoStack.length, redo: redoStack.length,
        ms: lastMs, times: times.slice(),
      };
    },
    csv: function () { return planCsv(); },
    enter: function () { enter(); },
    exit: function () { exit(); },
    editing: function () { return editing; },
    point: function (c) {  // where practice c is drawn, in page pixels (for tests)
      var i = index[c], p = map.latLngToContainerPoint([D.lat[i], D.lon[i]]),
          r = map.getContainer().getBoundingClientRect();
      return { x: r.left + p.x, y: r.top + p.y };
    },
  };

  function changedRows() {
    var out = [];
    for (var i = 0; i < n; i++) {
      if (siteOnly[i]) continue;
      var a = S.hubOf[i] < 0 ? "" : S.hubs[S.hubOf[i]].id;
      var b = proposal.hubOf[i] < 0 ? "" : proposal.hubs[proposal.hubOf[i]].id;
      if (a !== b) out.push(i);
    }
    return out;
  }
  function planCsv() {  // hubopt.outputs.editing.DOWNLOAD_COLUMNS
    var quote = function (t) { t = String(t); return /[",\n]/.test(t) ? '"' + t.replace(/"/g, '""') + '"' : t; };
    var lines = [D.columns.join(",")];
    for (var i = 0; i < n; i++) {
      if (siteOnly[i]) continue;
      var h = S.hubOf[i] < 0 ? null : S.hubs[S.hubOf[i]], p = proposal.hubOf[i] < 0 ? null : proposal.hubs[proposal.hubOf[i]];
      lines.push([code(i), h ? h.id : "", h ? code(h.site) : "", p ? p.id : "", p ? code(p.site) : "",
        (h ? h.id : "") !== (p ? p.id : "") ? "yes" : "no"].map(quote).join(","));
    }
    return lines.join("\n") + "\n";
  }

  // ------------------------------------------------------------------ drawing
  var layer = L.featureGroup(), lineLayer = L.featureGroup(), markLayer = L.featureGroup(),
      labelLayer = L.featureGroup(), selLayer = L.featureGroup(), ringLayer = L.featureGroup(), hubMarks = {};
  var circles = [], lines = [], editing = false, base = figures(proposal), current = base;
  var radius = function (i) { return 4 + Math.sqrt(size(i) / 2000) * 2; };
  for (var i0 = 0; i0 < n; i0++) {
    (function (i) {
      var ll = [D.lat[i], D.lon[i]];
      lines.push(L.polyline([ll, ll], { weight: 1.5, opacity: 0.8, interactive: false }).addTo(lineLayer));
      if (siteOnly[i]) { circles.push(null); return; }
      var c = L.circleMarker(ll, { radius: radius(i), color: "#222", weight: 1, fillOpacity: 0.95 });
      c.on("click", function (e) {
        L.DomEvent.stopPropagation(e);
        var add = e.originalEvent && (e.originalEvent.shiftKey || e.originalEvent.ctrlKey || e.originalEvent.metaKey);
        if (add && selected[i]) { delete selected[i]; drawSelection(); renderToolbar(); }
        else api.select([i], add);
      });
      c.bindTooltip(function () { return tooltipOf(i); });
      circles.push(c.addTo(layer));
    })(i0);
  }
  lineLayer.addTo(layer); ringLayer.addTo(layer); markLayer.addTo(layer); selLayer.addTo(layer);
  labelLayer.addTo(layer);

  function update(t0, before) {
    var old = before ? current : null;  // the figures shown are the state before's
    current = figures(S);
    touched = {};
    if (old) {  // hubs whose members, site or figures changed
      var key = function (h) { return JSON.stringify(h); }, was = {};
      old.hubs.forEach(function (h) { was[h.hub_id] = key(h); });
      current.hubs.forEach(function (h) { if (was[h.hub_id] !== key(h)) touched[h.hub_id] = 1; });
    }
    draw();
    lastMs = performance.now() - t0;
    times.push(lastMs);
  }
  function draw() {
    var P = current.P, bad = {}, badRow = {}, hubById = {};
    Object.keys(current.checks).forEach(function (name) {
      current.checks[name].forEach(function (f) {
        if (f.hub !== undefined && f.hub >= 0) (bad[f.hub] = bad[f.hub] || []).push(f.text);
        if (f.row !== undefined) (badRow[f.row] = badRow[f.row] || []).push(f.text);
        (f.rows || []).forEach(function (r) { (badRow[r] = badRow[r] || []).push(f.text); });
      });
    });
    current.hubs.forEach(function (h) { hubById[h.hub_id] = h; });
    ringLayer.clearLayers();
    var changed = {};
    changedRows().forEach(function (i) { changed[i] = 1; });
    shown = { P: P, badRow: badRow, changed: changed };
    for (var i = 0; i < n; i++) {
      var h = S.hubOf[i] >= 0 ? S.hubs[S.hubOf[i]] : null, line = lines[i];
      var j = P.a[i], ll = [D.lat[i], D.lon[i]];
      var alarm = bad[S.hubOf[i]] || badRow[i];
      var look = j + (h ? h.colour : "") + (alarm ? "!" : "");
      if (drawn[i] === look) continue;  // only what changed is redrawn
      drawn[i] = look;
      line.setLatLngs(j >= 0 && j !== i ? [ll, [D.lat[j], D.lon[j]]] : [ll, ll]);
      if (h) line.setStyle({ color: h.colour });
      if (!circles[i]) continue;
      circles[i].setStyle({ fillColor: h ? h.colour : "#fff", color: alarm ? D.breach : "#222",
        weight: alarm ? 2.5 : (j === i ? 2.5 : 1) });
    }
    for (i = 0; i < n; i++) {
      var ll2 = [D.lat[i], D.lon[i]];
      if (changed[i]) L.circleMarker(ll2, { radius: radius(i) + 3, color: "#6a1b9a", weight: 2, dashArray: "3 3",
        fill: false, interactive: false }).addTo(ringLayer);
      if (badRow[i]) L.circleMarker(ll2, { radius: radius(i) + 6, color: D.breach, weight: 3, fill: false,
        interactive: false }).addTo(ringLayer);
    }
    var alive = {};
    P.hubs.forEach(function (h) {  // a hub's star and label are redrawn only when they change
      var f = hubById[h.id], alert = !!bad[h.k], lat = 0, lon = 0;
      h.practices.forEach(function (i) { lat += D.lat[i]; lon += D.lon[i]; });
      lat /= h.practices.length; lon /= h.practices.length;
      var key = [h.site, h.colour, f.list_size, alert, !!touched[h.id], lat, lon].join("|"), m = hubMarks[h.id];
      alive[h.id] = 1;
      if (m && m.key === key) return;
      if (m) { markLayer.removeLayer(m.star); labelLayer.removeLayer(m.label); }
      hubMarks[h.id] = { key: key, star: L.marker([D.lat[h.site], D.lon[h.site]], { interactive: false, icon: L.divIcon({
        html: siteOnly[h.site] ? '<div class="hubopt-location" style="background:' + h.colour + '">H</div>'
          : '<div class="hubopt-site">&#9733;</div>',
        iconSize: [20, 20], iconAnchor: [10, 11], className: "hubopt-site-icon" }) }).addTo(markLayer),
        label: L.marker([lat, lon], { interactive: false, icon: L.divIcon({
        html: '<div class="hubopt-label' + (touched[h.id] ? " hubopt-touched" : "") + '" style="border-color:' +
          (alert ? D.breach : h.colour) + '">' + (alert ? "&#9888;" : "") + esc(h.id) + "<small>" +
          thousands(f.list_size) + "</small></div>",
        iconSize: [58, 30], iconAnchor: [29, -8], className: "hubopt-label-icon" }) }).addTo(labelLayer) };
    });
    Object.keys(hubMarks).forEach(function (id) {
      if (alive[id]) return;
      markLayer.removeLayer(hubMarks[id].star);
      labelLayer.removeLayer(hubMarks[id].label);
      delete hubMarks[id];
    });
    if (ui.declutter) ui.declutter(labelLayer);
    drawSelection();
    renderPanel(bad);
    var first = panel.querySelector("tr.hubopt-touched");  // bring the hubs touched into view
    if (first && editing) {
      var off = first.getBoundingClientRect().top - ui.legend.getBoundingClientRect().top;
      if (off < 0 || off > ui.legend.clientHeight - 20) ui.legend.scrollTop += off - ui.legend.clientHeight / 2;
    }
    renderBar();
    renderToolbar();
  }
  var drawn = [], shown = null;
  function tooltipOf(i) {
    var h = S.hubOf[i] >= 0 ? S.hubs[S.hubOf[i]] : null, j = shown ? shown.P.a[i] : -1,
        bad = shown && shown.badRow[i];
    return esc(D.names[i]) + " (" + esc(code(i)) + "): hub " + (h ? esc(h.id) : "none") + ", " +
      thousands(size(i)) + " patients" +
      (j >= 0 ? ", " + pyFixed(minutes(i, j), 1) + " " + esc(D.unit) + " to the site" : "") +
      (shown && shown.changed[i] ? "<br><b>changed by you</b>" : "") +
      (bad ? "<br><b style='color:" + D.breach + "'>" + bad.map(esc).join("<br>") + "</b>" : "");
  }
  function drawSelection() {
    selLayer.clearLayers();
    Object.keys(selected).forEach(function (k) {
      var i = Number(k);
      L.circleMarker([D.lat[i], D.lon[i]], { radius: radius(i) + 4, color: "#0091ea", weight: 4, fill: false,
        interactive: false }).addTo(selLayer);
    });
  }

  // ------------------------------------------------------------------ panels
  var box = L.DomUtil.create("div", "hubopt-edit-box", map.getContainer());
  var startBtn = L.DomUtil.create("button", "hubopt-edit-start", box);
  startBtn.innerHTML = "&#9998; Edit this plan";
  startBtn.title = "Try your own changes: move practices between hubs, every rule checked as you go";
  var tools = L.DomUtil.create("div", "hubopt-edit-tools", box);
  tools.style.display = "none";
  var bar = L.DomUtil.create("div", "hubopt-edit-bar", map.getContainer());
  bar.style.display = "none";
  var panel = L.DomUtil.create("div", "hubopt-edit-panel", ui.legend);
  panel.style.display = "none";
  [box, bar].forEach(function (el) {
    L.DomEvent.disableClickPropagation(el);
    L.DomEvent.disableScrollPropagation(el);
  });
  startBtn.addEventListener("click", function () { enter(); });
  tools.innerHTML =
    '<div class="hubopt-edit-title"><b>Editing the plan</b> &mdash; <span data-role="hint"></span></div>' +
    '<div class="hubopt-edit-row">' +
    '<label>Move to <select data-role="hub"></select></label>' +
    '<button data-act="move" title="Move the selected practices to the hub chosen">Move</button>' +
    '<button data-act="new" title="The selected practices become a hub of their own">New hub</button>' +
    '<button data-act="site" title="The selected practice becomes its hub\'s site">Make hub site</button>' +
    '<span class="hubopt-sep"></span>' +
    '<button data-act="undo" title="Undo (Ctrl+Z)">&#8630; Undo</button>' +
    '<button data-act="redo" title="Redo (Ctrl+Y)">&#8631; Redo</button>' +
    '<span class="hubopt-sep"></span>' +
    '<button data-act="reset" title="Back to the proposal">Reset to proposal</button>' +
    (D.today ? '<button data-act="today" title="Start from today\'s groups instead">Start from today</button>' : "") +
    '<span class="hubopt-sep"></span>' +
    '<button data-act="download" class="hubopt-primary" title="Save your plan as a CSV for the planner">&#11015; Download plan</button>' +
    '<button data-act="done" title="Leave edit mode (your edit is kept)">Done</button></div>';
  var q = function (sel) { return tools.querySelector(sel); };
  tools.addEventListener("click", function (e) {
    var act = e.target.getAttribute && e.target.getAttribute("data-act");
    if (!act) return;
    var sel = api.selected();
    if (act === "move") api.moveTo(sel, q("[data-role=hub]").value);
    else if (act === "new") api.newHub(sel);
    else if (act === "site") api.makeSite(sel[0]);
    else if (act === "undo") api.undo();
    else if (act === "redo") api.redo();
    else if (act === "reset") api.reset();
    else if (act === "today") api.startFromToday();
    else if (act === "download") download();
    else if (act === "done") exit();
  });
  document.addEventListener("keydown", function (e) {
    if (!editing || !(e.ctrlKey || e.metaKey)) return;
    var key = e.key.toLowerCase();
    if (key === "z" && !e.shiftKey) { api.undo(); e.preventDefault(); }
    else if (key === "y" || (key === "z" && e.shiftKey)) { api.redo(); e.preventDefault(); }
  });
  function renderToolbar() {
    if (!editing) return;
    var sel = api.selected(), hint = q("[data-role=hint]");
    hint.innerHTML = sel.length
      ? "<b>" + sel.length + " selected</b>: " + sel.slice(0, 4).map(function (c) { return esc(D.names[index[c]]); }).join(", ") +
        (sel.length > 4 ? ", &hellip;" : "") + " &mdash; choose a hub and press <i>Move</i>"
      : "click a practice to select it; shift-click or shift-drag a box to select several";
    var pick = q("[data-role=hub]"), was = pick.value;
    pick.innerHTML = current.hubs.map(function (h) {
      return '<option value="' + esc(h.hub_id) + '">' + esc(h.hub_id) + " (" + thousands(h.list_size) + ")</option>";
    }).join("");
    if (was) pick.value = was;
    var dis = function (act, off) { var b = q("[data-act=" + act + "]"); if (b) b.disabled = off; };
    dis("move", !sel.length); dis("new", !sel.length); dis("site", sel.length !== 1);
    dis("undo", !undoStack.length); dis("redo", !redoStack.length);
    q("[data-act=undo]").innerHTML = "&#8630; Undo" + (undoStack.length ? " (" + undoStack.length + ")" : "");
  }
  function delta(now, then, digits, better) {
    var d = now - then;
    if (Math.abs(d) < Math.pow(10, -digits) / 2) return "";
    var good = better === "down" ? d < 0 : d > 0;
    return ' <span class="' + (good ? "hubopt-good" : "hubopt-bad") + '">(' + (d > 0 ? "+" : "&minus;") +
      (digits ? Math.abs(d).toFixed(digits) : thousands(Math.abs(d))) + ")</span>";
  }
  function renderBar() {
    var c = current, b = base, o = c.overall, ob = b.overall, pct = b.patient_minutes
      ? (c.patient_minutes - b.patient_minutes) / b.patient_minutes : 0;
    var part = function (label, html, title) {
      return '<span class="hubopt-edit-fig" title="' + esc(title) + '">' + label + " <b>" + html + "</b></span>";
    };
    bar.innerHTML = '<span class="hubopt-edit-what">Your plan vs the proposal:</span>' +
      part("patient-minutes", thousands(c.patient_minutes) + delta(c.patient_minutes, b.patient_minutes, 0, "down") +
        (Math.abs(pct) >= 0.0005 ? " " + (pct > 0 ? "+" : "&minus;") + Math.abs(pct * 100).toFixed(1) + "%" : ""),
        "sum of list size x " + D.unit + " to the hub site (proposal " + thousands(b.patient_minutes) + ")") +
      part("hubs in band", o["hubs in band"] + " of " + o.hubs + delta(o["hubs in band"], ob["hubs in band"], 0, "up"),
        "proposal: " + ob["hubs in band"] + " of " + ob.hubs) +
      part("rule breaches", '<span class="' + (c.breaches ? "hubopt-bad" : "hubopt-good") + '">' + c.breaches + "</span>" +
        (b.breaches !== c.breaches ? " (proposal " + b.breaches + ")" : ""), "failures of the independent checks") +
      part("worst", pyFixed(o["worst minutes to site"], 1) + " " + esc(D.unit) +
        delta(o["worst minutes to site"], ob["worst minutes to site"], 1, "down"), "worst travel to a hub site") +
      (c.moved_vs_today === null ? "" : part("moved vs today", c.moved_vs_today + delta(c.moved_vs_today, b.moved_vs_today, 0, "down"),
        "practices not in the hub matched with their group today (proposal " + b.moved_vs_today + ")")) +
      part("changed by you", changedRows().length, "practices whose hub differs from the proposal") +
      (D.estimate ? '<span class="hubopt-bad"> straight-line estimate, not road travel</span>' : "");
  }
  function renderPanel(bad) {
    var rowsHtml = current.hubs.map(function (h) {
      var k = S.hubs.findIndex(function (x) { return x.id === h.hub_id; }), colour = S.hubs[k].colour;
      var flag = bad[k] ? '<span style="color:' + D.breach + '" title="' + esc(bad[k].join("\n")) + '">&#9888;</span>'
        : (h.exemption ? '<span title="exempt: ' + esc(h.exemption) + '">&#9675;</span>' : "");
      return '<tr class="' + (touched[h.hub_id] ? "hubopt-touched" : "") + '" data-hub="' + esc(h.hub_id) + '"><td>' +
        '<span class="hubopt-swatch" style="background:' + colour + ";border-color:" + colour + '"></span>' + esc(h.hub_id) +
        "</td><td>" + esc(h.site_name) + '</td><td align=right>' + h.practices + "</td><td align=right>" +
        thousands(h.list_size) + "</td><td align=right>" + pyFixed(h.max_minutes, 1) + "</td><td align=right>" +
        pyFixed(h.mean_minutes, 1) + "</td><td>" + flag + "</td></tr>";
    }).join("");
    var fails = [];
    Object.keys(current.checks).forEach(function (name) {
      current.checks[name].forEach(function (f) { fails.push("<li><b>" + name + "</b>: " + esc(f.text) + "</li>"); });
    });
    var checked = Object.keys(current.checks).map(function (k) {
      return '<span class="' + (current.checks[k].length ? "hubopt-bad" : "hubopt-good") + '">' + k + " " +
        (current.checks[k].length ? "&#10007;" : "&#10003;") + "</span>";
    }).join(" ");
    panel.innerHTML = "<div class='hubopt-status'>Your edit of the plan</div>" +
      (D.estimate ? "<div style='color:" + D.breach + "'><b>Travel times are a straight-line estimate</b>, not road travel.</div>" : "") +
      "band " + thousands(R.population_min) + "-" + thousands(R.population_max) + " patients (" + R.band.replace("_", " ") +
      "), travel cap " + R.travel_cap_minutes + " " + esc(D.unit) + (R.contiguous ? ", one connected area per hub" : "") + "." +
      "<div class='hubopt-checks'>" + checked + "</div>" +
      (fails.length ? "<div class='hubopt-fails'><b style='color:" + D.breach + "'>" + fails.length +
        " rule breach" + (fails.length > 1 ? "es" : "") + "</b><ul>" + fails.join("") + "</ul></div>"
        : "<div class='hubopt-good'><b>Every rule holds.</b></div>") +
      "<table class='hubopt-table'><tr><th align=left>hub</th><th align=left>site</th><th title='practices'>pr.</th>" +
      "<th>patients</th><th title='worst " + esc(D.unit) + " to the hub site'>worst<br>min</th>" +
      "<th title='patient-weighted mean " + esc(D.unit) + " to the hub site'>mean<br>min</th><th></th></tr>" + rowsHtml + "</table>" +
      "<div class='hubopt-key'>Touched hubs are highlighted; <span class='hubopt-ring' style='border-color:#6a1b9a'></span> " +
      "changed by you, <span style='color:" + D.breach + "'>&#9711;</span> a practice in breach. " +
      "Click a hub row to select its practices.</div>";
  }
  panel.addEventListener("click", function (e) {
    var tr = e.target.closest && e.target.closest("tr[data-hub]");
    if (!tr) return;
    var h = S.hubs.findIndex(function (x) { return x.id === tr.getAttribute("data-hub"); }), list = [];
    for (var i = 0; i < n; i++) if (S.hubOf[i] === h && !siteOnly[i]) list.push(i);
    api.select(list, e.shiftKey);
  });

  function download() {
    var blob = new Blob([planCsv()], { type: "text/csv" });
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = (ui.name || "plan") + "-edited.csv";
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }

  // shift-drag: select the practices inside a box (Leaflet's box zoom is off meanwhile)
  var drag = null, rect = null;
  map.getContainer().addEventListener("mousedown", function (e) {
    if (!editing || !e.shiftKey || e.button !== 0) return;
    if (e.target.closest && e.target.closest(".hubopt-edit-box, .hubopt-legend, .hubopt-edit-bar, .leaflet-control")) return;
    drag = map.mouseEventToContainerPoint(e);
    map.dragging.disable();
    e.preventDefault();
  }, true);
  document.addEventListener("mousemove", function (e) {
    if (!drag) return;
    var p = map.mouseEventToContainerPoint(e), b = L.latLngBounds(map.containerPointToLatLng(drag), map.containerPointToLatLng(p));
    if (!rect) rect = L.rectangle(b, { color: "#0091ea", weight: 1, dashArray: "4 3", fillOpacity: 0.08, interactive: false }).addTo(map);
    else rect.setBounds(b);
  });
  document.addEventListener("mouseup", function () {
    if (!drag) return;
    drag = null;
    map.dragging.enable();
    if (!rect) return;
    var b = rect.getBounds(), list = [];
    map.removeLayer(rect);
    rect = null;
    for (var i = 0; i < n; i++) if (!siteOnly[i] && b.contains([D.lat[i], D.lon[i]])) list.push(i);
    api.select(list, true);
    boxed = true;  // the click that ends the drag keeps the selection
    setTimeout(function () { boxed = false; }, 0);
  });
  var boxed = false;
  map.on("click", function () {
    if (editing && !boxed && Object.keys(selected).length) api.select([], false);
  });

  map.on("zoomend", function () { if (editing && ui.declutter) ui.declutter(labelLayer); });
  function enter() {
    if (editing) return;
    editing = true;
    map.boxZoom.disable();
    ui.hide();
    layer.addTo(map);
    startBtn.style.display = "none";
    tools.style.display = "";
    bar.style.display = "";
    panel.style.display = "";
    var t0 = performance.now();
    update(t0, null);
  }
  function exit() {
    if (!editing) return;
    editing = false;
    map.boxZoom.enable();
    map.removeLayer(layer);
    ui.show();
    startBtn.style.display = "";
    startBtn.innerHTML = undoStack.length ? "&#9998; Back to your edit" : "&#9998; Edit this plan";
    tools.style.display = "none";
    bar.style.display = "none";
    panel.style.display = "none";
  }
  return api;
}
