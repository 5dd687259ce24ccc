/* The district's basemap beneath the grids, for every page with a Leaflet map (`/`, `/wall`; `/m` and
 * `/plan` import the same module).
 *
 *   import { addBasemap } from '../shell/basemap.js';
 *   const basemap = await addBasemap(map, { dark: false });   // null: none configured, the grids alone
 *
 * It asks GET /api/basemap (public) and draws what it describes in a pane of its own below Leaflet's
 * overlay pane, so grids, buildings and cases stay above it whatever order they are added in:
 *   raster  L.tileLayer on the archive's tiles (/basemap/{z}/{x}/{y}.png) or on the district's service;
 *   vector  Leaflet.VectorGrid (served by gridmap under /vendor, loaded only when a vector basemap is
 *           configured), styled by layer name (water, landuse, buildings, roads, boundaries; labels and
 *           points left out; any other layer as thin grey lines).
 * Beyond the archive's deepest zoom its tiles are enlarged (maxNativeZoom); outside its bounds nothing is
 * asked for. `dark: true` (the wall) dims and inverts the basemap to sit under a dark page. */

const PANE = 'gridmap-basemap';
const LAND = '#f2efe9';
const DARK_FILTER = 'invert(1) hue-rotate(180deg) brightness(0.75) saturate(0.6)';

function loadScript(src) {
  return new Promise(function (resolve, reject) {
    const existing = document.querySelector('script[data-gridmap-src="' + src + '"]');
    if (existing && existing.dataset.loaded) { resolve(); return; }
    const script = existing || document.createElement('script');
    script.addEventListener('load', function () { script.dataset.loaded = '1'; resolve(); });
    script.addEventListener('error', function () { reject(new Error('cannot load ' + src)); });
    if (!existing) {
      script.src = src;
      script.dataset.gridmapSrc = src;
      document.head.append(script);
    }
  });
}

function roadStyle(properties, zoom) {
  const cls = String(properties['class'] || properties.kind || properties.highway || '');
  const major = /motorway|trunk|primary|highway|major/.test(cls);
  const width = Math.max(0.6, (zoom - 11) * (major ? 1.2 : 0.8));
  return [{ color: '#c9c0b4', weight: width + 2, opacity: 1, fill: false },
    { color: major ? '#f9d49c' : '#ffffff', weight: width, opacity: 1, fill: false }];
}

const WATER = { fill: true, fillColor: '#aad3df', fillOpacity: 1, color: '#aad3df', weight: 1, opacity: 1 };
const GREEN = { fill: true, fillColor: '#dcebd0', fillOpacity: 1, weight: 0, opacity: 0 };
const BUILDING = { fill: true, fillColor: '#dcd3ca', fillOpacity: 1, color: '#c7bcb1', weight: 0.5, opacity: 1 };
const BOUNDARY = { color: '#a39aa8', weight: 1, dashArray: '4 3', opacity: 1, fill: false };
const OTHER = { color: '#b8b1a6', weight: 0.7, opacity: 0.8, fill: false };
const RULES = [ // layer-name pattern -> style (OpenMapTiles, Protomaps, Mapbox and Tianditu-like names)
  [/label|name|place|poi|housenumber|peak|symbol|text/, []],
  [/water|ocean|sea|lake|river/, WATER],
  [/landuse|landcover|park|green|natural|wood|grass|earth|land/, GREEN],
  [/building/, BUILDING],
  [/transport|road|street|highway|railway|aeroway|bridge|tunnel/, roadStyle],
  [/boundar|admin/, BOUNDARY],
];

/** A style for any layer name: the vector archive's layers need not be known in advance. */
function styleFor(name) {
  const key = String(name).toLowerCase();
  const rule = RULES.find(function (r) { return r[0].test(key); });
  return rule ? rule[1] : OTHER;
}

function layerStyles(names) {
  const known = {};
  (names || []).forEach(function (name) { known[name] = styleFor(name); });
  return new Proxy(known, {
    get: function (target, name) {
      if (typeof name !== 'string') return target[name];
      if (!(name in target)) target[name] = styleFor(name);
      return target[name];
    },
  });
}

function ensurePane(map, dark) {
  const pane = map.getPane(PANE) || map.createPane(PANE);
  pane.style.zIndex = 150; // below Leaflet's tile pane (200) and overlay pane (400): the grids stay on top
  pane.style.pointerEvents = 'none';
  if (dark) pane.style.filter = DARK_FILTER;
  return pane;
}

function commonOptions(map, d) {
  const options = {
    pane: PANE, minZoom: Math.max(0, d.min_zoom - 2), maxZoom: map.getMaxZoom() || 19,
    minNativeZoom: d.min_zoom, maxNativeZoom: d.max_zoom, attribution: d.attribution || '',
  };
  if (d.bounds) options.bounds = L.latLngBounds([d.bounds[1], d.bounds[0]], [d.bounds[3], d.bounds[2]]);
  return options;
}

async function vectorLayer(map, d, options, dark) {
  if (!L.vectorGrid) await loadScript(d.renderer_script);
  if (!dark) map.getContainer().style.background = LAND; // a vector basemap draws no land of its own
  return L.vectorGrid.protobuf(d.tiles, Object.assign(options, {
    rendererFactory: L.canvas.tile, interactive: false, vectorTileLayerStyles: layerStyles(d.layers),
    fetchOptions: { credentials: 'same-origin' },
  }));
}

/** Draw the configured basemap beneath the map's grids; resolves to {layer, description}, or null when no
 * basemap is configured or it cannot be read (the page goes on with the grids alone). */
export async function addBasemap(map, settings) {
  const dark = Boolean(settings && settings.dark);
  let d;
  try {
    const response = await fetch('/api/basemap', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (!response.ok) return null;
    d = await response.json();
  } catch (error) {
    return null;
  }
  if (!d) return null;
  ensurePane(map, dark);
  const options = commonOptions(map, d);
  const layer = d.kind === 'vector' ? await vectorLayer(map, d, options, dark) : L.tileLayer(d.tiles, options);
  if (d.attribution && !map.attributionControl) { // the wall has none of its own: the basemap's owner is named
    L.control.attribution({ prefix: false, position: 'bottomleft' }).addTo(map);
  }
  layer.addTo(map);
  map.getContainer().classList.add('has-basemap');
  return { layer: layer, description: d };
}
