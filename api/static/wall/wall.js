/* gridmap command-centre wall map. Plain ES2017, no build step.
 *
 * The page (api/pages/wall.py) holds a folium map with no tiles, the side panel and a JSON configuration
 * (#wall-config). This script keeps the map and panel current from the layer API (/api/layers/...),
 * authenticated by the gridmap_key cookie.
 *
 * It runs unattended for hours, so:
 *  - one scheduler chain: at any moment there is either one pending poll timer or one running cycle;
 *  - at most one request in flight: a cycle's requests run one after another under one AbortController
 *    (a measure switch aborts it; a watchdog aborts a request that hangs);
 *  - layers are created once and updated in place (setStyle, or clearLayers + addData on the same layer);
 *  - polls back off exponentially while the server cannot be reached, and recover by themselves.
 */
(function () {
  'use strict';

  const PREFERRED = ['open_cases', 'overdue', 'response_p50_h', 'unvisited_share', 'org_gaps',
    'on_time_rate', 'satisfaction', 'grade'];
  const NO_DATA_COLOUR = '#bdbdbd';
  const MAX_BACKOFF_MS = 60000;
  const REQUEST_TIMEOUT_MS = 20000;
  const IDLE_HOME_MS = 180000; // back to the whole district after 3 minutes without a hand on the map
  const PULSE_LIMIT = 30; // overdue markers that pulse (see choosePulsing)
  const COVERAGE_EVERY_MS = 30000; // coverage gaps are slow to compute and change rarely: refetch at most this often
  const COLOUR = /^#[0-9a-fA-F]{3,8}$/;

  let config = null;
  let T = {};
  let map = null;
  let gridLayer = null;
  let overdueLayer = null;
  let coverageLayer = null;
  let coverageRenderer = null;
  const gridById = new Map(); // grid code -> its Leaflet polygon, rebuilt only when the shapes change

  const state = {
    measures: [], // [{key, label, unit, higher_is_worse}] from /api/layers/measures
    measure: null, // the measure asked for
    shown: null, // {measure, version} of the grids and summary on screen
    overdueVersion: null,
    coverageVersion: null,
    coverageAt: null, // when the coverage gaps were last fetched
    replicaLag: null, // seconds the read replica is behind, when the map reads from one
    showOverdue: true,
    showCoverage: true,
    overdueAvailable: true,
    coverageAvailable: true,
    legend: [],
    periodLabel: null, // the period as the API names it ("近30天")
    home: null, // bounds of the whole district
    away: false, // the view was moved by hand
    lastInteraction: Date.now(),
    lastUpdated: null, // when the data on screen was fetched
    failures: 0,
    status: 'connecting',
    stopped: false,
  };
  // Counters for tests and for anyone debugging a wall from the browser console.
  const stats = { cycles: 0, requests: 0, refreshes: 0, rebuilds: 0, aborted: 0, failures: 0 };

  let pollTimer = null; // the one pending poll
  let running = null; // AbortController of the running cycle
  let phase = null; // what the running cycle fetches: 'version', 'measure' (grids, summary) or 'layers'
  let rerun = false; // run another cycle as soon as the running one ends
  let rotateTimer = null; // the one pending rotation
  let hovered = null; // grid polygon under the pointer
  let fitting = false; // true while the script itself moves the map

  // -- small helpers -------------------------------------------------------------------------------

  function esc(value) {
    return String(value === null || value === undefined ? '' : value).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  function colourOf(value) {
    return typeof value === 'string' && COLOUR.test(value) ? value : NO_DATA_COLOUR;
  }

  function fmt(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, name) { return name in values ? values[name] : all; });
  }

  function number(value, digits) {
    return value.toLocaleString(config.lang, { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }

  /** A measure's value as the wall shows it: shares as percentages, hours with a unit, counts whole. */
  function formatValue(value, unit) {
    if (value === null || value === undefined || (typeof value === 'number' && isNaN(value))) return '—';
    if (typeof value !== 'number') return String(value);
    if (unit === 'share') return number(value * 100, 1) + '%';
    if (unit === 'h') return number(value, 1) + T.unit_h;
    if (unit === 'points') return number(value, 0);
    return Number.isInteger(value) ? number(value, 0) : number(value, 1);
  }

  function clock(date) {
    return date.toLocaleTimeString(config.lang, { hour12: false });
  }

  function measureSpec(key) {
    return state.measures.find(function (m) { return m.key === key; }) || { key: key, label: key, unit: '' };
  }

  function apiUrl(path, params) {
    const query = new URLSearchParams();
    Object.keys(params || {}).forEach(function (k) {
      if (params[k] !== null && params[k] !== undefined) query.set(k, params[k]);
    });
    const text = query.toString();
    return path + (text ? '?' + text : '');
  }

  /** GET JSON with the cycle's signal; an HTTP error carries its status. */
  async function getJSON(path, signal) {
    stats.requests += 1;
    try {
      const response = await fetch(path, {
        signal: signal, credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' },
      });
      if (!response.ok) {
        const error = new Error('HTTP ' + response.status + ' for ' + path);
        error.status = response.status;
        throw error;
      }
      return await response.json();
    } catch (error) {
      if (!error.status && error.name !== 'AbortError') error.network = true; // unreachable or cut off
      throw error;
    }
  }

  /** GET an optional layer: an HTTP error (other than signed out) gives null instead of failing the cycle,
   * so a broken overdue or coverage layer never blanks the grids; it is tried again on the next version. */
  async function getOptional(path, signal) {
    try {
      return await getJSON(path, signal);
    } catch (error) {
      if (error.status && error.status !== 401 && error.status !== 403) {
        console.warn('wall: optional layer unavailable', path, error.message);
        return null;
      }
      throw error;
    }
  }

  // -- the scheduler -------------------------------------------------------------------------------

  function schedule(ms) {
    clearTimeout(pollTimer);
    pollTimer = state.stopped ? null : setTimeout(cycle, ms);
  }

  /** Refresh as soon as possible. A cycle fetching a measure that is no longer wanted is aborted (it
   * reschedules at once); one that is only polling the version or the point layers is let finish first. */
  function refreshNow() {
    if (running && phase === 'measure') running.abort();
    else if (running) rerun = true;
    else schedule(0);
  }

  function backoff() {
    const base = Math.min(config.poll_ms * Math.pow(2, state.failures), MAX_BACKOFF_MS);
    return Math.round(base * (0.9 + Math.random() * 0.2));
  }

  async function cycle() {
    pollTimer = null;
    if (running || state.stopped) return; // never two cycles at once
    const controller = new AbortController();
    running = controller;
    stats.cycles += 1;
    let timedOut = false;
    const watchdog = setTimeout(function () { timedOut = true; controller.abort(); }, REQUEST_TIMEOUT_MS);
    let next = config.poll_ms;
    try {
      await step(controller.signal);
      state.failures = 0;
      setStatus('online');
    } catch (error) {
      if (controller.signal.aborted && !timedOut) {
        stats.aborted += 1;
        next = 0; // aborted for a measure switch: start again at once
      } else if (error.status === 401 || error.status === 403) {
        signedOut();
        return;
      } else {
        stats.failures += 1;
        state.failures += 1;
        next = backoff();
        // Unreachable, cut off, hung (the watchdog) or a gateway without its server: offline.
        const unreachable = error.network || timedOut || [502, 503, 504].indexOf(error.status) >= 0;
        if (!unreachable && !error.status) console.error('wall: cannot draw the data', error);
        setStatus(unreachable ? 'offline' : 'error', error.status);
      }
    } finally {
      clearTimeout(watchdog);
      running = null;
      phase = null;
    }
    if ((controller.signal.aborted && !timedOut) || rerun) next = 0;
    rerun = false;
    schedule(next);
  }

  /** One cycle: poll the version; fetch what changed (one request at a time); then draw it all at once. */
  async function step(signal) {
    phase = 'version';
    if (!state.measures.length) await loadMeasures(signal);
    const polled = await getJSON('/api/layers/version', signal);
    const version = polled.version;
    state.replicaLag = typeof polled.replica_lag_seconds === 'number' ? polled.replica_lag_seconds : null;
    const measure = state.measure;
    const needGrids = !state.shown || state.shown.version !== version || state.shown.measure !== measure;
    const needOverdue = state.overdueVersion !== version;
    const needCoverage = state.showCoverage && state.coverageVersion !== version
      && (state.coverageAt === null || Date.now() - state.coverageAt >= COVERAGE_EVERY_MS);
    if (!needGrids && !needOverdue && !needCoverage) return;
    const common = { period: config.period, lang: config.lang };
    phase = 'measure';
    const grids = needGrids
      ? await getJSON(apiUrl('/api/layers/grids', Object.assign({ measure: measure, classify: 'fixed' }, common)), signal)
      : null;
    const summary = needGrids
      ? await getJSON(apiUrl('/api/layers/summary', Object.assign({ measure: measure }, common)), signal)
      : null;
    phase = 'layers';
    const overdue = needOverdue ? await getOptional(apiUrl('/api/layers/overdue', { lang: config.lang }), signal) : null;
    const coverage = needCoverage
      ? await getOptional(apiUrl('/api/layers/coverage', { lang: config.lang }), signal) : null;
    if (grids) {
      state.shown = { measure: measure, version: version }; // first, so tooltips name the new measure
      applyGrids(grids, measure);
      applySummary(summary, measure);
      stats.refreshes += 1;
      if (rotateTimer === null) restartRotation();
    }
    if (needOverdue) {
      state.overdueAvailable = overdue !== null;
      if (overdue) applyOverdue(overdue);
      state.overdueVersion = version;
    }
    if (needCoverage) {
      state.coverageAvailable = coverage !== null;
      if (coverage) applyCoverage(coverage);
      state.coverageVersion = version;
      state.coverageAt = Date.now();
    }
    updateToggles();
    state.lastUpdated = new Date();
    renderUpdated();
  }

  async function loadMeasures(signal) {
    const all = await getJSON(apiUrl('/api/layers/measures', { lang: config.lang }), signal);
    const wanted = PREFERRED.map(function (key) { return all.find(function (m) { return m.key === key; }); })
      .filter(Boolean);
    state.measures = wanted.length ? wanted : all;
    const keys = state.measures.map(function (m) { return m.key; });
    if (keys.indexOf(state.measure) < 0) state.measure = keys[0];
    renderButtons();
    renderMeasureTitle();
  }

  // -- measure choice and rotation -----------------------------------------------------------------

  function selectMeasure(key) {
    if (key === state.measure && state.shown && state.shown.measure === key) {
      restartRotation();
      return;
    }
    state.measure = key;
    renderButtons();
    renderMeasureTitle();
    restartRotation();
    refreshNow();
  }

  function restartRotation() {
    clearTimeout(rotateTimer);
    rotateTimer = null;
    if (config.rotate_ms > 0 && !state.stopped) rotateTimer = setTimeout(rotate, config.rotate_ms);
  }

  function rotate() {
    rotateTimer = null;
    // The measure asked for is not on screen yet (slow server): give it a full turn before moving on.
    if (!state.shown || state.shown.measure !== state.measure || state.measures.length < 2) {
      restartRotation();
      return;
    }
    const keys = state.measures.map(function (m) { return m.key; });
    selectMeasure(keys[(keys.indexOf(state.measure) + 1) % keys.length]);
  }

  // -- the grids -----------------------------------------------------------------------------------

  function baseStyle(feature) {
    return {
      color: '#dfe7f2', weight: Math.max(0.8, remPx(0.05)), opacity: 0.75,
      fillColor: colourOf(feature.properties.colour), fillOpacity: 0.85,
    };
  }

  function styleOf(layer) {
    const style = baseStyle(layer.feature);
    if (layer === hovered) {
      style.color = '#ffffff';
      style.weight = Math.max(3, remPx(0.2));
      style.opacity = 1;
    }
    return style;
  }

  function gridId(feature) {
    return String(feature.id !== undefined && feature.id !== null ? feature.id : feature.properties.code);
  }

  function bindGrid(feature, layer) {
    layer.bindTooltip(function (l) { return gridTooltip(l.feature.properties); },
      { sticky: true, className: 'wall-tip', direction: 'top', offset: [0, -8] });
    layer.bindPopup(function (l) { return gridPopup(l.feature.properties); },
      { className: 'wall-popup', maxWidth: remPx(36), autoPanPadding: [remPx(2), remPx(2)] });
    layer.on('mouseover', function () {
      hovered = layer;
      layer.setStyle(styleOf(layer));
      layer.bringToFront();
    });
    layer.on('mouseout', function () {
      if (hovered === layer) hovered = null;
      layer.setStyle(styleOf(layer));
    });
  }

  function gridTooltip(p) {
    const spec = measureSpec(state.shown ? state.shown.measure : state.measure);
    return '<b>' + esc(p.name) + '</b> <span class="code">' + esc(p.code) + '</span><br>'
      + esc(spec.label) + ': <span class="v">' + esc(formatValue(p.value, spec.unit)) + '</span><br>'
      + esc(T.open_cases) + ' ' + esc(formatValue(p.open_cases, 'cases'))
      + ' · ' + esc(T.overdue) + ' ' + esc(formatValue(p.overdue, 'cases'));
  }

  function gridPopup(p) {
    const spec = measureSpec(state.shown ? state.shown.measure : state.measure);
    const workers = typeof p.grid_workers === 'number' ? fmt(T.persons, { n: p.grid_workers })
      : Array.isArray(p.grid_workers) ? p.grid_workers.join('、') : p.grid_workers;
    const rows = [
      [T.community, p.community_name], [T.street, p.street_name], [T.branch, p.branch], [T.team, p.team],
      [T.leader, p.leader], [T.grid_workers, workers],
    ];
    // The measure's own row comes first; do not repeat it.
    if (spec.key !== 'open_cases') rows.push([T.open_cases, formatValue(p.open_cases, 'cases')]);
    if (spec.key !== 'overdue') rows.push([T.overdue, formatValue(p.overdue, 'cases')]);
    if (spec.key !== 'grade') rows.push([T.grade, p.grade]);
    return '<h3>' + esc(p.name) + '</h3><div class="code">' + esc(T.code) + ' ' + esc(p.code) + '</div><table>'
      + '<tr class="measure"><th>' + esc(spec.label) + '</th><td>' + esc(formatValue(p.value, spec.unit)) + '</td></tr>'
      + rows.map(function (r) {
        return '<tr><th>' + esc(r[0]) + '</th><td>' + esc(r[1] === null || r[1] === undefined || r[1] === '' ? '—' : r[1])
          + '</td></tr>';
      }).join('') + '</table>';
  }

  /** Put a new grids collection on the map: restyle the same polygons, or rebuild them if shapes changed. */
  function applyGrids(collection, measure) {
    const features = collection.features || [];
    if (collection.period && collection.period.label) {
      state.periodLabel = collection.period.label;
      renderMeasureTitle();
    }
    state.legend = Array.isArray(collection.legend) ? collection.legend : [];
    // Shapes compared as GeoJSON text: a redrawn boundary under the same code is a new shape too.
    const shapes = new Map(features.map(function (f) { return [gridId(f), JSON.stringify(f.geometry)]; }));
    let sameShapes = features.length === gridById.size;
    shapes.forEach(function (shape, id) {
      const layer = gridById.get(id);
      sameShapes = sameShapes && Boolean(layer) && layer.wallShape === shape;
    });
    if (sameShapes) {
      features.forEach(function (f) {
        const layer = gridById.get(gridId(f));
        layer.feature = f;
        layer.setStyle(styleOf(layer));
      });
    } else {
      stats.rebuilds += 1;
      hovered = null;
      map.closePopup();
      gridLayer.clearLayers();
      gridById.clear();
      gridLayer.addData(collection);
      gridLayer.eachLayer(function (layer) {
        const id = gridId(layer.feature);
        gridById.set(id, layer);
        layer.wallShape = shapes.get(id);
      });
      if (features.length) {
        state.home = gridLayer.getBounds();
        if (!state.away) fitHome();
      }
    }
    // An open tooltip or popup shows the new figures at once.
    gridLayer.eachLayer(function (layer) {
      if (layer.isTooltipOpen && layer.isTooltipOpen()) layer.getTooltip().update();
      if (layer.isPopupOpen && layer.isPopupOpen()) layer.getPopup().update();
    });
    renderLegend(measure);
  }

  function fitHome() {
    if (!state.home || !state.home.isValid()) return;
    fitting = true;
    map.fitBounds(state.home, { padding: [remPx(1), remPx(1)], animate: false });
    fitting = false;
    state.away = false;
  }

  let rem = 16; // CSS pixels per rem, measured at start and on resize (the type scales with the screen)

  function remPx(n) {
    return n * rem;
  }

  function measureRem() {
    rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
  }

  // -- overdue cases and coverage gaps --------------------------------------------------------------

  const icons = {}; // at most six divIcons, shared by every marker
  let pulsing = new Set(); // ids of the overdue cases whose marker pulses

  function overdueIcon(p) {
    const kind = (p.escalated ? 'escalated' : p.supervised ? 'supervised' : 'plain') + (pulsing.has(p.id) ? ' pulse' : '');
    if (!icons[kind]) {
      icons[kind] = L.divIcon({ className: 'wall-overdue ' + kind, html: '<span class="core"></span>', iconSize: [0, 0] });
    }
    return icons[kind];
  }

  /** The cases whose markers pulse: the PULSE_LIMIT most recently overdue (the ones that need a call
   * now). Hundreds of pulsing rings would draw the eye nowhere and cost the screen's CPU. */
  function choosePulsing(features) {
    const recent = features.map(function (f) { return f.properties || {}; })
      .filter(function (p) { return typeof p.hours_overdue === 'number'; })
      .sort(function (a, b) { return a.hours_overdue - b.hours_overdue; })
      .slice(0, PULSE_LIMIT);
    pulsing = new Set(recent.map(function (p) { return p.id; }));
  }

  function gridName(code) {
    const layer = code ? gridById.get(String(code)) : null;
    return layer ? layer.feature.properties.name : '';
  }

  function overdueTooltip(p) {
    const flags = [p.supervised ? T.supervised : '', p.escalated ? T.escalated : ''].filter(Boolean).join(' · ');
    const hours = typeof p.hours_overdue === 'number' ? number(p.hours_overdue, 1) : p.hours_overdue;
    const deadline = p.deadline ? new Date(p.deadline) : null;
    return '<b>' + esc(p.category_name || p.category || '') + '</b> #' + esc(p.id) + '<br>'
      + '<span class="v">' + esc(fmt(T.hours_overdue, { h: hours === undefined ? '?' : hours })) + '</span>'
      + (flags ? ' · ' + esc(flags) : '') + '<br>'
      + esc(T.grid) + ' ' + esc(gridName(p.grid_code)) + ' ' + esc(p.grid_code || '—')
      + (deadline && !isNaN(deadline) ? '<br>' + esc(T.deadline) + ' ' + esc(deadline.toLocaleString(config.lang, { hour12: false })) : '');
  }

  function applyOverdue(collection) {
    const features = collection.features || [];
    choosePulsing(features);
    overdueLayer.clearLayers();
    overdueLayer.addData(collection);
    document.getElementById('wall-overdue-count').textContent = String(features.length);
    document.getElementById('wall-toggle-overdue').title = fmt(T.pulse_note, { n: Math.min(PULSE_LIMIT, features.length) });
  }

  function coverageStyle(feature) {
    const overlap = feature.properties && feature.properties.kind === 'overlap';
    return {
      color: '#ff2bd6', weight: 2.5, opacity: 1, dashArray: overlap ? null : '8 5',
      fillColor: 'url(#wall-hatch)', fillOpacity: 1, renderer: coverageRenderer,
    };
  }

  /** Add the hatch pattern to the coverage layer's SVG once it exists (Leaflet creates it lazily). */
  function ensureHatch() {
    const svg = coverageRenderer && coverageRenderer._container;
    if (!svg || svg.querySelector('#wall-hatch')) return;
    const ns = 'http://www.w3.org/2000/svg';
    const defs = document.createElementNS(ns, 'defs');
    const pattern = document.createElementNS(ns, 'pattern');
    pattern.setAttribute('id', 'wall-hatch');
    pattern.setAttribute('patternUnits', 'userSpaceOnUse');
    pattern.setAttribute('width', '10');
    pattern.setAttribute('height', '10');
    pattern.setAttribute('patternTransform', 'rotate(45)');
    const line = document.createElementNS(ns, 'rect');
    line.setAttribute('width', '3');
    line.setAttribute('height', '10');
    line.setAttribute('fill', '#ff2bd6');
    pattern.appendChild(line);
    defs.appendChild(pattern);
    svg.insertBefore(defs, svg.firstChild);
  }

  function applyCoverage(collection) {
    coverageLayer.clearLayers();
    coverageLayer.addData(collection);
    // A ring around every gap area, so a small overlap still shows when the whole district is on screen.
    const areas = [];
    coverageLayer.eachLayer(function (layer) { if (layer.getBounds) areas.push(layer.getBounds().getCenter()); });
    areas.forEach(function (centre) {
      coverageLayer.addLayer(L.circleMarker(centre, {
        renderer: coverageRenderer, pane: 'wall-coverage', radius: remPx(0.8), color: '#ff2bd6', weight: 2.5,
        fill: false, interactive: false,
      }));
    });
    ensureHatch();
    document.getElementById('wall-coverage-count').textContent = String((collection.features || []).length);
  }

  function coverageTooltip(p) {
    const lines = ['<b>' + esc(T['kind_' + p.kind] || p.kind || '') + '</b>'];
    const category = config.lang === 'en' ? p.category_en : p.category_zh;
    if (category) lines.push(esc(category) + (p.id ? ' #' + esc(p.id) : ''));
    if (p.address) lines.push(esc(p.address));
    if (Array.isArray(p.grid_codes) && p.grid_codes.length) {
      lines.push(esc(T.grid) + ' ' + esc(p.grid_codes.slice(0, 4).join(', ')) + (p.grid_codes.length > 4 ? ' …' : ''));
    }
    if (typeof p.area_m2 === 'number') lines.push(esc(number(p.area_m2, 0)) + ' m²');
    if (p.community_code) lines.push(esc(T.community) + ' ' + esc(p.community_code));
    return lines.join('<br>');
  }

  function updateToggles() {
    const pairs = [['overdue', overdueLayer, state.showOverdue, state.overdueAvailable],
      ['coverage', coverageLayer, state.showCoverage, state.coverageAvailable]];
    pairs.forEach(function (pair) {
      const button = document.getElementById('wall-toggle-' + pair[0]);
      button.hidden = !pair[3];
      button.setAttribute('aria-pressed', pair[2] ? 'true' : 'false');
      if (pair[2] && pair[3] && !map.hasLayer(pair[1])) map.addLayer(pair[1]);
      if (!(pair[2] && pair[3]) && map.hasLayer(pair[1])) map.removeLayer(pair[1]);
    });
    ensureHatch();
  }

  // -- the panel -----------------------------------------------------------------------------------

  function renderButtons() {
    const box = document.getElementById('wall-measures');
    if (box.childElementCount !== state.measures.length) {
      box.textContent = '';
      state.measures.forEach(function (m) {
        const button = document.createElement('button');
        button.type = 'button';
        button.dataset.measure = m.key;
        button.textContent = T['short_' + m.key] || m.label;
        button.title = m.label;
        button.addEventListener('click', function () { selectMeasure(m.key); });
        box.appendChild(button);
      });
    }
    Array.prototype.forEach.call(box.children, function (button) {
      const active = button.dataset.measure === state.measure;
      button.classList.toggle('active', active);
      button.setAttribute('aria-pressed', active ? 'true' : 'false');
    });
  }

  function periodText(period) {
    const days = /^(\d+)d$/.exec(String(period || ''));
    return days ? fmt(T.period_days, { n: days[1] }) : String(period || '');
  }

  function renderMeasureTitle() {
    const spec = measureSpec(state.measure);
    document.getElementById('wall-measure-name').textContent = spec.label;
    document.getElementById('wall-worst-measure').textContent = spec.label;
    document.getElementById('wall-period').textContent = state.periodLabel || periodText(config.period);
    document.getElementById('wall-rotation').textContent =
      config.rotate_ms > 0 ? fmt(T.rotating, { n: Math.round(config.rotate_ms / 1000) }) : '';
  }

  function renderLegend(measure) {
    const list = document.getElementById('wall-legend');
    list.dataset.measure = measure;
    list.innerHTML = state.legend.map(function (row) {
      const colour = colourOf(row.colour);
      const cls = row['class'] === null || row['class'] === undefined ? 'none' : String(row['class']);
      return '<li data-class="' + esc(cls) + '" data-colour="' + esc(colour) + '">'
        + '<span class="swatch" style="background:' + colour + '"></span><span>' + esc(row.label) + '</span></li>';
    }).join('');
  }

  function applySummary(summary, measure) {
    const district = summary.district || {};
    document.getElementById('wall-district').textContent = district.name || T.figures;
    [['open_cases', 'cases'], ['overdue', 'cases'], ['closure_rate', 'share'], ['on_time_rate', 'share'],
      ['satisfaction', 'share']].forEach(function (pair) {
      const box = document.getElementById('fig-' + pair[0]);
      const value = district[pair[0]];
      box.dataset.value = value === null || value === undefined ? '' : String(value);
      box.querySelector('.value').textContent = formatValue(value, pair[1]);
    });
    document.getElementById('fig-overdue').classList.toggle('bad', district.overdue > 0);
    const spec = measureSpec(measure);
    // A grid with nothing wrong is not among the worst: zero open or overdue cases, zero gaps, no wait.
    const worst = (Array.isArray(summary.worst) ? summary.worst.slice(0, 10) : []).filter(function (g) {
      return !(spec.higher_is_worse && typeof g.value === 'number' && g.value <= 0);
    });
    const list = document.getElementById('wall-worst');
    list.innerHTML = worst.length ? worst.map(function (g) {
      return '<li data-code="' + esc(g.code) + '"><span class="swatch" style="background:' + colourOf(g.colour) + '"></span>'
        + '<span class="name" title="' + esc(g.street_name || '') + '">' + esc(g.name) + '</span>'
        + '<span class="code">' + esc(g.code) + '</span>'
        + '<span class="value">' + esc(formatValue(g.value, spec.unit)) + '</span></li>';
    }).join('') : '<li class="empty">' + esc(T.worst_none) + '</li>';
  }

  function setStatus(status, code) {
    state.status = status;
    const box = document.getElementById('wall-status');
    box.className = status;
    const words = { online: T.online, offline: T.offline, error: T.server_error + (code ? ' ' + code : ''),
      signedout: T.signed_out, connecting: T.connecting };
    box.querySelector('.text').textContent = words[status] || status;
    const banner = document.getElementById('wall-banner');
    const bad = status === 'offline' || status === 'error';
    document.body.classList.toggle('is-offline', bad);
    if (bad) {
      banner.textContent = fmt(T.offline_banner, { time: state.lastUpdated ? clock(state.lastUpdated) : '—' });
    } else if (status === 'signedout') {
      banner.textContent = T.signed_out_banner;
    }
    banner.hidden = !(bad || status === 'signedout');
  }

  function signedOut() {
    state.stopped = true;
    clearTimeout(rotateTimer);
    clearTimeout(pollTimer);
    setStatus('signedout');
    setTimeout(function () { window.location.assign(config.signin_url); }, 5000);
  }

  function renderUpdated() {
    const lag = state.replicaLag === null || state.replicaLag === undefined ? ''
      : ' · ' + T.replica_lag.replace('{n}', state.replicaLag.toFixed(1));
    document.getElementById('wall-updated').textContent =
      T.updated + ' ' + (state.lastUpdated ? clock(state.lastUpdated) : '--:--:--') + lag;
  }

  /** Once a second: the clock, the "updated" line, and the way back to the whole district when idle. */
  function tick() {
    const now = new Date();
    const box = document.getElementById('wall-clock');
    box.querySelector('.time').textContent = clock(now);
    box.querySelector('.date').textContent = now.toLocaleDateString(config.lang,
      { year: 'numeric', month: '2-digit', day: '2-digit', weekday: 'short' });
    renderUpdated();
    if (state.away && Date.now() - state.lastInteraction > IDLE_HOME_MS) {
      map.closePopup();
      fitHome();
    }
  }

  // -- start ---------------------------------------------------------------------------------------

  function start() {
    config = JSON.parse(document.getElementById('wall-config').textContent);
    T = config.strings;
    map = window[config.map];
    measureRem();
    state.measure = config.measure;
    map.createPane('wall-coverage').style.zIndex = 450; // above the grids, below the overdue markers
    coverageRenderer = L.svg({ pane: 'wall-coverage' });
    gridLayer = L.geoJSON(null, { style: baseStyle, onEachFeature: bindGrid }).addTo(map);
    overdueLayer = L.geoJSON(null, {
      pointToLayer: function (f, latlng) {
        return L.marker(latlng, { icon: overdueIcon(f.properties || {}), keyboard: false, riseOnHover: true });
      },
      onEachFeature: function (f, layer) {
        layer.bindTooltip(function () { return overdueTooltip(f.properties || {}); },
          { className: 'wall-tip', direction: 'top', offset: [0, -12] });
      },
    });
    coverageLayer = L.geoJSON(null, {
      pane: 'wall-coverage',
      renderer: coverageRenderer,
      style: coverageStyle,
      pointToLayer: function (f, latlng) {
        const unrouted = f.properties && f.properties.kind === 'unrouted_case';
        return L.circleMarker(latlng, {
          renderer: coverageRenderer, pane: 'wall-coverage', radius: remPx(unrouted ? 0.4 : 0.3),
          color: '#ff2bd6', weight: 2, fillColor: unrouted ? '#ff2bd6' : '#2a0322', fillOpacity: 0.9,
        });
      },
      onEachFeature: function (f, layer) {
        layer.bindTooltip(coverageTooltip(f.properties || {}), { className: 'wall-tip', sticky: true });
      },
    });
    updateToggles();
    [['overdue', 'showOverdue'], ['coverage', 'showCoverage']].forEach(function (pair) {
      document.getElementById('wall-toggle-' + pair[0]).addEventListener('click', function () {
        state[pair[1]] = !state[pair[1]];
        updateToggles();
        if (pair[0] === 'coverage' && state.showCoverage) refreshNow(); // fetch gaps if they are stale
      });
    });
    document.getElementById('wall-worst').addEventListener('click', function (event) {
      const item = event.target.closest('li[data-code]');
      const layer = item && gridById.get(item.dataset.code);
      if (!layer) return;
      map.fitBounds(layer.getBounds(), { maxZoom: 16, padding: [remPx(4), remPx(4)] });
      layer.openPopup(layer.getBounds().getCenter());
    });
    map.on('movestart', function () { if (!fitting) state.away = true; });
    map.on('popupopen', function () { state.away = true; });
    ['pointerdown', 'pointermove', 'wheel', 'keydown', 'touchstart'].forEach(function (name) {
      document.addEventListener(name, function () { state.lastInteraction = Date.now(); }, { passive: true });
    });
    window.addEventListener('resize', function () {
      measureRem();
      gridLayer.eachLayer(function (layer) { layer.setStyle(styleOf(layer)); }); // outlines follow the type size
      map.invalidateSize({ pan: false });
      if (!state.away) fitHome();
    });
    renderMeasureTitle();
    tick();
    setInterval(tick, 1000);
    setStatus('connecting');
    schedule(0);
    window.gridmapWall = {
      map: map, grids: gridLayer, overdue: overdueLayer, coverage: coverageLayer, state: state, stats: stats,
      select: selectMeasure,
    };
  }

  document.addEventListener('DOMContentLoaded', start);
}());
