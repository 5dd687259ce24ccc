/* The outbox: every write the worker makes (a workflow step with its photos, a report, a visit) is first
 * kept in IndexedDB with an idempotency key made on the phone, then sent one at a time, oldest first, when
 * the network allows (on load, on `online`, when the page is shown again, after each new item, and with a
 * growing pause after failures). An item leaves the phone only after a 2xx answer; a retry after a lost
 * answer carries the same key, so the server applies it once.
 *
 * An answer that refuses the item for good (403: the case was reassigned meanwhile; 404; 409: the case
 * moved on; 422) moves it to the conflicts, shown with the server's reason until the worker dismisses it:
 * nothing is lost silently. 401 (the session ended) stops sending until the worker signs in again. */

import { HttpError, isNetworkError, send } from './api.js';

const DB_NAME = 'gridmap-m';
const STORE = 'outbox';
const REFUSED = new Set([400, 403, 404, 409, 410, 413, 415, 422]);
const MAX_PAUSE_MS = 60000;

let dbPromise = null;
let sending = null;
let pause = 2000;
let timer = null;
let needsSignIn = false;
const listeners = new Set();

function openDb() {
  if (!dbPromise) {
    dbPromise = new Promise(function (resolve, reject) {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(STORE, { keyPath: 'seq', autoIncrement: true });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
  return dbPromise;
}

async function tx(mode, work) {
  const db = await openDb();
  return new Promise(function (resolve, reject) {
    const transaction = db.transaction(STORE, mode);
    const result = work(transaction.objectStore(STORE));
    transaction.oncomplete = function () { resolve(result && 'result' in result ? result.result : undefined); };
    transaction.onerror = function () { reject(transaction.error); };
    transaction.onabort = function () { reject(transaction.error); };
  });
}

/** Every item, oldest first: {seq, key, kind, state: 'queued'|'conflict', ...}. */
export async function items() {
  return (await tx('readonly', function (store) { return store.getAll(); })) || [];
}

export function onChange(listener) {
  listeners.add(listener);
}

async function changed(sent = false) {
  const all = await items();
  listeners.forEach(function (listener) { listener(all, { needsSignIn: needsSignIn, sent: sent }); });
}

/** Keep a write on the phone and try to send it. `item`: {kind, key, ...what `deliver` needs}. */
export async function enqueue(item) {
  await tx('readwrite', function (store) { return store.add({ ...item, state: 'queued', created: Date.now() }); });
  await changed();
  flush();
}

export async function remove(seq) {
  await tx('readwrite', function (store) { return store.delete(seq); });
  await changed();
}

async function update(item) {
  await tx('readwrite', function (store) { return store.put(item); });
}

/** Send what is queued, one at a time; resolves when done or stopped by the network. */
export function flush() {
  if (!sending) {
    sending = sendAll().finally(function () { sending = null; });
  }
  return sending;
}

async function sendAll() {
  clearTimeout(timer);
  let sentAny = false;
  for (;;) {
    const next = (await items()).find(function (item) { return item.state === 'queued'; });
    if (!next) break;
    try {
      next.result = await deliver(next);
      await remove(next.seq);
      sentAny = true;
      needsSignIn = false;
      pause = 2000;
    } catch (error) {
      if (error instanceof HttpError && error.status === 401) {
        needsSignIn = true;
        await changed();
        break;
      }
      if (error instanceof HttpError && REFUSED.has(error.status)) {
        next.state = 'conflict';
        next.status = error.status;
        next.reason = (error.body && (error.body.detail || error.body.error)) || error.message;
        await update(next);
        await changed();
        continue;
      }
      // The network (or a busy server: 5xx, 429): try again later, the item keeps its key.
      if (!isNetworkError(error)) console.warn('outbox: will retry', error.message);
      timer = setTimeout(flush, pause);
      pause = Math.min(pause * 2, MAX_PAUSE_MS);
      break;
    }
  }
  await changed(sentAny);
  return sentAny;
}

/** One item's requests. A step's photos go first (each with its own key), then the step. */
async function deliver(item) {
  if (item.kind === 'action') {
    for (let i = 0; i < (item.photos || []).length; i += 1) {
      const form = new FormData();
      form.append('file', item.photos[i], 'photo-' + (i + 1) + '.jpg');
      await send('POST', '/api/cases/' + item.caseId + '/photos', { form: form, key: item.key + ':photo:' + (i + 1) });
    }
    return send('POST', '/api/cases/' + item.caseId + '/actions', { json: item.body, key: item.key });
  }
  if (item.kind === 'report') {
    const photos = [];
    for (const blob of item.photos || []) {
      photos.push({ content_type: blob.type || 'image/jpeg', data_base64: await base64(blob) });
    }
    return send('POST', '/api/cases', { json: { ...item.body, photos: photos }, key: item.key });
  }
  if (item.kind === 'visit') {
    return send('POST', '/api/visits', { json: { ...item.body, idempotency_key: item.key }, key: item.key });
  }
  if (item.kind === 'focus_visit') { // a visit to a focus household (focus.js)
    return send('POST', '/api/focus/households/' + item.householdId + '/visits',
      { json: { ...item.body, idempotency_key: item.key }, key: item.key });
  }
  throw new HttpError(400, { detail: 'unknown item ' + item.kind }, '');
}

function base64(blob) {
  return new Promise(function (resolve, reject) {
    const reader = new FileReader();
    reader.onload = function () { resolve(String(reader.result).split(',')[1]); };
    reader.onerror = function () { reject(reader.error); };
    reader.readAsDataURL(blob);
  });
}

/** Start sending on load and whenever the network or the page comes back. */
export function start() {
  window.addEventListener('online', function () { pause = 2000; flush(); });
  document.addEventListener('visibilitychange', function () { if (!document.hidden) flush(); });
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(function () {});
  changed();
  flush();
}
