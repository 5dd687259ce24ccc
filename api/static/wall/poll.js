/* Keeping the wall current for hours:
 *  - one scheduler chain: at any moment there is either one pending poll timer or one running cycle;
 *  - at most one request in flight: a cycle's requests run one after another under one AbortController
 *    (a measure switch aborts it; a watchdog aborts a request that hangs);
 *  - layers are updated in place (grids.js, points.js); at city scale the grids are vector tiles
 *    (tiles.js) coloured from the measure table, of which only the changes are fetched, and a measure
 *    switch restyles them at once, before its summary is fetched;
 *  - polls back off exponentially while the server cannot be reached, and recover by themselves;
 *  - the measure rotates every `rotate` seconds. */

import { apiUrl, getJSON, getOptional } from './api.js';
import { applyGrids } from './grids.js';
import { applyTable, hasTable, showMeasure, table, tableUrl } from './tiles.js';
import { applySummary, renderButtons, renderMeasureTitle, renderUpdated, setStatus } from './panel.js';
import { refreshRoster, rosterDue } from './roster.js';
import { applyCoverage, applyOverdue, updateToggles } from './points.js';
import {
  COVERAGE_EVERY_MS, ctx, MAX_BACKOFF_MS, OVERDUE_EVERY_MS_TILES, REQUEST_TIMEOUT_MS, state, stats,
} from './state.js';

let pollTimer = null; // the one pending poll
let running = null; // AbortController of the running cycle
let phase = null; // what the running cycle fetches: 'version', 'measure' (grids, summary) or 'layers'
let rerun = false; // run another cycle as soon as the running one ends
let rotateTimer = null; // the one pending rotation

export function schedule(ms) {
  clearTimeout(pollTimer);
  pollTimer = state.stopped ? null : setTimeout(cycle, ms);
}

/** Refresh as soon as possible. A cycle fetching a measure that is no longer wanted is aborted (it
 * reschedules at once); one that is only polling the version or the point layers is let finish first. */
export function refreshNow() {
  if (running && phase === 'measure') running.abort();
  else if (running) rerun = true;
  else schedule(0);
}

function backoff() {
  const base = Math.min(ctx.config.poll_ms * Math.pow(2, state.failures), MAX_BACKOFF_MS);
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
  let next = ctx.config.poll_ms;
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
  if (rosterDue()) await refreshRoster(signal); // the coming week's sessions (roster.js), every few minutes
  const measure = state.measure;
  const tiles = ctx.config.tiles;
  // Tiles: the table is fetched for a new version (its changes only), the summary for a new table or measure.
  const needTable = tiles && (!hasTable() || state.tableVersion !== version);
  const shows = function (stamp) {
    return state.shown && state.shown.measure === measure && state.shown.version === stamp;
  };
  let needGrids = tiles ? needTable || !shows(table.stamp) : !shows(version);
  const needOverdue = state.overdueVersion !== version && (!tiles || state.overdueAt === null
    || Date.now() - state.overdueAt >= OVERDUE_EVERY_MS_TILES);
  const needCoverage = state.showCoverage && state.coverageVersion !== version
    && (state.coverageAt === null || Date.now() - state.coverageAt >= COVERAGE_EVERY_MS);
  if (!needGrids && !needOverdue && !needCoverage) return;
  const common = { period: ctx.config.period, lang: ctx.config.lang };
  phase = 'measure';
  const changes = needTable ? await getJSON(tableUrl(), signal) : null;
  if (changes) {
    // Drawn at once (the summary may take a while at city scale). A table computed at an older version
    // than polled is asked again (with `since`) next time.
    state.tableVersion = changes.version === version ? version : null;
    applyTable(changes, measure);
    if (shows(changes.stamp)) needGrids = false; // nothing new: no summary to fetch
  }
  const grids = needGrids && !tiles
    ? await getJSON(apiUrl('/api/layers/grids', Object.assign({ measure: measure, classify: 'fixed' }, common)), signal)
    : null;
  const summary = needGrids
    ? await getJSON(apiUrl('/api/layers/summary', Object.assign({ measure: measure }, common)), signal)
    : null;
  phase = 'layers';
  const lang = { lang: ctx.config.lang };
  const overdue = needOverdue ? await getOptional(apiUrl('/api/layers/overdue', lang), signal) : null;
  const coverage = needCoverage ? await getOptional(apiUrl('/api/layers/coverage', lang), signal) : null;
  if (summary) {
    state.shown = { measure: measure, version: tiles ? table.stamp : version }; // first, so tooltips name it
    if (grids) applyGrids(grids, measure);
    else if (!changes) showMeasure(measure);
    applySummary(summary, measure);
    stats.refreshes += 1;
    if (rotateTimer === null) restartRotation();
  }
  if (needOverdue) {
    state.overdueAvailable = overdue !== null;
    if (overdue) applyOverdue(overdue);
    state.overdueVersion = version;
    state.overdueAt = Date.now();
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

/** The wall's measures: those the API places on the wall (`wall`, from gis/metrics.py), in that order
 * (all of the API's if it places none). */
async function loadMeasures(signal) {
  const all = await getJSON(apiUrl('/api/layers/measures', { lang: ctx.config.lang }), signal);
  const wanted = all.filter(function (m) { return typeof m.wall === 'number'; })
    .sort(function (a, b) { return a.wall - b.wall; });
  state.measures = wanted.length ? wanted : all;
  const keys = state.measures.map(function (m) { return m.key; });
  if (keys.indexOf(state.measure) < 0) state.measure = keys[0];
  renderButtons(selectMeasure);
  renderMeasureTitle();
}

export function selectMeasure(key) {
  if (key === state.measure && state.shown && state.shown.measure === key) {
    restartRotation();
    return;
  }
  state.measure = key;
  renderButtons(selectMeasure);
  renderMeasureTitle();
  restartRotation();
  if (ctx.config.tiles && hasTable()) {
    // The tiles restyle from the table at once; the summary (figures, worst grids) follows.
    state.shown = { measure: key, version: null };
    showMeasure(key);
    stats.switches += 1;
  }
  refreshNow();
}

function restartRotation() {
  clearTimeout(rotateTimer);
  rotateTimer = null;
  if (ctx.config.rotate_ms > 0 && !state.stopped) rotateTimer = setTimeout(rotate, ctx.config.rotate_ms);
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

function signedOut() {
  state.stopped = true;
  clearTimeout(rotateTimer);
  clearTimeout(pollTimer);
  setStatus('signedout');
  setTimeout(function () { window.location.assign(ctx.config.signin_url); }, 5000);
}
