/* The plans API and the editor's helpers, from the planner's page. Writes send the session's CSRF token
 * (the `gridmap_csrf` cookie) as `X-CSRF-Token`; a refused request throws an ApiError with the server's
 * message (`detail`). */

export class ApiError extends Error {
  constructor(status, body) {
    super(messageOf(body) || ('HTTP ' + status));
    this.status = status;
    this.body = body;
  }
}

function messageOf(body) {
  if (!body) return '';
  const detail = body.detail !== undefined ? body.detail : body.message;
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) return detail.map(function (d) { return d.msg || JSON.stringify(d); }).join('; ');
  return detail ? JSON.stringify(detail) : '';
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)gridmap_csrf=([^;]*)/);
  return match ? decodeURIComponent(match[1]) : '';
}

async function answer(response) {
  const type = response.headers.get('content-type') || '';
  const body = type.includes('json') ? await response.json().catch(function () { return {}; })
    : { detail: await response.text() };
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

export async function get(url) {
  return answer(await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } }));
}

export async function send(method, url, json) {
  const headers = { Accept: 'application/json', 'X-CSRF-Token': csrfToken() };
  const init = { method: method, credentials: 'same-origin', headers: headers };
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  }
  return answer(await fetch(url, init));
}

export const plans = {
  session: function () { return get('/api/session'); },
  areas: function () { return get('/plan/areas'); },
  area: function (code) { return get('/plan/areas/' + encodeURIComponent(code)); },
  list: function (area) { return get('/api/plans?area=' + encodeURIComponent(area)); },
  create: function (area, name) { return send('POST', '/api/plans', { area: area, name: name }); },
  read: function (id) { return get('/api/plans/' + id); },
  save: function (id, collection) { return send('PUT', '/api/plans/' + id + '/grids', collection); },
  checks: function (id) { return get('/api/plans/' + id + '/checks'); },
  balance: function (id) { return get('/api/plans/' + id + '/balance'); },
  impact: function (id) { return get('/api/plans/' + id + '/impact'); },
  check: function (id) { return send('POST', '/api/plans/' + id + '/check'); },
  accept: function (id, key, reason) { return send('POST', '/api/plans/' + id + '/warnings', { key: key, reason: reason }); },
  approve: function (id) { return send('POST', '/api/plans/' + id + '/approve'); },
  apply: function (id, date) { return send('POST', '/api/plans/' + id + '/apply', { effective_date: date }); },
  discard: function (id) { return send('POST', '/api/plans/' + id + '/discard'); },
  split: function (grid, line) { return send('POST', '/plan/split', { grid: grid, line: line }); },
  merge: function (first, second) { return send('POST', '/plan/merge', { first: first, second: second }); },
};
