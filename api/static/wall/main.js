/* gridmap command-centre wall map: ES modules, no build step.
 *
 * The page (api/pages/wall.py) holds the side panel, a map container and its configuration
 * (#page-config: options and the catalogue's words; the measures come from the API). These modules draw Leaflet
 * (served locally) and keep map and panel current from the layer API (/api/layers/...), authenticated
 * by the gridmap_key cookie:
 *   state.js   configuration, what is on screen, counters
 *   format.js  words and numbers in the page's language
 *   api.js     reading the API
 *   poll.js    the one polling chain, measure switch and rotation
 *   grids.js   the grids layer       points.js  overdue cases and coverage gaps
 *   panel.js   buttons, legend, figures, worst grids, clock and status
 *   roster.js  the coming week's work days and receptions (a card over the map)
 */

import { addBasemap } from '../shell/basemap.js';
import { fitHome, gridById, createGridLayer, restyleAll } from './grids.js';
import { renderClock, renderMeasureTitle, setStatus, watchLiaisons } from './panel.js';
import { createPointLayers, layers, updateToggles } from './points.js';
import { refreshNow, schedule, selectMeasure } from './poll.js';
import { startRoster } from './roster.js';
import { ctx, IDLE_HOME_MS, measureRem, remPx, state, stats } from './state.js';
import { createTileLayer, focusGrid, table, tileStats } from './tiles.js';

function createMap() {
  return L.map('wall-map', {
    zoomControl: false, attributionControl: false, zoomSnap: 0.1, zoomDelta: 0.5, minZoom: 8, maxZoom: 19,
    center: [0, 0], zoom: 10,
  });
}

/** Once a second: the clock, the "updated" line, and the way back to the whole district when idle. */
function tick() {
  renderClock();
  if (state.away && Date.now() - state.lastInteraction > IDLE_HOME_MS) {
    ctx.map.closePopup();
    fitHome();
  }
}

function wireToggles() {
  [['overdue', 'showOverdue'], ['coverage', 'showCoverage']].forEach(function (pair) {
    document.getElementById('wall-toggle-' + pair[0]).addEventListener('click', function () {
      state[pair[1]] = !state[pair[1]];
      updateToggles();
      if (pair[0] === 'coverage' && state.showCoverage) refreshNow(); // fetch gaps if they are stale
    });
  });
}

function wireWorstList() {
  document.getElementById('wall-worst').addEventListener('click', function (event) {
    const item = event.target.closest('li[data-code]');
    const layer = item && gridById.get(item.dataset.code);
    if (item && ctx.config.tiles) focusGrid(item.dataset.code);
    if (!layer) return;
    ctx.map.fitBounds(layer.getBounds(), { maxZoom: 16, padding: [remPx(4), remPx(4)] });
    layer.openPopup(layer.getBounds().getCenter());
  });
}

function wireInteraction() {
  const map = ctx.map;
  map.on('movestart', function () { if (!state.fitting) state.away = true; });
  map.on('popupopen', function () { state.away = true; });
  ['pointerdown', 'pointermove', 'wheel', 'keydown', 'touchstart'].forEach(function (name) {
    document.addEventListener(name, function () { state.lastInteraction = Date.now(); }, { passive: true });
  });
  window.addEventListener('resize', function () {
    measureRem();
    restyleAll(); // outlines follow the type size
    map.invalidateSize({ pan: false });
    if (!state.away) fitHome();
  });
}

function start() {
  ctx.config = JSON.parse(document.getElementById('page-config').textContent);
  ctx.T = ctx.config.strings;
  ctx.map = createMap();
  watchLiaisons(ctx.map); // the liaison row of a grid's details (panel.js)
  measureRem();
  state.measure = ctx.config.measure;
  const grids = ctx.config.tiles ? createTileLayer() : createGridLayer(); // tiles at city scale (tiles.js)
  // The basemap goes beneath the grids (which then let it show through); polling starts once it is known,
  // so the wall never has more than one request in flight.
  addBasemap(ctx.map, { dark: true }).catch(function () { return null; }).then(function (basemap) {
    state.basemap = Boolean(basemap);
    window.gridmapWall.basemap = basemap;
    restyleAll();
    schedule(0);
  });
  createPointLayers();
  updateToggles();
  wireToggles();
  wireWorstList();
  wireInteraction();
  renderMeasureTitle();
  startRoster(); // the coming week's work days and receptions (roster.js)
  tick();
  setInterval(tick, 1000);
  setStatus('connecting');
  window.gridmapWall = {
    map: ctx.map, grids: grids, overdue: layers.overdue, coverage: layers.coverage, state: state, stats: stats,
    select: selectMeasure, basemap: null, tiles: ctx.config.tiles ? { table: table, stats: tileStats } : null,
  };
}

start();
