/* The plan's map: the community's outline and the plan's grids over the basemap, edited with
 * Leaflet-Geoman (vendored): draw a grid, move vertices, draw a line to split along; every grid edge and
 * the community outline are snap targets. The editor keeps no plan of its own: `show(features)` draws
 * what main.js holds, and each edit is handed back through the callbacks (`onSelect`, `onEdited`,
 * `onDrawn`, `onLine`, `onPick`). Geoman works opt-in: only the grids and the outline take part, so the
 * basemap, problems and impact markers are never edited or snapped to. */

import { addBasemap } from '../shell/basemap.js';

const SNAP = { snappable: true, snapDistance: 18 };
const OUTLINE = { color: '#37474f', weight: 3, dashArray: '8 5', fill: false, pmIgnore: false, interactive: false };
const PROBLEM = { color: '#c62828', weight: 3, dashArray: '4 4', fillColor: '#ef5350', fillOpacity: 0.35 };
const NO_WORKERS = '#bdbdbd';
const UNDER = ['#c6dbef', '#6baed6', '#2171b5'];
const OVER = ['#fdd0a2', '#fd8d3c', '#d94801'];
const NEAR = '#74c476';

/** The fill colour for a deviation of households per worker from the target (null: no workers). */
export function colourFor(deviation, steps) {
  if (deviation === null || deviation === undefined) return NO_WORKERS;
  const size = Math.abs(deviation);
  if (size <= steps[0]) return NEAR;
  const ramp = deviation < 0 ? UNDER : OVER;
  return size <= steps[1] ? ramp[0] : size <= steps[2] ? ramp[1] : ramp[2];
}

export const LEGEND_COLOURS = { near: NEAR, under: UNDER, over: OVER, none: NO_WORKERS };

export function createEditor(element, callbacks) {
  L.PM.setOptIn(true);
  const map = L.map(element, { zoomControl: true, doubleClickZoom: false, pmIgnore: false })
    .setView([29.557, 106.57], 14);
  map.pm.setLang(document.documentElement.lang === 'en' ? 'en' : 'zh');
  map.pm.setGlobalOptions(Object.assign({ allowSelfIntersection: true, templineStyle: { color: '#6a1b9a' },
    hintlineStyle: { color: '#6a1b9a', dashArray: '5 5' } }, SNAP));
  addBasemap(map, { dark: false }).catch(function () { return null; });

  const outline = L.layerGroup().addTo(map);
  const grids = L.featureGroup().addTo(map);
  const problems = L.featureGroup().addTo(map);
  const moves = L.featureGroup().addTo(map);
  const byUid = new Map();
  let mode = 'select';
  let selected = null;
  let colours = {};
  let steps = [0.1, 0.25, 0.5];

  function styleOf(uid) {
    const feature = byUid.get(uid).feature;
    const fill = colours[feature.properties.code] !== undefined ? colourFor(colours[feature.properties.code], steps)
      : NO_WORKERS;
    const chosen = uid === selected;
    return { color: chosen ? '#0d47a1' : '#263238', weight: chosen ? 4 : 1.5, fillColor: fill,
      fillOpacity: chosen ? 0.6 : 0.45 };
  }

  function restyle() {
    byUid.forEach(function (entry, uid) { entry.layer.setStyle(styleOf(uid)); });
  }

  function label(feature) {
    const code = String(feature.properties.code || '');
    return '<b>' + code.slice(-3) + '</b> ' + escapeHtml(feature.properties.name || '');
  }

  function show(features, keepView) {
    grids.clearLayers();
    byUid.clear();
    features.forEach(function (feature) {
      if (!feature.geometry) return;
      const layer = L.geoJSON(feature.geometry, { pmIgnore: false }).getLayers()[0];
      layer.options.pmIgnore = false;
      L.PM.reInitLayer(layer);
      byUid.set(feature.uid, { layer: layer, feature: feature });
      layer.bindTooltip(label(feature), { permanent: true, direction: 'center', className: 'p-label' });
      layer.on('click', function (event) {
        L.DomEvent.stopPropagation(event);
        if (mode === 'merge' && feature.uid !== selected) { callbacks.onPick(feature.uid); return; }
        if (mode === 'select' || mode === 'edit') callbacks.onSelect(feature.uid);
      });
      layer.on('pm:edit', function () {
        callbacks.onEdited(feature.uid, layer.toGeoJSON().geometry);
      });
      grids.addLayer(layer);
      if (mode === 'edit') layer.pm.enable(SNAP);
    });
    restyle();
    if (!keepView && grids.getLayers().length) map.fitBounds(grids.getBounds(), { padding: [24, 24] });
  }

  function setOutline(geometry) {
    outline.clearLayers();
    if (!geometry) return;
    const layer = L.geoJSON(geometry, OUTLINE).getLayers()[0];
    layer.options.pmIgnore = false;
    L.PM.reInitLayer(layer);
    outline.addLayer(layer);
  }

  function setMode(next) {
    map.pm.disableDraw();
    grids.eachLayer(function (layer) { if (layer.pm.enabled()) layer.pm.disable(); });
    mode = next;
    if (next === 'draw') map.pm.enableDraw('Polygon', Object.assign({ finishOn: null }, SNAP));
    if (next === 'split') map.pm.enableDraw('Line', Object.assign({ finishOn: 'dblclick' }, SNAP));
    if (next === 'edit') grids.eachLayer(function (layer) { layer.pm.enable(SNAP); });
    element.dataset.mode = next;
  }

  map.on('pm:create', function (event) {
    const geometry = event.layer.toGeoJSON().geometry;
    map.removeLayer(event.layer);
    const shape = event.shape;
    setMode('select');
    if (shape === 'Polygon') callbacks.onDrawn(geometry);
    if (shape === 'Line') callbacks.onLine(geometry);
  });
  map.on('click', function () { if (mode === 'select') callbacks.onSelect(null); });

  function select(uid) {
    selected = uid;
    restyle();
    const entry = uid && byUid.get(uid);
    if (entry) entry.layer.bringToFront();
  }

  function setColours(byCode, deviationSteps) {
    colours = byCode;
    steps = deviationSteps;
    restyle();
  }

  function showProblem(geometry) {
    problems.clearLayers();
    if (!geometry) return;
    const layer = L.geoJSON(geometry, { style: PROBLEM, pointToLayer: function (f, at) {
      return L.circleMarker(at, Object.assign({ radius: 9 }, PROBLEM));
    } });
    problems.addLayer(layer);
    const bounds = layer.getBounds();
    if (bounds.isValid()) map.flyToBounds(bounds.pad(0.6), { maxZoom: 18, duration: 0.4 });
  }

  function showMoves(items, describe) {
    moves.clearLayers();
    items.forEach(function (item) {
      const isCase = item.kind === 'case';
      const marker = L.circleMarker([item.lat, item.lon], {
        radius: isCase ? 6 : 5, color: '#fff', weight: 1.5, fillOpacity: 1,
        fillColor: isCase ? '#e65100' : '#6a1b9a', className: 'p-move p-move-' + item.kind,
      });
      marker.bindTooltip(describe(item));
      moves.addLayer(marker);
    });
  }

  return { map: map, show: show, setOutline: setOutline, setMode: setMode, select: select,
    setColours: setColours, showProblem: showProblem, showMoves: showMoves,
    mode: function () { return mode; }, grids: grids };
}

export function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, function (c) {
    return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
  });
}
