/* Reading the layer API with the key cookie: JSON, one request at a time under the cycle's signal. */

import { stats } from './state.js';

export function apiUrl(path, params) {
  const query = new URLSearchParams();
  Object.keys(params || {}).forEach(function (k) {
    if (params[k] !== null && params[k] !== undefined) query.set(k, params[k]);
  });
  const text = query.toString();
  return path + (text ? '?' + text : '');
}

/** GET JSON with the cycle's signal; an HTTP error carries its status, an unreachable server `network`. */
export async function getJSON(path, signal) {
  stats.requests += 1;
  try {
    const response = await fetch(path, {
      signal: signal, credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' },
    });
    if (!response.ok) {
      const error = new Error('HTTP ' + response.status + ' for ' + path);
      error.status = response.status;
      throw error;
    }
    return await response.json();
  } catch (error) {
    if (!error.status && error.name !== 'AbortError') error.network = true; // unreachable or cut off
    throw error;
  }
}

/** GET an optional layer: an HTTP error (other than signed out) gives null instead of failing the cycle,
 * so a broken overdue or coverage layer never blanks the grids; it is tried again on the next version. */
export async function getOptional(path, signal) {
  try {
    return await getJSON(path, signal);
  } catch (error) {
    if (error.status && error.status !== 401 && error.status !== 403) {
      console.warn('wall: optional layer unavailable', path, error.message);
      return null;
    }
    throw error;
  }
}
