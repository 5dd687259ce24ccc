/* The side panel's lists, drawn from the plans API's answers: checks (a click shows the problem on the
 * map), balance per grid, and the impact (grids before and after, what changes hands). No rule lives here:
 * severities, kinds, counts and deviations are the server's. */

import { colourFor, escapeHtml, LEGEND_COLOURS } from './editor.js';

export function fill(template, values) {
  return String(template).replace(/\{(\w+)\}/g, function (all, name) {
    return values[name] !== undefined && values[name] !== null ? values[name] : all;
  });
}

function number(value) {
  return value === null || value === undefined ? '—' : String(value);
}

export function renderChecks(list, note, answer, plan, t, handlers) {
  list.replaceChildren();
  const accepted = (plan && plan.accepted_warnings) || {};
  note.textContent = answer.problems.length ? fill(t.checks_summary, answer) : t.checks_ok;
  answer.problems.forEach(function (problem) {
    const item = document.createElement('li');
    item.className = 'p-problem p-' + problem.severity;
    item.dataset.kind = problem.kind;
    item.tabIndex = 0;
    const grids = problem.grids.map(function (code) { return code.slice(-3); }).join(', ');
    item.innerHTML = '<span class="p-sev">' + escapeHtml(t[problem.severity]) + '</span>'
      + '<strong>' + escapeHtml(t['kind_' + problem.kind] || problem.kind) + '</strong>'
      + (grids ? ' <span class="p-codes">' + escapeHtml(grids) + '</span>' : '')
      + '<small>' + escapeHtml(problem.message) + '</small>';
    item.title = problem.message;
    item.addEventListener('click', function () { handlers.zoom(problem); });
    item.addEventListener('keydown', function (event) { if (event.key === 'Enter') handlers.zoom(problem); });
    if (problem.severity === 'warning') {
      if (accepted[problem.key]) {
        const done = document.createElement('small');
        done.className = 'p-accepted';
        done.textContent = fill(t.accepted, accepted[problem.key]);
        item.append(done);
      } else if (handlers.canAccept) {
        const form = document.createElement('form');
        form.className = 'p-accept';
        form.innerHTML = '<input required maxlength="1000" aria-label="' + escapeHtml(t.reason) + '" placeholder="'
          + escapeHtml(t.reason) + '"><button type="submit" class="p-button">' + escapeHtml(t.accept) + '</button>';
        form.addEventListener('click', function (event) { event.stopPropagation(); });
        form.addEventListener('submit', function (event) {
          event.preventDefault();
          handlers.accept(problem.key, form.querySelector('input').value);
        });
        item.append(form);
      }
    }
    list.append(item);
  });
}

export function renderBalance(table, note, rows, settings, t, onPick) {
  note.textContent = fill(t.balance_note, { target: settings.households_per_worker_target });
  const head = ['col_grid', 'col_buildings', 'col_households', 'col_residents', 'col_open', 'col_recent',
    'col_workers', 'col_per_worker', 'col_deviation'];
  table.innerHTML = '<thead><tr>' + head.map(function (k) { return '<th>' + escapeHtml(t[k]) + '</th>'; }).join('')
    + '</tr></thead>';
  const body = document.createElement('tbody');
  rows.forEach(function (row) {
    const tr = document.createElement('tr');
    const deviation = row.deviation === null ? '—' : (row.deviation > 0 ? '+' : '') + Math.round(row.deviation * 100) + '%';
    tr.innerHTML = '<td><i class="p-swatch" style="background:' + colourFor(row.deviation, settings.deviation_steps)
      + '"></i>' + escapeHtml(row.code.slice(-3)) + '</td>'
      + [row.buildings, row.households, row.residents, row.open_cases, row.recent_cases, row.workers,
        row.households_per_worker].map(function (v) { return '<td class="n">' + number(v) + '</td>'; }).join('')
      + '<td class="n">' + deviation + '</td>';
    tr.title = row.code;
    tr.addEventListener('click', function () { onPick(row.code); });
    body.append(tr);
  });
  table.append(body);
}

export function renderLegend(element, settings, t) {
  const p = settings.deviation_steps.map(function (s) { return Math.round(s * 100); });
  const rows = [[LEGEND_COLOURS.over[2], fill(t.legend_over, { p: p[2] })],
    [LEGEND_COLOURS.over[0], fill(t.legend_over, { p: p[0] })],
    [LEGEND_COLOURS.near, fill(t.legend_near, { p: p[0] })],
    [LEGEND_COLOURS.under[0], fill(t.legend_under, { p: p[0] })],
    [LEGEND_COLOURS.under[2], fill(t.legend_under, { p: p[2] })],
    [LEGEND_COLOURS.none, t.legend_none]];
  element.innerHTML = '<strong>' + escapeHtml(t.legend_title) + '</strong>' + rows.map(function (r) {
    return '<span><i class="p-swatch" style="background:' + r[0] + '"></i>' + escapeHtml(r[1]) + '</span>';
  }).join('') + '<span><i class="p-dot p-dot-building"></i>' + escapeHtml(fill(t.move_building, { id: '' }))
    + '</span><span><i class="p-dot p-dot-case"></i>' + escapeHtml(fill(t.move_case, { id: '' }).replace('#', '')) + '</span>';
}

export function describeMove(item, t) {
  const what = fill(item.kind === 'case' ? t.move_case : t.move_building, { id: item.id });
  const from = item.from ? item.from.slice(-3) : t.nowhere;
  const to = item.to ? item.to.slice(-3) : t.nowhere;
  return what + '：' + from + ' → ' + to;
}

const MOVES_SHOWN = 60;

export function renderImpact(parts, impact, t) {
  const buildings = impact.buildings.length;
  const cases = impact.open_cases.length;
  parts.note.textContent = buildings || cases ? fill(t.impact_summary, { buildings: buildings, cases: cases,
    households: impact.households_moving }) : t.impact_none;
  parts.note.className = buildings || cases ? 'p-impact-some' : 'p-muted';
  const fields = ['buildings', 'households', 'open_cases'];
  const names = { buildings: t.col_buildings, households: t.col_households, open_cases: t.col_open };
  parts.grids.innerHTML = '<thead><tr><th>' + escapeHtml(t.col_grid) + '</th>' + fields.map(function (f) {
    return '<th>' + escapeHtml(names[f]) + '<br><small>' + escapeHtml(t.col_before) + ' → ' + escapeHtml(t.col_after)
      + '</small></th>';
  }).join('') + '</tr></thead>';
  const body = document.createElement('tbody');
  impact.grids.forEach(function (row) {
    const tr = document.createElement('tr');
    const changed = fields.some(function (f) {
      return (row.before ? row.before[f] : null) !== (row.after ? row.after[f] : null);
    });
    if (changed) tr.className = 'p-changed';
    tr.innerHTML = '<td>' + escapeHtml(row.code.slice(-3)) + '</td>' + fields.map(function (f) {
      const before = row.before ? row.before[f] : '—';
      const after = row.after ? row.after[f] : '—';
      return '<td class="n">' + (before === after ? before : before + ' → <b>' + after + '</b>') + '</td>';
    }).join('');
    tr.title = row.code;
    body.append(tr);
  });
  parts.grids.append(body);
  const all = impact.buildings.concat(impact.open_cases);
  parts.moves.replaceChildren();
  all.slice(0, MOVES_SHOWN).forEach(function (item) {
    const li = document.createElement('li');
    li.className = 'p-move-item p-move-' + item.kind;
    li.textContent = describeMove(item, t);
    li.addEventListener('click', function () { parts.zoom({ type: 'Point', coordinates: [item.lon, item.lat] }); });
    parts.moves.append(li);
  });
  if (all.length > MOVES_SHOWN) {
    const li = document.createElement('li');
    li.className = 'p-muted';
    li.textContent = fill(t.more_moves, { n: all.length - MOVES_SHOWN });
    parts.moves.append(li);
  }
  return all;
}
