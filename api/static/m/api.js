/* Reading and writing the API from the worker page.
 *
 * Reads keep what they got in the Cache API (`DATA_CACHE`), so the page opens with no network: `cached(url)`
 * answers at once from the phone, `fresh(url)` asks the server and keeps the answer (`saved()` says when it
 * is kept). The page shows the first and then the second (cache, then network), so a warm open does not wait
 * for a weak link.
 * Writes send the session's CSRF token (the `gridmap_csrf` cookie) and an idempotency key; they are made
 * only by the outbox (outbox.js), which queues them first. */

export const DATA_CACHE = 'gridmap-m-data';

export class HttpError extends Error {
  constructor(status, body, url) {
    super('HTTP ' + status + ' for ' + url);
    this.status = status;
    this.body = body;
  }
}

/** A network failure (offline, the connection dropped): the write stays queued. */
export function isNetworkError(error) {
  return !(error instanceof HttpError);
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)gridmap_csrf=([^;]*)/);
  return match ? decodeURIComponent(match[1]) : '';
}

async function bodyOf(response) {
  const type = response.headers.get('content-type') || '';
  try {
    return type.includes('json') ? await response.json() : { detail: await response.text() };
  } catch (error) {
    return {};
  }
}

async function openCache() {
  return 'caches' in window ? caches.open(DATA_CACHE) : null;
}

/** What the phone kept of `url`, or null. */
export async function cached(url) {
  const cache = await openCache();
  const response = cache && await cache.match(url);
  return response ? response.json() : null;
}

/** `url` from the server (kept for the next open without network); HttpError or a network error. */
export async function fresh(url) {
  const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (!response.ok) throw new HttpError(response.status, await bodyOf(response), url);
  const copy = response.clone();
  const saving = openCache().then(function (cache) { return cache && cache.put(url, copy); });
  pending.add(saving);
  saving.catch(function () {}).then(function () { pending.delete(saving); });
  return response.json();
}

const pending = new Set();

/** Settles when every answer read so far is kept on the phone (`fresh` does not wait for it). */
export function saved() {
  return Promise.allSettled(Array.from(pending));
}

/** A write with the CSRF token and an idempotency key; returns the answer's JSON or throws. */
export async function send(method, url, { json, form, key } = {}) {
  const headers = { Accept: 'application/json', 'X-CSRF-Token': csrfToken() };
  if (key) headers['Idempotency-Key'] = key;
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  const response = await fetch(url, { method, headers, body, credentials: 'same-origin' });
  const answer = await bodyOf(response);
  if (!response.ok) throw new HttpError(response.status, answer, url);
  return answer;
}

/** Forget what the phone kept (signing out). */
export async function forgetData() {
  await saved(); // an answer still being kept would come back after the delete
  if ('caches' in window) await caches.delete(DATA_CACHE);
}

/** An id made on the phone for one write (idempotency key); no secure context needed. */
export function newKey() {
  if (crypto.randomUUID) {
    try { return crypto.randomUUID(); } catch (error) { /* not a secure context */ }
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, function (b) { return b.toString(16).padStart(2, '0'); }).join('');
}
