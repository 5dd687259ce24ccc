/* The grids at city scale: gridmap's own vector tiles (/tiles/grids/{z}/{x}/{y}.mvt, shapes with code and
 * name) drawn on canvas by Leaflet.VectorGrid, coloured by looking each grid's code up in the wall's measure
 * table (/tiles/grids/classes.json: class and value of every wall measure per grid, with the legends).
 *
 *  - a measure switch restyles the features already drawn from the table: no request;
 *  - a new data version brings only the grids that changed (`since`): only those are restyled;
 *  - tiles are fetched by the map as it moves, never again for a change of values, so nothing piles up:
 *    VectorGrid drops a tile's features when the tile leaves the screen;
 *  - hover names the grid; a click opens its details (the grid card /api/grids/{code} and the table's
 *    figures, in the same popup as the small district's).
 * Used when the page says so (api/pages/wall.py: from 2,000 grids, or ?draw=tiles). */

import { apiUrl, getJSON } from './api.js';
import { colourOf, esc, formatValue } from './format.js';
import { fitHome, gridPopup, measureStyle, shownSpec } from './grids.js';
import { renderLegend, renderMeasureTitle } from './panel.js';
import { ctx, remPx, state, stats } from './state.js';

const PANE = 'wall-grids';
const OUTLINES_FROM_ZOOM = 13;
const TILE_SIZE = 512; // the server simplifies for 512-pixel tiles: one of ours is tile (z - 1) of the grid

let tileLayer = null;
let hovered = null; // code under the pointer
let tooltip = null;
let popupCode = null;

/** The measure table: codes by index, and per measure a class and a value per index. */
export const table = { stamp: null, version: null, index: new Map(), codes: [], classes: {}, values: {}, legends: {} };
export const tileStats = {
  requested: 0, loaded: 0, loads: 0, restyled: 0, firstLoadAt: null, lastLoadAt: null, // tiles (tests, benchmarks)
  tables: 0, lastCodes: 0, tableAt: null, // measure tables received, grids in the last, when it was drawn
};

export function createTileLayer() {
  // Leaflet.VectorGrid 1.3 stops a canvas click with L.DomEvent.fakeStop, which Leaflet 1.8 removed: without
  // it every click on a grid throws. This is Leaflet 1.7's own definition.
  if (!L.DomEvent.fakeStop) L.DomEvent.fakeStop = function (e) { e._stopped = true; };
  const pane = ctx.map.getPane(PANE) || ctx.map.createPane(PANE);
  pane.style.zIndex = 350; // above the basemap and tile panes, below the overlay pane (overdue cases, gaps)
  // Shapes only (values=false): the tiles never wait for the measures and stay the same while the places
  // do; their colours come from the table (grey until it is in).
  tileLayer = L.vectorGrid.protobuf('/tiles/grids/{tz}/{x}/{y}.mvt?values=false', {
    pane: PANE,
    tz: function (data) { return data.z - 1; },
    tileSize: TILE_SIZE,
    rendererFactory: L.canvas.tile,
    interactive: true,
    getFeatureId: function (feature) { return String(feature.properties.code); },
    vectorTileLayerStyles: { grids: styleFor },
    fetchOptions: { credentials: 'same-origin', cache: 'no-store' },
    maxZoom: ctx.map.getMaxZoom(),
  });
  tileLayer.on('tileloadstart', function () { tileStats.requested += 1; });
  tileLayer.on('tileload', function () { tileStats.loaded += 1; });
  tileLayer.on('load', function () {
    tileStats.loads += 1;
    tileStats.lastLoadAt = performance.now();
    if (tileStats.firstLoadAt === null) tileStats.firstLoadAt = tileStats.lastLoadAt;
  });
  tileLayer.on('mouseover', onOver);
  tileLayer.on('mouseout', onOut);
  tileLayer.on('click', onClick);
  // The district's extent comes with the page: go there first, so the first tiles asked are the right ones.
  const home = ctx.config.home;
  if (Array.isArray(home) && home.length === 4) state.home = L.latLngBounds([home[1], home[0]], [home[3], home[2]]);
  fitHome();
  tileLayer.addTo(ctx.map);
  return tileLayer;
}

function rowOf(code) {
  const i = table.index.get(String(code));
  return i === undefined ? null : i;
}

/** Class, value and colour of a grid on the measure shown (no data until the table is in). */
function lookUp(props, measure) {
  const i = rowOf(props.code);
  if (i === null || !table.classes[measure]) return { cls: null, value: null, colour: state.noDataColour };
  const cls = table.classes[measure][i];
  const legend = table.legends[measure] || [];
  const row = legend.find(function (r) { return r['class'] === cls; });
  return { cls: cls, value: table.values[measure][i], colour: colourOf(row ? row.colour : null) };
}

function shownMeasure() {
  return state.shown ? state.shown.measure : state.measure;
}

function styleFor(props, zoom) {
  const style = measureStyle(lookUp(props, shownMeasure()).colour, String(props.code) === hovered);
  style.fill = true;
  // Seen whole, a city's grids are a few pixels wide: outlines would hide their colours.
  if (zoom < OUTLINES_FROM_ZOOM && String(props.code) !== hovered) style.stroke = false;
  return style;
}

/** Restyle every feature drawn (a measure switch, a resize), or only those of `codes`. A feature's style is
 * set in place and each tile touched is redrawn once, whole, on the next frame (VectorGrid's own
 * per-feature restyle copies every style and asks a redraw per feature: seconds at city scale). */
export function restyleTiles(codes) {
  if (!tileLayer || !tileLayer._vectorTiles) return;
  const wanted = codes ? Array.from(new Set(codes)) : null;
  Object.keys(tileLayer._vectorTiles).forEach(function (key) {
    const renderer = tileLayer._vectorTiles[key];
    const features = renderer._features || {};
    const ids = wanted ? wanted.filter(function (id) { return id in features; }) : Object.keys(features);
    if (!ids.length) return;
    const zoom = renderer.getCoord().z;
    ids.forEach(function (id) {
      const feat = features[id].feature;
      feat.options = L.extend({}, L.Path.prototype.options, styleFor(feat.properties, zoom));
      tileStats.restyled += 1;
    });
    renderer._redrawBounds = null; // the whole tile
    if (renderer._map && !renderer._redrawRequest) {
      renderer._redrawRequest = L.Util.requestAnimFrame(renderer._redraw, renderer);
    }
  });
}

/** A table from the server: the whole of it, or the grids changed since the one held (`since`). */
export function applyTable(body, measure) {
  const whole = body.since === null || body.since !== table.stamp;
  if (whole) {
    table.index = new Map();
    table.codes = body.codes.slice();
    table.codes.forEach(function (code, i) { table.index.set(code, i); });
    table.classes = body.classes;
    table.values = body.values;
  } else {
    body.codes.forEach(function (code, k) {
      let i = table.index.get(code);
      if (i === undefined) {
        i = table.codes.length;
        table.codes.push(code);
        table.index.set(code, i);
      }
      Object.keys(body.classes).forEach(function (m) {
        table.classes[m][i] = body.classes[m][k];
        table.values[m][i] = body.values[m][k];
      });
    });
  }
  table.stamp = body.stamp;
  table.version = body.version;
  table.legends = body.legends;
  if (body.period && body.period.label) {
    state.periodLabel = body.period.label;
    renderMeasureTitle();
  }
  if (typeof body.no_data_colour === 'string') state.noDataColour = body.no_data_colour;
  showMeasure(measure, whole ? null : body.codes);
  tileStats.tables += 1;
  tileStats.lastCodes = body.codes.length;
  tileStats.tableAt = performance.now();
  if (popupCode && (whole || body.codes.indexOf(popupCode) >= 0)) refreshPopup();
}

/** Draw `measure` from the table: legend, and the features (all, or only `codes`). */
export function showMeasure(measure, codes) {
  state.legend = table.legends[measure] || [];
  restyleTiles(codes || null);
  if (hovered && tooltip) tooltip.setContent(tipHtml(hovered));
  renderLegend(measure);
}

export function hasTable() {
  return table.stamp !== null;
}

export function tableUrl() {
  const params = { period: ctx.config.period, lang: ctx.config.lang };
  if (table.stamp) params.since = table.stamp;
  return apiUrl('/tiles/grids/classes.json', params);
}

// -- hover, tooltip, details -----------------------------------------------------------------------------

function figures(code) {
  const i = rowOf(code);
  const pick = function (m) { return i === null || !table.values[m] ? null : table.values[m][i]; };
  const measure = shownMeasure();
  return { value: pick(measure), open_cases: pick('open_cases'), overdue: pick('overdue'), grade: pick('grade') };
}

function tipHtml(code) {
  const T = ctx.T;
  const spec = shownSpec();
  const f = figures(code);
  const name = names.get(code) || '';
  return '<b>' + esc(name) + '</b> <span class="code">' + esc(code) + '</span><br>'
    + esc(spec.label) + ': <span class="v">' + esc(formatValue(f.value, spec.unit)) + '</span><br>'
    + esc(T.open_cases) + ' ' + esc(formatValue(f.open_cases, 'cases'))
    + ' · ' + esc(T.overdue) + ' ' + esc(formatValue(f.overdue, 'cases'));
}

const names = new Map(); // code -> name, as the tiles carry it (only for grids hovered or clicked)

function onOver(event) {
  const props = event.layer && event.layer.properties;
  if (!props) return;
  const previous = hovered;
  hovered = String(props.code);
  names.set(hovered, props.name);
  restyleTiles(previous ? [previous, hovered] : [hovered]);
  if (!tooltip) tooltip = L.tooltip({ className: 'wall-tip', direction: 'top', offset: [0, -8] });
  tooltip.setLatLng(event.latlng).setContent(tipHtml(hovered));
  if (!ctx.map.hasLayer(tooltip)) tooltip.addTo(ctx.map);
}

function onOut(event) {
  const props = event.layer && event.layer.properties;
  if (!props || String(props.code) !== hovered) return;
  const previous = hovered;
  hovered = null;
  restyleTiles([previous]);
  if (tooltip) tooltip.remove();
}

function onClick(event) {
  const props = event.layer && event.layer.properties;
  if (!props) return;
  names.set(String(props.code), props.name);
  openDetails(String(props.code), event.latlng);
}

let popup = null;
let cards = new Map(); // code -> the grid card's properties (the last few opened)

/** Open a grid's details at `latlng` (null: at the grid, after going there): the card from the API
 * (organisation), figures from the table. */
export async function openDetails(code, latlng) {
  popupCode = code;
  if (!popup) {
    popup = L.popup({ className: 'wall-popup', maxWidth: remPx(36), autoPanPadding: [remPx(2), remPx(2)] });
    popup.on('remove', function () { popupCode = null; });
  }
  if (latlng) popup.setLatLng(latlng).setContent('<h3>' + esc(names.get(code) || code) + '</h3>').openOn(ctx.map);
  try {
    const card = await getJSON('/api/grids/' + encodeURIComponent(code));
    if (cards.size > 20) cards = new Map();
    cards.set(code, card);
    if (popupCode !== code) return; // another grid was clicked meanwhile
    if (!latlng && card.geometry) {
      const bounds = L.geoJSON(card.geometry).getBounds();
      ctx.map.fitBounds(bounds, { maxZoom: 16, padding: [remPx(4), remPx(4)] });
      popup.setLatLng(bounds.getCenter()).openOn(ctx.map);
    }
    refreshPopup();
  } catch (error) {
    stats.failures += 1;
    console.warn('wall: grid details unavailable', code, error.message);
  }
}

function refreshPopup() {
  const code = popupCode;
  const card = cards.get(code);
  if (!popup || !code) return;
  const p = card ? card.properties : { code: code, name: names.get(code) || code };
  const team = p.team || {};
  const props = Object.assign({}, figures(code), {
    code: p.code, name: p.name, community_name: p.community_name, street_name: p.street_name,
    branch: p.branch ? p.branch.name : null, team: team.name || null, leader: team.leader || null,
    grid_workers: typeof team.grid_workers === 'number' ? team.grid_workers : null,
  });
  names.set(code, p.name);
  popup.setContent(gridPopup(props));
  if (card) ctx.map.fire('popupopen', { popup: popup }); // rows others add to the details (panel.js's liaison)
}

/** The worst-grids list's click: go to the grid and open its details. */
export function focusGrid(code) {
  state.away = true;
  openDetails(String(code), null);
}
