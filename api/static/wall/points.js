/* The point layers over the grids: cases open and past their deadline (the most recent pulse), and the
 * coverage gaps (land no grid covers, overlaps, buildings and cases outside every grid), each toggled
 * from the panel. */

import { esc, fmt, number } from './format.js';
import { gridName } from './grids.js';
import { ctx, PULSE_LIMIT, remPx, state } from './state.js';

export const layers = { overdue: null, coverage: null };
let coverageRenderer = null;
const icons = {}; // at most six divIcons, shared by every marker
let pulsing = new Set(); // ids of the overdue cases whose marker pulses
let dotRenderer = null; // one canvas for the overdue dots of a city: thousands of DOM markers stall the wall
let dense = false; // more overdue cases than DOM markers can carry: plain ones drawn as canvas dots
const DENSE_FROM = 1500;
const DOT_COVER = 0.15; // the dots in view may cover at most this share of the map: the grids' colours stay read
let dotRadius = null; // px: fitted to how many dots are in view (fitDots)
let dotColour = '#e5243b'; // the page's --bad, read once a refresh

export function createPointLayers() {
  ctx.map.createPane('wall-coverage').style.zIndex = 450; // above the grids, below the overdue markers
  coverageRenderer = L.svg({ pane: 'wall-coverage' });
  dotRenderer = L.canvas({ padding: 0.2 });
  ctx.map.on('zoomend moveend', fitDots);
  layers.overdue = L.geoJSON(null, {
    pointToLayer: function (f, latlng) {
      const p = f.properties || {};
      if (dense && !pulsing.has(p.id)) return overdueDot(p, latlng);
      return L.marker(latlng, { icon: overdueIcon(p), keyboard: false, riseOnHover: true });
    },
    onEachFeature: function (f, layer) {
      layer.bindTooltip(function () { return overdueTooltip(f.properties || {}); },
        { className: 'wall-tip', direction: 'top', offset: [0, -12] });
    },
  });
  layers.coverage = L.geoJSON(null, {
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
}

/** A city's overdue case as a canvas dot in its flag's colour (the pulsing few stay DOM markers). */
function overdueDot(p, latlng) {
  const r = dotRadius === null ? remPx(0.2) : dotRadius;
  return L.circleMarker(latlng, {
    renderer: dotRenderer, radius: p.escalated ? r * 1.25 : r, stroke: false, escalated: !!p.escalated,
    fillColor: p.escalated ? '#c4001d' : dotColour, fillOpacity: 0.85,
  });
}

/** The dots' radius for the view: at most remPx(0.2), at least 1 px, and small enough that the dots in view
 * cover no more than DOT_COVER of the screen area they spread over (their bounding box on the map): a city's
 * 25,000 overdue cases at full size would hide every grid's colour; zoomed in, fewer are in view and they
 * grow back. */
export function fitDots() {
  if (!dense || !layers.overdue) return dotRadius;
  const map = ctx.map;
  const size = map.getSize();
  const bounds = map.getBounds();
  const dots = [];
  let inView = 0;
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  layers.overdue.eachLayer(function (layer) {
    if (!(layer instanceof L.CircleMarker)) return;
    dots.push(layer);
    const at = layer.getLatLng();
    if (!bounds.contains(at)) return;
    inView += 1;
    const p = map.latLngToContainerPoint(at);
    x0 = Math.min(x0, p.x); y0 = Math.min(y0, p.y); x1 = Math.max(x1, p.x); y1 = Math.max(y1, p.y);
  });
  const full = remPx(0.2);
  const spread = inView ? Math.max(1, Math.min(size.x, x1 - x0)) * Math.max(1, Math.min(size.y, y1 - y0)) : 0;
  const fitted = inView ? Math.sqrt(DOT_COVER * spread / (Math.PI * inView)) : full;
  const r = Math.max(1, Math.min(full, Math.round(fitted * 4) / 4));
  if (r !== dotRadius) {
    dotRadius = r;
    dots.forEach(function (dot) { dot.setRadius(dot.options.escalated ? r * 1.25 : r); });
  }
  return dotRadius;
}

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

function overdueTooltip(p) {
  const T = ctx.T;
  const flags = [p.supervised ? T.supervised : '', p.escalated ? T.escalated : ''].filter(Boolean).join(' · ');
  const hours = typeof p.hours_overdue === 'number' ? number(p.hours_overdue, 1) : p.hours_overdue;
  const deadline = p.deadline ? new Date(p.deadline) : null;
  return '<b>' + esc(p.category_name || p.category || '') + '</b> #' + esc(p.id) + '<br>'
    + '<span class="v">' + esc(fmt(T.hours_overdue, { h: hours === undefined ? '?' : hours })) + '</span>'
    + (flags ? ' · ' + esc(flags) : '') + '<br>'
    + esc(T.grid) + ' ' + esc(gridName(p.grid_code)) + ' ' + esc(p.grid_code || '—')
    + (deadline && !isNaN(deadline) ? '<br>' + esc(T.deadline) + ' ' + esc(deadline.toLocaleString(ctx.config.lang, { hour12: false })) : '');
}

export function applyOverdue(collection) {
  const features = collection.features || [];
  choosePulsing(features);
  dense = features.length >= DENSE_FROM;
  dotColour = getComputedStyle(document.documentElement).getPropertyValue('--bad').trim() || dotColour;
  layers.overdue.clearLayers();
  layers.overdue.addData(collection);
  fitDots();
  document.getElementById('wall-overdue-count').textContent = String(features.length);
  document.getElementById('wall-toggle-overdue').title = fmt(ctx.T.pulse_note, { n: Math.min(PULSE_LIMIT, features.length) });
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

export function applyCoverage(collection) {
  layers.coverage.clearLayers();
  layers.coverage.addData(collection);
  // A ring around every gap area, so a small overlap still shows when the whole district is on screen.
  const areas = [];
  layers.coverage.eachLayer(function (layer) { if (layer.getBounds) areas.push(layer.getBounds().getCenter()); });
  areas.forEach(function (centre) {
    layers.coverage.addLayer(L.circleMarker(centre, {
      renderer: coverageRenderer, pane: 'wall-coverage', radius: remPx(0.8), color: '#ff2bd6', weight: 2.5,
      fill: false, interactive: false,
    }));
  });
  ensureHatch();
  document.getElementById('wall-coverage-count').textContent = String((collection.features || []).length);
}

function coverageTooltip(p) {
  const T = ctx.T;
  const lines = ['<b>' + esc(T['kind_' + p.kind] || p.kind || '') + '</b>'];
  const category = ctx.config.lang === 'en' ? p.category_en : p.category_zh;
  if (category) lines.push(esc(category) + (p.id ? ' #' + esc(p.id) : ''));
  if (p.address) lines.push(esc(p.address));
  if (Array.isArray(p.grid_codes) && p.grid_codes.length) {
    lines.push(esc(T.grid) + ' ' + esc(p.grid_codes.slice(0, 4).join(', ')) + (p.grid_codes.length > 4 ? ' …' : ''));
  }
  if (typeof p.area_m2 === 'number') lines.push(esc(number(p.area_m2, 0)) + ' m²');
  if (p.community_code) lines.push(esc(T.community) + ' ' + esc(p.community_code));
  return lines.join('<br>');
}

/** Show or hide each point layer as its toggle and its availability say. */
export function updateToggles() {
  const pairs = [['overdue', layers.overdue, state.showOverdue, state.overdueAvailable],
    ['coverage', layers.coverage, state.showCoverage, state.coverageAvailable]];
  pairs.forEach(function (pair) {
    const button = document.getElementById('wall-toggle-' + pair[0]);
    button.hidden = !pair[3];
    button.setAttribute('aria-pressed', pair[2] ? 'true' : 'false');
    if (pair[2] && pair[3] && !ctx.map.hasLayer(pair[1])) ctx.map.addLayer(pair[1]);
    if (!(pair[2] && pair[3]) && ctx.map.hasLayer(pair[1])) ctx.map.removeLayer(pair[1]);
  });
  ensureHatch();
}
