/* The worker page's service worker, served as /m/sw.js with scope /m (gridmap prepends `SHELL_FILES`: the
 * page in both languages and its files at their hashed addresses, Leaflet).
 *
 * - install: keep the shell (the page only if the answer is the page itself, not the sign-in it redirects to,
 *   and without its reader's part);
 * - activate: drop older shells, take over open pages;
 * - the page (/m, /m?lang=en): from the phone at once, refreshed from the network behind it, so it opens in
 *   well under a second on a weak link and with none;
 * - files under /static/ and /vendor/ (their addresses change with their content): from the phone, else
 *   the network, kept;
 * - basemap tiles: the network, else what was kept (the worker's own streets, as they were viewed);
 * - everything else, the API included, is not touched: the page reads the API cache-then-network itself
 *   and queues its writes (outbox.js). Writes never pass through here. */

const SHELL = 'gridmap-m-shell-' + hash(JSON.stringify(SHELL_FILES));
const TILES = 'gridmap-m-tiles';
const PAGES = new Set(['/m', '/m?lang=en', '/m?lang=zh-CN']);

function hash(text) {
  let h = 0;
  for (let i = 0; i < text.length; i += 1) h = (Math.imul(31, h) + text.charCodeAt(i)) | 0;
  return (h >>> 0).toString(16);
}

function isPage(response) {
  return response.ok && !response.redirected && response.type === 'basic';
}

/** The page without its reader's part (`<!--user-->…<!--/user-->`: who is signed in and the preloads of
 * their area), so what is kept belongs to no one: a page shown from here takes the area from the data cache,
 * which signing out empties. */
async function shared(response) {
  const html = await response.text();
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  headers.delete('content-encoding');
  return new Response(html.replace(/<!--user-->[\s\S]*?<!--\/user-->/, '<!--user--><!--/user-->'),
    { status: response.status, statusText: response.statusText, headers: headers });
}

async function keep(cache, url) {
  const response = await fetch(url, { credentials: 'same-origin', cache: 'no-cache' });
  if (PAGES.has(url) && isPage(response)) await cache.put(url, await shared(response));
  else if (isPage(response)) await cache.put(url, response);
}

self.addEventListener('install', function (event) {
  event.waitUntil(caches.open(SHELL).then(function (cache) {
    return Promise.all(SHELL_FILES.map(function (url) { return keep(cache, url).catch(function () {}); }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener('activate', function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) { return name.startsWith('gridmap-m-shell-') && name !== SHELL; })
      .map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

async function page(event, key) {
  const cache = await caches.open(SHELL);
  const kept = await cache.match(key);
  const network = fetch(event.request).then(function (response) {
    // The page gets the answer as it streams in; the copy kept for next time is made beside it.
    if (isPage(response)) {
      event.waitUntil(shared(response.clone()).then(function (copy) { return cache.put(key, copy); }));
    }
    return response;
  });
  if (kept) {
    event.waitUntil(network.catch(function () {}));
    return kept;
  }
  return network;
}

async function file(request) {
  const cache = await caches.open(SHELL);
  const kept = await cache.match(request);
  if (kept) return kept;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

async function tile(request) {
  const cache = await caches.open(TILES);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const kept = await cache.match(request);
    if (kept) return kept;
    throw error;
  }
}

self.addEventListener('fetch', function (event) {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const key = url.pathname + url.search;
  if (PAGES.has(key) && request.mode === 'navigate') {
    event.respondWith(page(event, key));
  } else if (url.pathname.startsWith('/static/') || url.pathname.startsWith('/vendor/')) {
    event.respondWith(file(request));
  } else if (url.pathname.startsWith('/basemap/')) {
    event.respondWith(tile(request));
  }
});
