/* The grid worker's page `/m`: my grid(s) with their buildings and my open cases, the task list by
 * deadline, a case's sheet with the actions I may take now, reporting a case, my reports, visits, and the
 * outbox's queue and conflicts. Data is read cache-then-network (api.js), every write goes through the
 * outbox (outbox.js), and the service worker (/m/sw.js) keeps the page's files for opening offline. */

import { cached, forgetData, fresh, newKey, saved } from './api.js';
import { createMap, insideGrids } from './mapview.js';
import { byDeadline, caseList, caseSheet, el, fmt, syncLists, urgency } from './views.js';
import { COLOURS } from './mapview.js';
import { drawFocus, focusSection, visitItem } from './focus.js';

performance.mark('m-main'); // the modules are here (bench/field.py --waterfall shows when)

// photo.js is not on the first screen: imported at the first photo, or once the first screen is shown (the
// service worker keeps it for offline use).
let photoModule = null;
function photos() {
  if (!photoModule) photoModule = import('./photo.js');
  return photoModule;
}
async function shrink(file, maxPx, quality) { return (await photos()).shrink(file, maxPx, quality); }
function showThumbs(box, list, onRemove, label) {
  photos().then(function (module) { module.showThumbs(box, list, onRemove, label); });
}

// outbox.js is not on the first screen either (a first open has nothing queued): imported (and started) once
// the page's first reads are asked; every write waits for it, and the page says it is ready once it runs.
let outboxModule = null;
function outbox() {
  if (!outboxModule) {
    outboxModule = import('./outbox.js').then(function (box) { startOutbox(box); return box; });
    outboxModule.catch(function () { outboxModule = null; });
  }
  return outboxModule;
}
function enqueue(item) { return outbox().then(function (box) { return box.enqueue(item); }); }

const config = JSON.parse(document.getElementById('page-config').textContent);
const T = config.strings;
const $ = function (id) { return document.getElementById(id); };

const state = {
  session: null, codes: [], grids: new Map(), buildings: new Map(), tasks: [], tasksRead: false, mine: [], categories: [],
  queue: [], openCase: null, fromCache: false, online: navigator.onLine, needsSignIn: false,
  focus: [], // focus households overdue or unpaired (关爱对象), for the roles that keep them
};
const report = { latlng: null, accuracy: null, photos: [] };

const view = createMap($('m-map'), {
  onCase: openCase,
  onBuilding: function (f) {
    $('m-visit-building').value = f.properties.code;
    showTab('visit');
  },
  onTap: function (latlng) {
    $('m-report-tap').setAttribute('aria-pressed', 'false');
    setReportPosition(latlng, null, T.tapped);
  },
});

// -- reading ---------------------------------------------------------------------------------------

/** Cache, then network: `apply` runs with what the phone kept (if anything), then with the server's answer.
 * Both are asked at once, and neither waits for the other: what the phone kept is not applied over an
 * answer that came first (on a first open the cache is made on disk, which need not hold up the screen). */
async function read(url, apply) {
  let answered = false;
  const kept = cached(url).catch(function () { return null; }).then(function (body) {
    if (body && !answered) apply(body);
    return body;
  });
  kept.catch(function (error) { console.warn('worker page: cannot show what was kept of ' + url, error); });
  try {
    const answer = await fresh(url);
    answered = true;
    apply(answer);
    return true;
  } catch (error) {
    if (error.status === 401) { location.href = config.signin_url; return false; }
    if (!await kept.catch(function () { return null; })) throw error;
    state.fromCache = true;
    return false;
  }
}

/** Who I am as the server put it in the page (role and area; absent when the page came from the service
 * worker, which keeps it without): the first screen's reads need not wait for `GET /api/session`. */
function pageUser() {
  const element = document.getElementById('page-user');
  return element ? JSON.parse(element.textContent) : null;
}

function areaUrl(template, code) {
  return template.replace('{code}', encodeURIComponent(code));
}

async function load() {
  // The lists need not wait for who I am (the server limits them to my area); the grid's map needs my
  // codes: from the page if the server put them there, else from what the phone kept of the session (a
  // warm or offline open), else from the server. The task list, my grids and their buildings are the
  // addresses the page preloads (worker.py first_reads), so these reads take the preloaded answers.
  const reads = [];
  const asked = new Set();
  function readArea() {
    state.codes.filter(function (code) { return !asked.has(code); }).forEach(function (code) {
      asked.add(code);
      reads.push(read(areaUrl(config.grid_url, code), function (grid) { state.grids.set(code, grid); drawGrids(); }));
      reads.push(read(areaUrl(config.buildings_url, code), function (page) {
        state.buildings.set(code, page.features);
        drawBuildings();
      }));
    });
  }
  let focusAsked = false;
  function useSession(session) {
    state.session = session;
    config.role = session.role;
    state.codes = session.area.level === 'grid' ? session.area.codes : [];
    readArea();
    if (!focusAsked && config.focus_roles.includes(session.role)) {
      focusAsked = true; // a preloaded read (worker.py first_reads), like the task list
      reads.push(read(config.focus_url, function (page) { state.focus = page.items; drawFocusList(); }));
    }
  }
  // The task list first: its answer is applied before the buildings' (the heaviest to draw).
  reads.push(read(config.task_url, function (page) {
    state.tasks = page.items;
    state.tasksRead = true;
    drawCases();
  }));
  const given = pageUser();
  if (given && !state.session) useSession(given);
  const session = read('/api/session', function (answer) { useSession(answer); drawCases(); })
    .catch(function (error) { if (!state.session) fail(error); });
  reads.push(read('/api/categories?lang=' + encodeURIComponent(config.lang), function (list) { state.categories = list; drawCategories(); }));
  reads.push(read('/api/cases?mine=true&limit=200', function (page) { state.mine = page.items; drawMine(); }));
  await session;
  if (!state.session) return;
  if (!gridFeatures().length) {
    $('m-grid').textContent = state.codes.length ? fmt(T.grid_codes, { codes: state.codes.join(', ') }) : T.not_worker;
  }
  const results = await Promise.allSettled(reads);
  await saved(); // what was read is on the phone before the page says it is ready ...
  await outbox().catch(function () {}); // ... and the outbox runs
  photos().catch(function () { photoModule = null; });
  document.body.dataset.ready = state.fromCache ? 'cache' : 'network';
  if (results.some(function (r) { return r.status === 'rejected'; })) toast(T.load_failed);
  drawNet();
}

function fail(error) {
  $('m-grid').textContent = T.load_failed;
  console.warn('worker page: cannot load', error);
}

// -- drawing ---------------------------------------------------------------------------------------

function gridFeatures() {
  return state.codes.map(function (code) { return state.grids.get(code); }).filter(Boolean);
}

function drawGrids() {
  view.showGrids(gridFeatures());
  const names = gridFeatures().map(function (g) { return g.properties.name + ' ' + g.properties.code; });
  if (names.length) $('m-grid').textContent = names.join(' · ');
}

function drawBuildings() {
  const all = state.codes.flatMap(function (code) { return state.buildings.get(code) || []; });
  view.showBuildings(all);
  const select = $('m-visit-building');
  const chosen = select.value;
  select.replaceChildren(el('option', { value: '' }, '—'), ...all.map(function (f) {
    const p = f.properties;
    return el('option', { value: p.code }, (p.address || p.name || p.code) + (p.households ? ' · ' + p.households + ' ' + T.households : ''));
  }));
  select.value = chosen;
}

function myTasks() {
  const codes = new Set(state.codes);
  return state.tasks.filter(function (c) { return codes.has(c.grid_code); }).sort(byDeadline);
}

function pendingIds() {
  return new Set(state.queue.filter(function (i) { return i.kind === 'action' && i.state === 'queued'; })
    .map(function (i) { return i.caseId; }));
}

function drawCases() {
  const now = Date.now();
  const tasks = myTasks();
  view.showCases(tasks, function (c) { return COLOURS[urgency(c, config.soon_hours, now)]; });
  caseList($('m-tasks'), tasks, config, now, pendingIds(), openCase, T.no_tasks);
  // "Loaded" (bench/field.py waits for it) once the list drawn is my tasks as read, from the phone or the server.
  if (state.session && state.tasksRead) $('m-tasks').dataset.loaded = '1';
  $('m-tasks-note').textContent = fmt(T.tasks_note, { n: tasks.length });
  $('m-count-tasks').textContent = tasks.length ? String(tasks.length) : '';
  if (state.openCase) drawSheet();
}

function queuedFocus() {
  return new Set(state.queue.filter(function (i) { return i.kind === 'focus_visit' && i.state === 'queued'; })
    .map(function (i) { return i.householdId; }));
}

function drawFocusList() {
  const F = config.focus_strings;
  drawFocus(focusSection($('tab-tasks'), F), state.focus, F, queuedFocus(), function (household) {
    enqueue(visitItem(household, newKey())).then(function () { toast(navigator.onLine ? F.visit_sent : T.sent_queued); });
  });
}

function drawMine() {
  const list = state.mine.slice().sort(function (a, b) { return b.id - a.id; });
  caseList($('m-mine'), list, config, Date.now(), pendingIds(), openCase, T.no_reports);
}

function drawCategories() {
  const select = $('m-report-category');
  const chosen = select.value;
  select.replaceChildren(el('option', { value: '' }, '—'), ...state.categories.filter(function (c) { return c.active !== false; })
    .map(function (c) { return el('option', { value: c.code }, c.name); }));
  select.value = chosen;
}

function drawNet() {
  const queued = state.queue.filter(function (i) { return i.state === 'queued'; }).length;
  const conflicts = state.queue.filter(function (i) { return i.state === 'conflict'; }).length;
  const badge = $('m-net');
  const parts = [state.online ? T.online : T.offline];
  if (queued) parts.push(fmt(T.queued_n, { n: queued }));
  if (conflicts) parts.push(fmt(T.conflicts_n, { n: conflicts }));
  badge.textContent = parts.join(' · ');
  badge.className = 'm-net' + (state.online ? '' : ' offline') + (conflicts ? ' conflict' : '');
  $('m-count-sync').textContent = queued + conflicts ? String(queued + conflicts) : '';
  const storage = $('m-sync-state');
  storage.textContent = state.needsSignIn ? T.signin_again
    : fmt(T.sync_state, { net: parts[0], queued: queued, conflicts: conflicts, storage: '' });
  if (navigator.storage && navigator.storage.estimate) {
    navigator.storage.estimate().then(function (e) {
      storage.textContent += ' ' + fmt(T.storage, { used: (e.usage / 1048576).toFixed(1), quota: Math.round(e.quota / 1048576) });
    });
  }
}

// -- the case sheet --------------------------------------------------------------------------------

function findCase(id) {
  return state.tasks.concat(state.mine).find(function (c) { return c.id === id; });
}

function openCase(id) {
  state.openCase = id;
  $('m-case').hidden = false;
  drawSheet();
  read('/api/cases/' + id, function (c) {
    const at = state.tasks.findIndex(function (t) { return t.id === c.id; });
    if (at >= 0) state.tasks[at] = c;
    if (state.openCase === id) drawSheet(c);
  }).catch(function () {});
}

function drawSheet(given) {
  const c = given || findCase(state.openCase);
  if (!c) return;
  const queued = state.queue.filter(function (i) { return i.kind === 'action' && i.caseId === c.id && i.state === 'queued'; });
  $('m-case-title').textContent = (config.lang === 'en' ? c.category.name_en : c.category.name_zh) + ' #' + c.id;
  $('m-case-body').replaceChildren(...caseSheet(c, config, Date.now(), queued, {
    shrink: function (file) { return shrink(file, config.photo_max_px, config.photo_quality); },
    thumbs: function redraw(box, list) {
      showThumbs(box, list, function (i) { list.splice(i, 1); redraw(box, list); }, T.remove);
    },
    act: function (body, photos) {
      enqueue({ kind: 'action', key: newKey(), caseId: c.id, body: body, photos: photos })
        .then(function () { if (!navigator.onLine) toast(T.sent_queued); });
    },
  }));
}

$('m-case-back').addEventListener('click', function () {
  state.openCase = null;
  $('m-case').hidden = true;
});

// -- reporting -------------------------------------------------------------------------------------

function setReportPosition(latlng, accuracy, how) {
  report.latlng = latlng;
  report.accuracy = accuracy;
  view.showPosition(latlng, accuracy);
  const text = fmt(T.position, { lat: latlng.lat.toFixed(6), lon: latlng.lng.toFixed(6) });
  $('m-report-position').textContent = text + ' · ' + (accuracy ? fmt(T.accuracy, { m: Math.round(accuracy) }) : how);
  const outside = gridFeatures().length && !insideGrids([latlng.lng, latlng.lat], gridFeatures());
  $('m-report-warning').hidden = !outside;
  $('m-report-warning').textContent = outside ? T.outside_grid : '';
}

$('m-report-locate').addEventListener('click', function () {
  if (!navigator.geolocation) { toast(fmt(T.no_geolocation, { reason: '—' })); return; }
  navigator.geolocation.getCurrentPosition(function (p) {
    setReportPosition(L.latLng(p.coords.latitude, p.coords.longitude), p.coords.accuracy, '');
  }, function (error) {
    toast(fmt(T.no_geolocation, { reason: error.message || error.code }));
  }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 30000 });
});

$('m-report-tap').addEventListener('click', function () {
  $('m-report-tap').setAttribute('aria-pressed', 'true');
  toast(T.tap_now);
  view.startTap();
});

function redrawReportThumbs() {
  showThumbs($('m-report-thumbs'), report.photos, function (i) { report.photos.splice(i, 1); redrawReportThumbs(); }, T.remove);
}

$('m-report-photo').addEventListener('change', async function (event) {
  const file = event.target.files && event.target.files[0];
  event.target.value = '';
  if (!file) return;
  report.photos.push(await shrink(file, config.photo_max_px, config.photo_quality));
  redrawReportThumbs();
});

$('m-report').addEventListener('submit', function (event) {
  event.preventDefault();
  const category = $('m-report-category').value;
  if (!category || !report.latlng) { toast(T.need_category_position); return; }
  const name = $('m-report-category').selectedOptions[0].textContent;
  enqueue({
    kind: 'report', key: newKey(), label: name, photos: report.photos.slice(),
    body: { source: config.report_source, category: category, description: $('m-report-description').value,
      lon: report.latlng.lng, lat: report.latlng.lat, crs: 'wgs84' },
  }).then(function () { toast(navigator.onLine ? T.sent : T.sent_queued); });
  event.target.reset();
  report.latlng = null;
  report.photos = [];
  redrawReportThumbs();
  view.clearPosition();
  $('m-report-position').textContent = T.no_position;
  $('m-report-warning').hidden = true;
});

// -- visits ----------------------------------------------------------------------------------------

$('m-visit').addEventListener('submit', function (event) {
  event.preventDefault();
  const select = $('m-visit-building');
  if (!select.value) { toast(T.need_building); return; }
  const problems = $('m-visit-problems').value.split('\n').map(function (s) { return s.trim(); }).filter(Boolean);
  enqueue({
    kind: 'visit', key: newKey(), label: select.selectedOptions[0].textContent,
    body: { building_code: select.value, households_reached: Number($('m-visit-households').value || 0),
      problems: problems, note: $('m-visit-note').value, visited_at: new Date().toISOString() },
  }).then(function () { toast(navigator.onLine ? T.visited : T.sent_queued); });
  event.target.reset();
});

// -- tabs, outbox, network -------------------------------------------------------------------------

function showTab(name) {
  document.querySelectorAll('#m-tabs [data-tab]').forEach(function (b) {
    b.setAttribute('aria-selected', String(b.dataset.tab === name));
  });
  document.querySelectorAll('#m-panel > section').forEach(function (s) { s.hidden = s.id !== 'tab-' + name; });
}

document.querySelectorAll('[data-tab]').forEach(function (b) {
  b.addEventListener('click', function () { showTab(b.dataset.tab); });
});

let toastTimer = null;
function toast(message) {
  const box = $('m-toast');
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(function () { box.hidden = true; }, 4000);
}

function startOutbox(box) {
  window.gridmapWorker.outbox = box;
  box.onChange(function (all, info) { outboxChanged(box, all, info); });
  box.start();
}

function outboxChanged(box, all, info) {
  state.queue = all;
  state.needsSignIn = info.needsSignIn;
  syncLists($('m-queue'), $('m-conflicts'), all, config, function (item) {
    if (item.state === 'queued' && !confirm(T.remove_confirm)) return;
    box.remove(item.seq);
  });
  $('m-queue-empty').hidden = all.some(function (i) { return i.state === 'queued'; });
  $('m-conflicts-empty').hidden = all.some(function (i) { return i.state === 'conflict'; });
  drawNet();
  drawCases();
  drawMine();
  drawFocusList();
  if (info.sent) {
    toast(T.sent);
    load();
  }
}

$('m-sync-now').addEventListener('click', function () { outbox().then(function (box) { box.flush(); }); });
$('m-signout').addEventListener('click', async function (event) {
  event.preventDefault();
  const waiting = state.queue.filter(function (i) { return i.state === 'queued'; }).length;
  if (waiting && !confirm(fmt(T.signout_confirm, { n: waiting }))) return;
  await forgetData();
  location.href = config.signout_url;
});

window.addEventListener('online', function () { state.online = true; drawNet(); load(); });
window.addEventListener('offline', function () { state.online = false; drawNet(); });

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register(config.sw_url, { scope: config.scope }).catch(function (error) {
    console.warn('worker page: no service worker', error);
  });
}

window.gridmapWorker = { state: state, map: view.map, outbox: null, load: load };
load();
outbox().catch(function (error) { console.warn('worker page: no outbox yet', error); });
