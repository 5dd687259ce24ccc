/* The grids layer: polygons coloured by the measure's class, restyled in place on every refresh and
 * rebuilt only when the shapes change; hover, tooltip and popup name the grid and its people. */

import { colourOf, esc, fmt, formatValue } from './format.js';
import { renderLegend, renderMeasureTitle } from './panel.js';
import { ctx, measureSpec, remPx, state, stats } from './state.js';
import { restyleTiles } from './tiles.js';

export const gridById = new Map(); // grid code -> its Leaflet polygon
let gridLayer = null;
let hovered = null; // grid polygon under the pointer

export function createGridLayer() {
  gridLayer = L.geoJSON(null, { style: baseStyle, onEachFeature: bindGrid }).addTo(ctx.map);
  return gridLayer;
}

/** A grid's outline and fill (`colour`), thicker and white while the pointer is on it; the vector
 * tiles (tiles.js) draw with the same. */
export function measureStyle(colour, highlighted) {
  const style = {
    color: '#dfe7f2', weight: Math.max(0.8, remPx(0.05)), opacity: 0.75,
    fillColor: colour, fillOpacity: state.basemap ? 0.5 : 0.85, // streets show through
  };
  if (highlighted) {
    style.color = '#ffffff';
    style.weight = Math.max(3, remPx(0.2));
    style.opacity = 1;
  }
  return style;
}

function baseStyle(feature) {
  return measureStyle(colourOf(feature.properties.colour), false);
}

export function styleOf(layer) {
  return measureStyle(colourOf(layer.feature.properties.colour), layer === hovered);
}

export function restyleAll() {
  if (ctx.config.tiles) {
    restyleTiles();
    return;
  }
  gridLayer.eachLayer(function (layer) { layer.setStyle(styleOf(layer)); });
}

function gridId(feature) {
  return String(feature.id !== undefined && feature.id !== null ? feature.id : feature.properties.code);
}

export function gridName(code) {
  const layer = code ? gridById.get(String(code)) : null;
  return layer ? layer.feature.properties.name : '';
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

export function shownSpec() {
  return measureSpec(state.shown ? state.shown.measure : state.measure);
}

function gridTooltip(p) {
  const T = ctx.T;
  const spec = shownSpec();
  return '<b>' + esc(p.name) + '</b> <span class="code">' + esc(p.code) + '</span><br>'
    + esc(spec.label) + ': <span class="v">' + esc(formatValue(p.value, spec.unit)) + '</span><br>'
    + esc(T.open_cases) + ' ' + esc(formatValue(p.open_cases, 'cases'))
    + ' · ' + esc(T.overdue) + ' ' + esc(formatValue(p.overdue, 'cases'));
}

export function gridPopup(p) {
  const T = ctx.T;
  const spec = shownSpec();
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
export function applyGrids(collection, measure) {
  const features = collection.features || [];
  if (collection.period && collection.period.label) {
    state.periodLabel = collection.period.label;
    renderMeasureTitle();
  }
  state.legend = Array.isArray(collection.legend) ? collection.legend : [];
  const none = state.legend.find(function (row) { return row['class'] === null; });
  if (none && typeof none.colour === 'string') state.noDataColour = none.colour;
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
    rebuild(collection, shapes);
  }
  // An open tooltip or popup shows the new figures at once.
  gridLayer.eachLayer(function (layer) {
    if (layer.isTooltipOpen && layer.isTooltipOpen()) layer.getTooltip().update();
    if (layer.isPopupOpen && layer.isPopupOpen()) layer.getPopup().update();
  });
  renderLegend(measure);
}

function rebuild(collection, shapes) {
  stats.rebuilds += 1;
  hovered = null;
  ctx.map.closePopup();
  gridLayer.clearLayers();
  gridById.clear();
  gridLayer.addData(collection);
  gridLayer.eachLayer(function (layer) {
    const id = gridId(layer.feature);
    gridById.set(id, layer);
    layer.wallShape = shapes.get(id);
  });
  if ((collection.features || []).length) {
    state.home = gridLayer.getBounds();
    if (!state.away) fitHome();
  }
}

/** Show the whole district (after a rebuild, a resize, or three idle minutes). */
export function fitHome() {
  if (!state.home || !state.home.isValid()) return;
  state.fitting = true;
  ctx.map.fitBounds(state.home, { padding: [remPx(1), remPx(1)], animate: false });
  state.fitting = false;
  state.away = false;
}
