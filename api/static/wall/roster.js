/* The roster on the wall: the work days and receptions of the next seven days (published rosters,
 * GET /api/workdays/roster), in a card over the map's lower left corner. The API decides what each reader
 * sees: the wall's roles get roles and counts, and the names only where they see the place's team.
 * The roster is read inside the poll chain (poll.js asks `rosterDue` each cycle and awaits
 * `refreshRoster`), so the wall still has at most one request in flight and no timer of its own. */

import { ctx } from './state.js';
import { esc, fmt } from './format.js';
import { getOptional } from './api.js';

const REFRESH_MS = 5 * 60 * 1000; // the roster changes by the day, not by the second
let card = null;
let fetchedAt = null;
const ROWS = 6;
const ROLES = ['cadre', 'worker', 'party_rep', 'congress_rep'];

function addStyles() {
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = new URL('./roster.css', import.meta.url).href;
  document.head.appendChild(link);
}

function createCard() {
  const card = document.createElement('section');
  card.id = 'wall-roster';
  card.setAttribute('aria-live', 'off');
  card.innerHTML = '<h2></h2><ol></ol><p class="more" hidden></p>';
  card.querySelector('h2').textContent = ctx.T.roster_title;
  document.body.appendChild(card);
  return card;
}

function dayLabel(iso) {
  const day = new Date(iso + 'T00:00:00');
  const today = new Date();
  if (day.toDateString() === today.toDateString()) return ctx.T.roster_today;
  return day.toLocaleDateString(ctx.config.lang, { month: 'numeric', day: 'numeric', weekday: 'short' });
}

function roles(item) {
  return ROLES.filter(function (r) { return item.roles[r]; }).map(function (r) {
    return ctx.T['roster_role_' + r] + ' ' + item.roles[r];
  }).join(' · ');
}

function row(item) {
  const time = [item.start_time, item.end_time].filter(Boolean).join('–');
  const names = item.people ? item.people.map(function (p) { return esc(p.name); }).join('、') : '';
  return '<li class="kind-' + esc(item.kind) + '">' +
    '<div class="when"><span class="day">' + esc(dayLabel(item.date)) + '</span>' +
    '<span class="time">' + esc(time) + '</span></div>' +
    '<div class="what"><span class="tag">' + esc(ctx.T['roster_kind_' + item.kind] || item.kind) + '</span>' +
    '<span class="title">' + esc(item.title) + '</span></div>' +
    '<div class="where">' + esc(item.place || item.building_code || item.community_code) + '</div>' +
    '<div class="who">' + esc(roles(item) || fmt(ctx.T.roster_people, { n: item.people_count })) +
    (names ? '<span class="names">' + names + '</span>' : '') + '</div>' +
    '</li>';
}

function render(card, items) {
  const list = card.querySelector('ol');
  const more = card.querySelector('.more');
  list.innerHTML = items.length ? items.slice(0, ROWS).map(row).join('')
    : '<li class="empty">' + esc(ctx.T.roster_none) + '</li>';
  more.hidden = items.length <= ROWS;
  more.textContent = fmt(ctx.T.roster_more, { n: items.length - ROWS });
  card.dataset.count = String(items.length);
}

/** Draw the (empty) card; the poll chain fills it. */
export function startRoster() {
  addStyles();
  card = createCard();
  return card;
}

/** Is the roster due for a read (never read, or read REFRESH_MS ago)? */
export function rosterDue() {
  return card !== null && (fetchedAt === null || Date.now() - fetchedAt >= REFRESH_MS);
}

/** Read the roster under the poll cycle's signal; a failed read keeps the last roster on screen and is
 * tried again after REFRESH_MS (a signed-out wall is the poll chain's to handle). */
export async function refreshRoster(signal) {
  const answer = await getOptional('/api/workdays/roster', signal);
  fetchedAt = Date.now();
  if (!answer) return;
  render(card, answer.items);
  card.dataset.loaded = 'true';
}
