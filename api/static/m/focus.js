/* Focus households (关爱对象) at the top of the worker's task list: those overdue for a visit or unpaired, in
 * the order the API gives (overdue first: gis/focus.py `priority`), each with a "visited" button that queues
 * the visit in the outbox like every other write. The rules (cycle, due date, gap) stay on the server; the
 * words are the `focus` section of the message catalogues (the page's configuration `focus_strings`). */

import { el, fmt } from './views.js';

/** The section above the task list (made once, before the tasks' note). */
export function focusSection(tasksPanel, F) {
  let section = document.getElementById('m-focus');
  if (section) return section;
  section = el('div', { id: 'm-focus', class: 'm-focus', hidden: true },
    el('h2', {}, F.title, ' ', el('span', { class: 'count', id: 'm-count-focus' })),
    el('ul', { id: 'm-focus-list', class: 'm-list' }));
  tasksPanel.prepend(section);
  return section;
}

function standing(h, F) {
  if (h.days_overdue > 0) return el('span', { class: 'left overdue' }, fmt(F.overdue_days, { d: h.days_overdue }));
  if (!h.paired) return el('span', { class: 'left soon' }, F.unpaired);
  return el('span', { class: 'left later' }, fmt(F.due, { day: h.next_visit_due }));
}

/** One household: who, where, why, its helper, and the visited button (or that its visit is queued). */
function householdRow(h, F, queued, onVisited) {
  const phone = h.phone ? el('a', { class: 'm-focus-phone', href: 'tel:' + h.phone.replace(/[^\d+]/g, '') }, h.phone) : null;
  const helper = h.helper && h.paired ? fmt(F.helper, { name: h.helper.name }) : F.no_helper;
  const level = h.days_overdue > 0 ? 'overdue' : h.paired ? 'later' : 'soon';
  return el('li', { class: 'm-focus-item ' + level, 'data-focus': h.id },
    el('div', { class: 'main' },
      el('span', { class: 'name' }, h.person_name, el('span', { class: 'door' }, ' · ' + h.household)),
      el('span', { class: 'sub' }, (F['category_' + h.category] || h.category) + ' · ' + (h.building.address || h.building.code)),
      el('span', { class: 'sub' }, helper),
      phone),
    el('div', { class: 'side' },
      standing(h, F),
      queued
        ? el('span', { class: 'm-focus-queued' }, F.visit_queued)
        : el('button', { type: 'button', class: 'm-focus-visited', onclick: function () { onVisited(h); } }, F.visited)));
}

/** Draw the gaps; the section stays hidden when there are none (or the reader keeps no focus households). */
export function drawFocus(section, items, F, queuedIds, onVisited) {
  const list = section.querySelector('#m-focus-list');
  list.replaceChildren(...items.map(function (h) { return householdRow(h, F, queuedIds.has(h.id), onVisited); }));
  section.hidden = items.length === 0;
  section.querySelector('#m-count-focus').textContent = items.length ? String(items.length) : '';
  list.dataset.loaded = '1';
}

/** The outbox item of a visit (queued offline, sent once with its idempotency key). */
export function visitItem(h, key) {
  return { kind: 'focus_visit', key: key, householdId: h.id, label: h.person_name + ' ' + h.household,
    body: { visited_at: new Date().toISOString(), note: '' } };
}
