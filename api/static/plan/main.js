/* The planner's page /plan: choose a community or open a plan, edit its grids, and see after every save
 * what the plans API says of it — checks, balance and impact. main.js holds the plan being edited (its
 * features, each with a page-local `uid`), the debounced autosave and the buttons; editor.js draws the map,
 * panels.js the lists, history.js keeps undo and redo, rules.js says which buttons are open. */

import { ApiError, plans } from './api.js';
import { createEditor } from './editor.js';
import { createHistory } from './history.js';
import { describeMove, fill, renderBalance, renderChecks, renderImpact, renderLegend } from './panels.js';
import { nextCode, workflowButtons } from './rules.js';

const settings = JSON.parse(document.getElementById('page-config').textContent);
const t = settings.strings;
const $ = function (id) { return document.getElementById(id); };

const state = {
  me: null, areas: [], area: null, plan: null, features: [], selected: null, nextUid: 1,
  saveTimer: null, saving: null, dirty: false, balance: [], refreshSeq: 0,
};
window.gridmapPlan = state; // for tests and the curious: read-only by convention
const edits = createHistory(settings.history); // undo and redo (not the browser's window.history)

const editor = createEditor($('p-map'), {
  onSelect: select,
  onEdited: function (uid, geometry) { change(function () { featureOf(uid).geometry = geometry; }, true); },
  onDrawn: function (geometry) {
    hint('');
    change(function () {
      const code = nextCode(state.plan.area_code, state.features);
      const feature = newFeature({ code: code, name: t.new_grid_name, team_id: null, branch_id: null, sources: [] },
        geometry);
      state.features.push(feature);
      state.selected = feature.uid;
    });
  },
  onLine: function (line) { hint(''); renderTools(); split(line); },
  onPick: merge,
});
window.gridmapPlanMap = editor.map; // browser tests find a place's pixel through it

// -- the plan's features and history -------------------------------------------------------------------

function newFeature(properties, geometry) {
  return { type: 'Feature', uid: state.nextUid++, properties: properties, geometry: geometry };
}

function featureOf(uid) {
  return state.features.find(function (f) { return f.uid === uid; }) || null;
}

function snapshot() {
  return JSON.stringify(state.features);
}

function restore(text) {
  state.features = JSON.parse(text);
  if (!featureOf(state.selected)) state.selected = null;
  redraw(true);
  scheduleSave();
}

/** Apply an edit: remember the state before it (undo), redraw unless the map already shows it, save. */
function change(edit, mapShowsIt) {
  if (!editable()) { message(fill(t.hint_readonly, { status: statusName() })); redraw(true); return; }
  edits.remember(snapshot());
  edit();
  if (!mapShowsIt) redraw(true);
  else renderGridForm();
  scheduleSave();
}

function undo() {
  if (edits.canUndo() && editable()) restore(edits.undo(snapshot()));
}

function redo() {
  if (edits.canRedo() && editable()) restore(edits.redo(snapshot()));
}

function collection() {
  return { type: 'FeatureCollection', features: state.features.map(function (f) {
    return { type: 'Feature', properties: f.properties, geometry: f.geometry };
  }) };
}

// -- geometry tools ---------------------------------------------------------------------------------------

async function split(line) {
  const feature = featureOf(state.selected);
  if (!feature) { hint(t.hint_select_first); return; }
  try {
    const answer = await plans.split(feature.geometry, line);
    change(function () {
      feature.geometry = answer.pieces[0];
      let last = null;
      answer.pieces.slice(1).forEach(function (piece) {
        last = newFeature({ code: feature.properties.code, name: fill(t.split_name, feature.properties),
          team_id: null, branch_id: null, sources: [feature.properties.code] }, piece);
        state.features.push(last);
      });
      state.selected = last ? last.uid : feature.uid;
    });
  } catch (error) { failed(error); }
}

async function merge(uid) {
  const first = featureOf(state.selected);
  const second = featureOf(uid);
  setTool('select');
  if (!first || !second) return;
  try {
    const answer = await plans.merge(first.geometry, second.geometry);
    change(function () {
      first.geometry = answer.geometry;
      const sources = new Set((first.properties.sources || []).concat(second.properties.sources || [second.properties.code]));
      first.properties.sources = Array.from(sources);
      state.features = state.features.filter(function (f) { return f.uid !== uid; });
    });
  } catch (error) { failed(error); }
}

function remove() {
  const feature = featureOf(state.selected);
  if (!feature) { hint(t.hint_select_first); return; }
  change(function () {
    state.features = state.features.filter(function (f) { return f !== feature; });
    state.selected = null;
  });
}

// -- saving and reading back ------------------------------------------------------------------------------

function scheduleSave() {
  state.dirty = true;
  saveState(t.saving, 'saving');
  clearTimeout(state.saveTimer);
  state.saveTimer = setTimeout(save, settings.autosave_ms);
}

async function save() {
  if (state.saving) { await state.saving; }
  if (!state.dirty || !state.plan) return;
  state.dirty = false;
  const id = state.plan.id;
  state.saving = plans.save(id, collection()).then(function (summary) {
    state.plan = Object.assign({}, summary, { grids: undefined });
    saveState(fill(t.saved, { time: new Date().toLocaleTimeString(settings.lang) }), 'saved');
    renderStatus();
    return refresh();
  }).catch(function (error) {
    state.dirty = true;
    saveState(fill(t.save_failed, { message: error.message }), 'failed');
  }).finally(function () { state.saving = null; });
  await state.saving;
}

/** Checks, balance and impact of the saved plan; a later refresh wins over an earlier one still running. */
async function refresh() {
  if (!state.plan) return;
  const seq = ++state.refreshSeq;
  const id = state.plan.id;
  document.body.dataset.pending = '1';
  const answers = await Promise.all([plans.checks(id), plans.balance(id), plans.impact(id)]);
  if (seq !== state.refreshSeq || !state.plan || state.plan.id !== id) return;
  delete document.body.dataset.pending;
  const checks = answers[0];
  state.checks = checks;
  state.balance = answers[1];
  state.impact = answers[2];
  renderChecks($('p-checks'), $('p-checks-note'), checks, state.plan, t,
    { zoom: zoomTo, accept: accept, canAccept: editable() });
  $('p-count-checks').textContent = checks.errors + checks.warnings ? String(checks.errors + checks.warnings) : '';
  $('p-count-checks').className = 'p-count' + (checks.errors ? ' p-count-error' : checks.warnings ? ' p-count-warning' : '');
  renderBalance($('p-balance'), $('p-balance-note'), state.balance, settings, t, selectCode);
  const colours = {};
  state.balance.forEach(function (row) { colours[row.code] = row.deviation; });
  editor.setColours(colours, settings.deviation_steps);
  const moves = renderImpact({ note: $('p-impact-note'), grids: $('p-impact-grids'), moves: $('p-moves'), zoom: zoomTo },
    state.impact, t);
  $('p-count-impact').textContent = moves.length ? String(moves.length) : '';
  editor.showMoves(moves, function (item) { return describeMove(item, t); });
  renderGridForm();
  renderActions();
  document.body.dataset.refreshed = String(seq);
}

function zoomTo(problem) {
  editor.showProblem(problem.geometry || problem);
}

// -- opening -----------------------------------------------------------------------------------------------

async function openArea(code, planId) {
  state.area = await plans.area(code);
  $('p-area').value = code;
  editor.setOutline(state.area.outline);
  fillOptions($('p-team'), state.area.teams);
  fillOptions($('p-branch'), state.area.branches);
  const list = await plans.list(code);
  const select = $('p-plan');
  select.replaceChildren();
  if (!list.length) select.append(new Option(t.no_plans, ''));
  list.forEach(function (plan) {
    select.append(new Option('#' + plan.id + ' ' + plan.name + ' · ' + (t['status_' + plan.status] || plan.status),
      String(plan.id)));
  });
  const open = planId || (list.find(function (p) { return p.status === 'draft' || p.status === 'checked'; }) || {}).id;
  if (open) await openPlan(open);
  else { state.plan = null; state.features = []; redraw(false); renderStatus(); renderActions(); }
}

async function openPlan(id) {
  const summary = await plans.read(id);
  if (state.area === null || state.area.code !== summary.area_code) { await openArea(summary.area_code, id); return; }
  $('p-plan').value = String(id);
  state.plan = Object.assign({}, summary, { grids: undefined });
  state.features = summary.grids.features.map(function (f) { return newFeature(f.properties, f.geometry); });
  edits.clear();
  state.selected = null;
  const url = new URL(location.href);
  url.searchParams.set('plan', String(id));
  history.replaceState(null, '', url);
  editor.showProblem(null);
  redraw(false);
  renderStatus();
  saveState('', '');
  await refresh();
}

async function newPlan() {
  const code = $('p-area').value;
  if (!code) return;
  const area = state.areas.find(function (a) { return a.code === code; });
  const today = new Date().toISOString().slice(0, 10);
  try {
    const plan = await plans.create(code, fill(t.plan_name, { community: area ? area.name : code, date: today }));
    state.area = null;
    await openPlan(plan.id);
  } catch (error) { failed(error); }
}

function fillOptions(select, items) {
  select.replaceChildren(new Option(t.none, ''));
  items.forEach(function (item) {
    select.append(new Option(item.name + ' (' + String(item.grid_code).slice(-3) + ')', String(item.id)));
  });
}

// -- drawing the page ----------------------------------------------------------------------------------------

function editable() {
  return Boolean(state.plan && state.me && settings.planners.includes(state.me.role)
    && (state.plan.status === 'draft' || state.plan.status === 'checked'));
}

function statusName() {
  return state.plan ? (t['status_' + state.plan.status] || state.plan.status) : '';
}

function redraw(keepView) {
  editor.show(state.features, keepView);
  editor.select(state.selected);
  renderGridForm();
  renderTools();
}

function select(uid) {
  state.selected = uid;
  editor.select(uid);
  renderGridForm();
}

function selectCode(code) {
  const feature = state.features.find(function (f) { return f.properties.code === code; });
  if (feature) select(feature.uid);
}

function renderGridForm() {
  const feature = featureOf(state.selected);
  $('p-grid-form').hidden = !feature;
  $('p-grid-none').hidden = Boolean(feature);
  if (!feature) return;
  const p = feature.properties;
  const form = $('p-grid-form');
  Array.from(form.elements).forEach(function (el) { el.disabled = !editable(); });
  if (document.activeElement !== $('p-code')) $('p-code').value = p.code || '';
  if (document.activeElement !== $('p-name')) $('p-name').value = p.name || '';
  $('p-team').value = p.team_id === null || p.team_id === undefined ? '' : String(p.team_id);
  $('p-branch').value = p.branch_id === null || p.branch_id === undefined ? '' : String(p.branch_id);
  const load = state.balance.find(function (row) { return row.code === p.code; });
  $('p-grid-load').textContent = load ? fill(t.grid_load, load) : '';
}

function renderTools() {
  const can = editable();
  document.querySelectorAll('#p-tools button').forEach(function (button) {
    const tool = button.dataset.tool;
    button.disabled = !can || (tool === 'undo' && !edits.canUndo()) || (tool === 'redo' && !edits.canRedo());
    button.setAttribute('aria-pressed', String(editor.mode() === tool));
  });
  if (state.plan && !can) hint(state.me && !settings.planners.includes(state.me.role) ? t.hint_not_planner
    : fill(t.hint_readonly, { status: statusName() }));
}

function renderStatus() {
  const badge = $('p-status');
  badge.hidden = !state.plan;
  if (!state.plan) return;
  badge.textContent = statusName();
  badge.dataset.status = state.plan.status;
  const id = state.plan.id;
  $('p-export-gpkg').href = '/api/plans/' + id + '/export.gpkg';
  $('p-export-geojson').href = '/api/plans/' + id + '/export.geojson';
  renderTools();
}

function renderActions() {
  const buttons = workflowButtons(state.plan, state.me || {}, settings, state.checks, editable(), t);
  $('p-check').disabled = !buttons.check;
  $('p-discard').disabled = !buttons.discard;
  $('p-approve').disabled = !buttons.approve;
  $('p-apply').disabled = !buttons.apply;
  $('p-date').disabled = !buttons.apply;
  $('p-approve-note').textContent = buttons.note;
}

function saveState(text, kind) {
  $('p-save').textContent = text;
  $('p-save').dataset.state = kind;
}

function hint(text) { $('p-hint').textContent = text || ''; $('p-hint').hidden = !text; }

function message(text, kind) {
  $('p-message').textContent = text;
  $('p-message').dataset.kind = kind || 'info';
}

function failed(error) {
  message(fill(t.failed, { message: error instanceof ApiError || error instanceof Error ? error.message : String(error) }), 'error');
}

function setTool(tool) {
  const next = editor.mode() === tool && tool !== 'select' ? 'select' : tool;
  editor.setMode(next);
  hint({ draw: t.hint_draw, edit: t.hint_edit, split: t.hint_split, merge: t.hint_merge }[next] || '');
  renderTools();
}

// -- workflow buttons ------------------------------------------------------------------------------------------

async function act(work, done) {
  try {
    await save();
    const answer = await work();
    if (done) message(typeof done === 'function' ? done(answer) : done, 'ok');
    const summary = await plans.read(state.plan.id);
    state.plan = Object.assign({}, summary, { grids: undefined });
    const option = $('p-plan').querySelector('option[value="' + summary.id + '"]');
    if (option) option.textContent = '#' + summary.id + ' ' + summary.name + ' · ' + statusName();
    renderStatus();
    await refresh();
  } catch (error) { failed(error); }
}

async function accept(key, reason) {
  await act(function () { return plans.accept(state.plan.id, key, reason); }, t.accepted_ok);
}

function wire() {
  document.querySelectorAll('#p-tools button').forEach(function (button) {
    button.addEventListener('click', function () {
      const tool = button.dataset.tool;
      if (tool === 'undo') undo();
      else if (tool === 'redo') redo();
      else if (tool === 'delete') remove();
      else if ((tool === 'split' || tool === 'merge') && !featureOf(state.selected)) hint(t.hint_select_first);
      else setTool(tool);
    });
  });
  document.addEventListener('keydown', function (event) {
    if (!(event.ctrlKey || event.metaKey) || ['INPUT', 'SELECT', 'TEXTAREA'].includes(event.target.tagName)) return;
    if (event.key === 'z' && !event.shiftKey) { event.preventDefault(); undo(); }
    if (event.key === 'y' || (event.key === 'z' && event.shiftKey)) { event.preventDefault(); redo(); }
    if (event.key === 'Escape') setTool('select');
  });
  const property = function (name, read) {
    return function (event) {
      const feature = featureOf(state.selected);
      if (!feature) return;
      const value = read(event.target.value);
      if (feature.properties[name] === value) return;
      change(function () { feature.properties[name] = value; }, name !== 'code' && name !== 'name');
    };
  };
  const id = function (value) { return value === '' ? null : Number(value); };
  $('p-code').addEventListener('change', property('code', function (v) { return v.trim(); }));
  $('p-name').addEventListener('change', property('name', function (v) { return v.trim(); }));
  $('p-team').addEventListener('change', property('team_id', id));
  $('p-branch').addEventListener('change', property('branch_id', id));
  $('p-suggest').addEventListener('click', function () {
    const feature = featureOf(state.selected);
    if (feature) change(function () { feature.properties.code = nextCode(state.plan.area_code, state.features); });
  });
  document.querySelectorAll('#p-tabs [role=tab]').forEach(function (tab) {
    tab.addEventListener('click', function () {
      document.querySelectorAll('#p-tabs [role=tab]').forEach(function (other) {
        other.setAttribute('aria-selected', String(other === tab));
        $('tab-' + other.dataset.tab).hidden = other !== tab;
      });
    });
  });
  $('p-area').addEventListener('change', function (event) { state.area = null; openArea(event.target.value).catch(failed); });
  $('p-plan').addEventListener('change', function (event) { if (event.target.value) openPlan(Number(event.target.value)).catch(failed); });
  $('p-new').addEventListener('click', newPlan);
  $('p-check').addEventListener('click', function () {
    act(function () { return plans.check(state.plan.id); }, function (answer) {
      const errors = answer.problems.filter(function (p) { return p.severity === 'error'; }).length;
      return answer.status === 'checked' ? t.checked_ok : fill(t.checked_errors, { n: errors });
    });
  });
  $('p-approve').addEventListener('click', function () { act(function () { return plans.approve(state.plan.id); }, t.approved); });
  $('p-apply').addEventListener('click', function () {
    act(function () { return plans.apply(state.plan.id, $('p-date').value); }, function (answer) {
      const a = answer.applied;
      return fill(t.applied, { ended: a.grids_ended, started: a.grids_started, buildings: a.buildings_changed,
        cases: a.cases_rehomed });
    });
  });
  $('p-discard').addEventListener('click', function () {
    if (window.confirm(t.confirm_discard)) act(function () { return plans.discard(state.plan.id); }, t.discarded);
  });
  window.addEventListener('beforeunload', function (event) { if (state.dirty) event.preventDefault(); });
}

async function start() {
  wire();
  renderLegend($('p-legend'), settings, t);
  $('p-date').value = new Date().toISOString().slice(0, 10);
  hint('');
  state.me = await plans.session();
  $('p-user').textContent = state.me.username + ' · ' + state.me.role;
  state.areas = await plans.areas();
  const areaSelect = $('p-area');
  areaSelect.replaceChildren(new Option(t.choose_community, ''));
  state.areas.forEach(function (a) {
    areaSelect.append(new Option(a.name + ' ' + a.code.slice(-3) + (a.street ? ' · ' + a.street : ''), a.code));
  });
  const wanted = new URL(location.href).searchParams.get('plan');
  if (wanted) await openPlan(Number(wanted));
  else if (state.areas.length) await openArea(state.areas[0].code);
  renderActions();
  document.body.dataset.ready = '1';
}

start().catch(function (error) { failed(error); document.body.dataset.ready = 'failed'; });
