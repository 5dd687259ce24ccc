/* The public grid card (/card/{code}): the grid's boundary on a small map over the district's basemap, and
 * the print button. Everything else on the card is rendered by the server, so it reads and prints without
 * this script. The map is a picture, not a tool: no dragging or zooming (a phone scrolls past it). */

import { addBasemap } from '../shell/basemap.js';

const config = JSON.parse(document.getElementById('page-config').textContent);

function drawMap() {
  const box = document.getElementById('card-map');
  if (!box || !window.L || !config.geometry) return;
  const map = L.map(box, {
    zoomControl: false, dragging: false, scrollWheelZoom: false, doubleClickZoom: false, boxZoom: false,
    keyboard: false, touchZoom: false, tap: false, attributionControl: true, zoomSnap: 0.25,
  });
  const outline = L.geoJSON(config.geometry, {
    style: { color: '#b3261e', weight: 3, fillColor: '#b3261e', fillOpacity: 0.12 },
    interactive: false,
  }).addTo(map);
  // Fitted again whenever the box changes size (a phone turned, the print layout): `data-fit` records the
  // height it was fitted at.
  function fit() {
    map.invalidateSize(false);
    map.fitBounds(outline.getBounds(), { padding: [16, 16], animate: false });
    box.dataset.fit = String(box.clientHeight);
  }
  fit();
  addBasemap(map, { dark: false });
  if (window.ResizeObserver) new ResizeObserver(fit).observe(box);
  window.addEventListener('beforeprint', fit);
  box.dataset.ready = '1';
}

const print = document.getElementById('card-print');
if (print) print.addEventListener('click', function () { window.print(); });
drawMap();
