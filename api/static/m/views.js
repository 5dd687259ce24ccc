/* The worker page's lists and the case sheet, drawn from the page's state. Words come from the page's
 * configuration (the `worker` section of the message catalogues; the workflow's labels from gis.workflow). */

import { COLOURS } from './mapview.js';

const HOUR = 3600 * 1000;

export function fmt(template, values) {
  return String(template).replace(/\{(\w+)\}/g, function (all, name) { return name in values ? values[name] : all; });
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(function ([name, value]) {
    if (value === null || value === undefined || value === false) return;
    if (name === 'class') node.className = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : value);
  });
  children.flat().forEach(function (child) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  });
  return node;
}

/** 'overdue' | 'soon' | 'later' | 'none' for a case, by its deadline and the time now. */
export function urgency(c, soonHours, now) {
  if (!c.deadline) return 'none';
  const left = Date.parse(c.deadline) - now;
  if (c.overdue || left < 0) return 'overdue';
  return left < soonHours * HOUR ? 'soon' : 'later';
}

/** Overdue first, then by deadline (soonest first); cases with no deadline last. */
export function byDeadline(a, b) {
  const da = a.deadline ? Date.parse(a.deadline) : Infinity;
  const db = b.deadline ? Date.parse(b.deadline) : Infinity;
  return (b.overdue === true) - (a.overdue === true) || da - db || a.id - b.id;
}

function duration(ms, T) {
  const minutes = Math.round(Math.abs(ms) / 60000);
  if (minutes < 60) return fmt(T.minutes, { m: minutes });
  const hours = Math.round(minutes / 60);
  if (hours < 48) return fmt(T.hours, { h: hours });
  return fmt(T.days, { d: Math.round(hours / 24) });
}

export function timeLeft(c, T, now) {
  if (!c.deadline) return T.no_deadline;
  const left = Date.parse(c.deadline) - now;
  return left < 0 ? fmt(T.overdue, { t: duration(left, T) }) : fmt(T.due_in, { t: duration(left, T) });
}

function when(iso, lang) {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(lang, { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

function categoryName(c, lang) {
  return lang === 'en' ? c.category.name_en || c.category.code : c.category.name_zh || c.category.code;
}

function statusText(status, config) {
  if (status === 'handled') return config.strings.awaiting_verification;
  return config.status_labels[status] || status;
}

/** One row of a case list (a button, ≥ 44 px high). */
export function caseRow(c, config, now, pending, onOpen) {
  const T = config.strings;
  const level = urgency(c, config.soon_hours, now);
  return el('li', {},
    el('button', { type: 'button', class: 'm-case-row ' + level, 'data-case': c.id, onclick: function () { onOpen(c.id); } },
      el('span', { class: 'dot', style: 'background:' + COLOURS[level] }),
      el('span', { class: 'main' },
        el('span', { class: 'name' }, categoryName(c, config.lang)),
        el('span', { class: 'sub' }, (c.address || c.description || '#' + c.id).slice(0, 60))),
      el('span', { class: 'side' },
        el('span', { class: 'left ' + level }, timeLeft(c, T, now)),
        el('span', { class: 'status' }, pending ? T.pending : statusText(c.status, config)))));
}

export function caseList(box, list, config, now, pendingIds, onOpen, empty) {
  box.replaceChildren(...list.map(function (c) { return caseRow(c, config, now, pendingIds.has(c.id), onOpen); }));
  if (!list.length) box.append(el('li', { class: 'm-empty' }, empty));
}

/** The case sheet: facts, then exactly the actions the server says I may take (`my_actions`), or where a
 * queued step will take the case. */
export function caseSheet(c, config, now, queued, handlers) {
  const T = config.strings;
  const level = urgency(c, config.soon_hours, now);
  const facts = el('dl', { class: 'm-facts' },
    el('dt', {}, T.status), el('dd', { class: 'm-status' }, statusText(c.status, config)),
    el('dt', {}, T.deadline), el('dd', { class: 'left ' + level }, c.deadline ? when(c.deadline, config.lang) + ' · ' + timeLeft(c, T, now) : T.no_deadline),
    el('dt', {}, T.address), el('dd', {}, c.address || '—'),
    el('dt', {}, T.description), el('dd', {}, c.description || '—'),
    el('dt', {}, T.reporter), el('dd', {}, [c.reporter && c.reporter.name, c.reporter && c.reporter.contact].filter(Boolean).join(' ') || '—'),
    el('dt', {}, T.grid), el('dd', {}, c.grid_code || '—'),
    el('dt', {}, T.reported_at), el('dd', {}, when(c.timestamps && c.timestamps.reported_at, config.lang)),
    el('dt', {}, T.photos), el('dd', {}, fmt(T.photos_n, { n: (c.photos || []).length })));
  const parts = [facts];
  if (queued.length) {
    parts.push(el('p', { class: 'm-queued', role: 'status' }, queued.map(function (item) {
      return fmt(T.queued_action, { action: config.action_labels[item.body.action] || item.body.action });
    }).join(' · ')));
  }
  const actions = queued.length ? predictedActions(c, queued, config) : c.my_actions || [];
  if (!actions.length) parts.push(el('p', { class: 'm-hint' }, queued.length ? '' : T.no_actions));
  actions.forEach(function (action) { parts.push(actionForm(action, config, handlers)); });
  return parts;
}

/** After queued steps, what I may do next: the workflow's table and my role's actions, both from the server. */
function predictedActions(c, queued, config) {
  let status = c.status;
  queued.forEach(function (item) { status = (config.transitions[status] || {})[item.body.action] || status; });
  const mine = new Set(config.role_actions[config.role] || []);
  return Object.keys(config.transitions[status] || {}).filter(function (a) { return mine.has(a); });
}

function actionForm(action, config, handlers) {
  const T = config.strings;
  const label = config.action_labels[action] || action;
  const form = el('form', { class: 'm-action', 'data-action': action });
  const fields = [];
  if (config.reason_required.includes(action)) {
    fields.push(el('label', { for: 'm-reason-' + action }, T.reason),
      el('textarea', { id: 'm-reason-' + action, name: 'reason', rows: 2, required: true }));
  }
  if ((config.date_required || []).includes(action)) {  // explain: the date the resident is told to expect
    fields.push(el('label', { for: 'm-date-' + action }, config.repeat_strings.expected_by),
      el('input', { id: 'm-date-' + action, name: 'expected_by', type: 'date', required: true }));
  }
  let photos = null;
  if (action === 'handle') {
    photos = { list: [], box: el('div', { class: 'm-thumbs' }) };
    const input = el('input', { id: 'm-handle-photo', type: 'file', accept: 'image/*', capture: 'environment' });
    input.addEventListener('change', async function () {
      const file = input.files && input.files[0];
      input.value = '';
      if (!file) return;
      photos.list.push(await handlers.shrink(file));
      handlers.thumbs(photos.box, photos.list);
    });
    fields.push(el('label', { for: 'm-handle-note' }, T.handle_note),
      el('textarea', { id: 'm-handle-note', name: 'note', rows: 3, maxlength: 2000 }),
      el('label', { class: 'm-photo-label', for: 'm-handle-photo' }, T.take_photo), input, photos.box,
      el('p', { class: 'm-hint' }, T.handle_hint));
  }
  form.append(...fields, el('button', { type: 'submit', class: action === 'handle' || action === 'accept' ? 'm-primary' : '' }, label));
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    const data = new FormData(form);
    const body = { action: action, note: String(data.get('note') || '') };
    if (data.get('reason')) body.reason = String(data.get('reason'));
    if (data.get('expected_by')) body.expected_by = String(data.get('expected_by'));
    handlers.act(body, photos ? photos.list.slice() : []);
  });
  return form;
}

function describe(item, config) {
  const T = config.strings;
  if (item.kind === 'action') {
    return fmt(T.kind_action, { id: item.caseId, action: config.action_labels[item.body.action] || item.body.action });
  }
  if (item.kind === 'report') return fmt(T.kind_report, { category: item.label || item.body.category });
  if (item.kind === 'focus_visit') return fmt(config.focus_strings.kind_visit, { name: item.label });
  return fmt(T.kind_visit, { building: item.label || item.body.building_code });
}

/** The queue and the conflicts, each item with its reason and a button to remove it. */
export function syncLists(queueBox, conflictBox, all, config, onRemove) {
  const T = config.strings;
  const row = function (item, extra, buttonLabel) {
    return el('li', { class: 'm-sync-item', 'data-seq': item.seq },
      el('div', { class: 'main' }, el('span', { class: 'name' }, describe(item, config)),
        el('span', { class: 'sub' }, new Date(item.created).toLocaleString(config.lang)), extra),
      el('button', { type: 'button', onclick: function () { onRemove(item); } }, buttonLabel));
  };
  const queued = all.filter(function (i) { return i.state === 'queued'; });
  const conflicts = all.filter(function (i) { return i.state === 'conflict'; });
  queueBox.replaceChildren(...queued.map(function (item) {
    return row(item, (item.photos || []).length ? el('span', { class: 'sub' }, fmt(T.photos_n, { n: item.photos.length })) : null, T.remove);
  }));
  conflictBox.replaceChildren(...conflicts.map(function (item) {
    return row(item, el('span', { class: 'reason' }, fmt(T.conflict_reason, { reason: item.status + ' ' + item.reason })), T.dismiss);
  }));
  return { queued: queued.length, conflicts: conflicts.length };
}

export { el };
