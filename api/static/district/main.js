/* The district map at `/`: every current grid coloured by street (GET /api/grids, public), and from a
 * readable zoom on the buildings in view (GET /api/buildings?bbox=, needs the key cookie). Nothing is
 * inlined in the page, so it stays small however many buildings the district has. The district's basemap,
 * if one is configured, is drawn beneath the grids (../shell/basemap.js). */

import { addBasemap } from '../shell/basemap.js';

const STREET_COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf',
  '#8c564b', '#e377c2', '#bcbd22', '#7f7f7f', '#393b79', '#637939'];
const OUTSIDE_COLOUR = '#e6007e';
const INSIDE_COLOUR = '#333333';

const config = JSON.parse(document.getElementById('page-config').textContent);
const T = config.strings;
const statusBox = document.getElementById('district-status');
const map = L.map('district-map', { preferCanvas: true, zoomControl: true, maxZoom: 19, center: [0, 0], zoom: 2 });
L.control.scale({ imperial: false }).addTo(map);
const basemapReady = addBasemap(map);

const streetColour = new Map();
const grids = L.geoJSON(null, {
  style: function (f) {
    const colour = streetColour.get(f.properties.street_code) || '#555555';
    return { color: colour, weight: 1.5, fillColor: colour, fillOpacity: 0.25 };
  },
  onEachFeature: function (f, layer) {
    layer.bindTooltip(rows([[T.code, f.properties.code], [T.name, f.properties.name],
      [T.community, f.properties.community_name], [T.street, f.properties.street_name]]), { sticky: true });
    layer.on('mouseover', function () { layer.setStyle({ weight: 3, fillOpacity: 0.45 }); });
    layer.on('mouseout', function () { grids.resetStyle(layer); });
  },
}).addTo(map);
const buildings = L.geoJSON(null, {
  pointToLayer: function (f, latlng) {
    const outside = !f.properties.grid_code;
    return L.circleMarker(latlng, {
      radius: radiusFor(map.getZoom()) + (outside ? 3 : 0), weight: 0, fill: true, fillOpacity: 0.8,
      fillColor: outside ? OUTSIDE_COLOUR : INSIDE_COLOUR,
    });
  },
  onEachFeature: function (f, layer) {
    layer.bindTooltip(rows([[T.code, f.properties.code], [T.address, f.properties.address],
      [T.households, f.properties.households], [T.grid, f.properties.grid_code || T.outside]]));
  },
}).addTo(map);
L.control.layers(null, { [T.grids]: grids, [T.buildings]: buildings }, { collapsed: true }).addTo(map);

function esc(value) {
  return String(value === null || value === undefined ? '—' : value).replace(/[&<>"']/g, function (c) {
    return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
  });
}

function rows(pairs) {
  return pairs.map(function (p) { return '<b>' + esc(p[0]) + '</b> ' + esc(p[1]); }).join('<br>');
}

function fmt(template, values) {
  return template.replace(/\{(\w+)\}/g, function (all, name) { return name in values ? values[name] : all; });
}

/** Buildings are dots when many show and grow as the map zooms in, so they never hide the boundaries. */
function radiusFor(zoom) {
  return zoom >= 17 ? 6 : zoom >= 16 ? 4 : 3;
}

function showStatus(message, link) {
  statusBox.textContent = message;
  if (link) {
    const a = document.createElement('a');
    a.href = link;
    a.textContent = T.sign_in;
    statusBox.append(' ', a);
  }
  statusBox.hidden = !message;
}

async function getJSON(url, signal) {
  const response = await fetch(url, { signal: signal, credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (!response.ok) {
    const error = new Error('HTTP ' + response.status + ' for ' + url);
    error.status = response.status;
    throw error;
  }
  return response.json();
}

const gridCodes = new Set(); // grids already drawn
let everyGrid = false; // the first answer held every current grid: nothing more to fetch

function addGrids(page) {
  const fresh = page.features.filter(function (f) { return !gridCodes.has(f.properties.code); });
  fresh.forEach(function (f) {
    gridCodes.add(f.properties.code);
    const street = f.properties.street_code;
    if (!streetColour.has(street)) streetColour.set(street, STREET_COLOURS[streetColour.size % STREET_COLOURS.length]);
  });
  grids.addData({ type: 'FeatureCollection', features: fresh });
}

function bboxOfView() {
  const box = map.getBounds().pad(0.2);
  return [box.getWest(), box.getSouth(), box.getEast(), box.getNorth()].map(function (v) { return v.toFixed(6); }).join(',');
}

/** The district's grids: one page of the API holds them all in any real district (thousands); then the
 * whole district is shown. A larger one is fetched for the view as the map moves (loadGridsInView). */
async function loadGrids() {
  const page = await getJSON('/api/grids?limit=' + config.grids_page);
  addGrids(page);
  everyGrid = page.features.length >= page.numberMatched;
  if (grids.getLayers().length) map.fitBounds(grids.getBounds());
}

async function loadGridsInView() {
  if (everyGrid) return;
  addGrids(await getJSON('/api/grids?limit=' + config.grids_per_view + '&bbox=' + bboxOfView()));
}

let pending = null; // the AbortController of the buildings request in flight
let signedOut = false;

/** The buildings in view (a little beyond it), when the zoom makes them readable. */
async function loadBuildings() {
  if (pending) pending.abort();
  pending = null;
  if (map.getZoom() < config.buildings_from_zoom) {
    buildings.clearLayers();
    showStatus(T.zoom_for_buildings);
    return;
  }
  if (signedOut) return;
  const controller = new AbortController();
  pending = controller;
  try {
    const page = await getJSON('/api/buildings?limit=' + config.buildings_per_view + '&bbox=' + bboxOfView(), controller.signal);
    buildings.clearLayers();
    buildings.addData(page);
    const shown = page.features.length;
    showStatus(shown < page.numberMatched ? fmt(T.buildings_more, { n: shown, total: page.numberMatched })
      : fmt(T.buildings_shown, { n: shown }));
  } catch (error) {
    if (error.name === 'AbortError') return;
    if (error.status === 401 || error.status === 403) {
      signedOut = true;
      showStatus(T.sign_in_for_buildings, config.signin_url);
    } else {
      showStatus(T.load_failed);
    }
  } finally {
    if (pending === controller) pending = null;
  }
}

let moveTimer = null;
map.on('moveend', function () {
  clearTimeout(moveTimer);
  moveTimer = setTimeout(function () {
    loadGridsInView().catch(function () { showStatus(T.load_failed); });
    loadBuildings();
  }, 150);
});
map.on('zoomend', function () {
  const r = radiusFor(map.getZoom());
  buildings.eachLayer(function (l) { l.setRadius(l.feature.properties.grid_code ? r : r + 3); });
});

loadGrids().then(loadBuildings, function () { showStatus(T.load_failed); });
window.gridmapDistrict = { map: map, grids: grids, buildings: buildings, basemap: null };
basemapReady.then(function (b) { window.gridmapDistrict.basemap = b; });
