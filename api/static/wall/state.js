/* The wall's shared state: its configuration (from the page), the Leaflet map, what is on screen, and
 * counters for tests and for anyone debugging a wall from the browser console. */

export const MAX_BACKOFF_MS = 60000;
export const REQUEST_TIMEOUT_MS = 20000;
export const IDLE_HOME_MS = 180000; // back to the whole district after 3 minutes without a hand on the map
export const PULSE_LIMIT = 30; // overdue markers that pulse (see points.js choosePulsing)
export const COVERAGE_EVERY_MS = 30000; // coverage gaps are slow to compute and change rarely
// At city scale (tiles) the overdue cases are tens of thousands of markers: rebuilt on every change (every
// second) they took the main thread for seconds at a time; they are refreshed at most this often there.
export const OVERDUE_EVERY_MS_TILES = 15000;

/** config: #page-config; T: the wall's words (the `wall` section of the message catalogue); map: Leaflet. */
export const ctx = { config: null, T: {}, map: null };

export const state = {
  measures: [], // [{key, label, short_label, unit, higher_is_worse, wall}] from /api/layers/measures, wall order
  measure: null, // the measure asked for
  shown: null, // {measure, version} of the grids and summary on screen (tiles: version = the table's stamp)
  tableVersion: null, // tiles: the data version the measure table on screen was fetched at
  overdueVersion: null,
  overdueAt: null, // when the overdue cases were last fetched
  coverageVersion: null,
  coverageAt: null, // when the coverage gaps were last fetched
  replicaLag: null, // seconds the read replica is behind, when the map reads from one
  showOverdue: true,
  showCoverage: true,
  overdueAvailable: true,
  coverageAvailable: true,
  legend: [],
  noDataColour: '#bdbdbd', // replaced by the legend's own no-data colour once one arrives
  periodLabel: null, // the period as the API names it ("近30天")
  home: null, // bounds of the whole district
  away: false, // the view was moved by hand
  basemap: false, // a basemap is drawn beneath the grids (their fill is lighter then)
  fitting: false, // true while the script itself moves the map
  lastInteraction: Date.now(),
  lastUpdated: null, // when the data on screen was fetched
  failures: 0,
  status: 'connecting',
  stopped: false,
};

export const stats = { cycles: 0, requests: 0, refreshes: 0, rebuilds: 0, aborted: 0, failures: 0, switches: 0 };

let rem = 16; // CSS pixels per rem, measured at start and on resize (the type scales with the screen)

export function remPx(n) {
  return n * rem;
}

export function measureRem() {
  rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
}

/** The API's description of a measure (key, label, unit, higher_is_worse). */
export function measureSpec(key) {
  return state.measures.find(function (m) { return m.key === key; }) || { key: key, label: key, unit: '' };
}
