/* The side panel: measure buttons (the API's wall measures, in its order, with its short labels),
 * the legend (the API's), district figures, the worst grids, the clock and the connection status. */

import { clock, colourOf, esc, fmt, formatValue, periodText } from './format.js';
import { ctx, measureSpec, state } from './state.js';

const FIGURES = [['open_cases', 'cases'], ['overdue', 'cases'], ['closure_rate', 'share'],
  ['on_time_rate', 'share'], ['satisfaction', 'share']];

/** One button per measure on the wall; `onSelect(key)` when one is pressed. */
export function renderButtons(onSelect) {
  const box = document.getElementById('wall-measures');
  if (box.childElementCount !== state.measures.length) {
    box.textContent = '';
    state.measures.forEach(function (m) {
      const button = document.createElement('button');
      button.type = 'button';
      button.dataset.measure = m.key;
      button.textContent = m.short_label || m.label;
      button.title = m.label;
      button.addEventListener('click', function () { onSelect(m.key); });
      box.appendChild(button);
    });
  }
  Array.prototype.forEach.call(box.children, function (button) {
    const active = button.dataset.measure === state.measure;
    button.classList.toggle('active', active);
    button.setAttribute('aria-pressed', active ? 'true' : 'false');
  });
}

export function renderMeasureTitle() {
  const spec = measureSpec(state.measure);
  document.getElementById('wall-measure-name').textContent = spec.label;
  document.getElementById('wall-worst-measure').textContent = spec.label;
  document.getElementById('wall-period').textContent = state.periodLabel || periodText(ctx.config.period);
  document.getElementById('wall-rotation').textContent =
    ctx.config.rotate_ms > 0 ? fmt(ctx.T.rotating, { n: Math.round(ctx.config.rotate_ms / 1000) }) : '';
}

export function renderLegend(measure) {
  const list = document.getElementById('wall-legend');
  list.dataset.measure = measure;
  list.innerHTML = state.legend.map(function (row) {
    const colour = colourOf(row.colour);
    const cls = row['class'] === null || row['class'] === undefined ? 'none' : String(row['class']);
    return '<li data-class="' + esc(cls) + '" data-colour="' + esc(colour) + '">'
      + '<span class="swatch" style="background:' + colour + '"></span><span>' + esc(row.label) + '</span></li>';
  }).join('');
}

/** A grid with nothing wrong is not among the worst: zero open or overdue cases, zero gaps, no wait.
 * (This rule belongs with the API's `worst` list; until the API applies it, the wall does.) */
export function applySummary(summary, measure) {
  const district = summary.district || {};
  document.getElementById('wall-district').textContent = district.name || ctx.T.figures;
  FIGURES.forEach(function (pair) {
    const box = document.getElementById('fig-' + pair[0]);
    const value = district[pair[0]];
    box.dataset.value = value === null || value === undefined ? '' : String(value);
    box.querySelector('.value').textContent = formatValue(value, pair[1]);
  });
  document.getElementById('fig-overdue').classList.toggle('bad', district.overdue > 0);
  const spec = measureSpec(measure);
  const worst = Array.isArray(summary.worst) ? summary.worst.slice(0, 10) : []; // the API's rule (gis.metrics.worst)
  const list = document.getElementById('wall-worst');
  list.innerHTML = worst.length ? worst.map(function (g) {
    return '<li data-code="' + esc(g.code) + '"><span class="swatch" style="background:' + colourOf(g.colour) + '"></span>'
      + '<span class="name" title="' + esc(g.street_name || '') + '">' + esc(g.name) + '</span>'
      + '<span class="code">' + esc(g.code) + '</span>'
      + '<span class="value">' + esc(formatValue(g.value, spec.unit)) + '</span></li>';
  }).join('') : '<li class="empty">' + esc(ctx.T.worst_none) + '</li>';
}

export function setStatus(status, code) {
  const T = ctx.T;
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

export function renderUpdated() {
  const lag = state.replicaLag === null || state.replicaLag === undefined ? ''
    : '\n' + fmt(ctx.T.replica_lag, { n: state.replicaLag.toFixed(1) }); // its own line: the panel is narrow
  document.getElementById('wall-updated').textContent =
    ctx.T.updated + ' ' + (state.lastUpdated ? clock(state.lastUpdated) : '--:--:--') + lag;
}

/** The clock and the "updated" line (once a second). */
export function renderClock() {
  const now = new Date();
  const box = document.getElementById('wall-clock');
  box.querySelector('.time').textContent = clock(now);
  box.querySelector('.date').textContent = now.toLocaleDateString(ctx.config.lang,
    { year: 'numeric', month: '2-digit', day: '2-digit', weekday: 'short' });
  renderUpdated();
}

/** The liaison (联络员) of the grid whose details popup opens: one row added under the popup's table, read
 * from the grid's card (GET /api/grids/{code}), which names today's liaisons or none (a coverage gap). */
export function watchLiaisons(map) {
  map.on('popupopen', function (event) {
    const box = event.popup.getElement();
    const table = box && box.querySelector('table');
    const codeBox = box && box.querySelector('.code');
    const match = codeBox && /\d{15}/.exec(codeBox.textContent);
    if (table && match && !table.querySelector('tr.liaison')) addLiaisonRow(table, match[0]);
  });
}

async function addLiaisonRow(table, code) {
  const row = document.createElement('tr');
  row.className = 'liaison';
  row.innerHTML = '<th>' + esc(ctx.T.liaison) + '</th><td>…</td>';
  table.appendChild(row);
  const cell = row.lastChild;
  try {
    const response = await fetch('/api/grids/' + encodeURIComponent(code),
      { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (!response.ok) throw new Error(String(response.status));
    const liaisons = (await response.json()).properties.liaisons || [];
    cell.textContent = liaisons.length ? liaisons.map(function (a) { return a.name; }).join('、') : ctx.T.no_liaison;
    row.classList.toggle('gap', liaisons.length === 0);
  } catch (error) {
    cell.textContent = '—';
  }
}
