/* The worker's map: my grid(s), their buildings, my open cases coloured by time left, and the position of
 * a report (the phone's, with its accuracy circle, or a tapped point). The district's basemap, if one is
 * configured, is drawn beneath (../shell/basemap.js, imported once the map is made). */

export const COLOURS = { overdue: '#c62828', soon: '#d97706', later: '#2e7d32', none: '#607d8b' };

export function createMap(element, handlers) {
  const map = L.map(element, { preferCanvas: true, zoomControl: false, maxZoom: 20, center: [29.56, 106.57], zoom: 14,
    attributionControl: false });
  L.control.zoom({ position: 'bottomright' }).addTo(map);
  L.control.scale({ imperial: false, position: 'bottomleft' }).addTo(map);
  // Imported here, not at the top: the basemap is not on the first screen's critical path on a weak link.
  import('../shell/basemap.js').then(function (module) { return module.addBasemap(map); })
    .catch(function () { return null; }); // offline or none configured: the grids alone

  const grids = L.geoJSON(null, {
    style: { color: '#0f5e9c', weight: 3, fillColor: '#0f5e9c', fillOpacity: 0.08 },
    interactive: false,
  }).addTo(map);
  const buildings = L.geoJSON(null, {
    pointToLayer: function (f, latlng) {
      return L.circleMarker(latlng, { radius: 5, weight: 1, color: '#ffffff', fillColor: '#455a64', fillOpacity: 0.85 });
    },
    onEachFeature: function (f, layer) {
      layer.on('click', function (event) {
        L.DomEvent.stopPropagation(event);
        handlers.onBuilding(f);
      });
    },
  }).addTo(map);
  const cases = L.layerGroup().addTo(map);
  const position = L.layerGroup().addTo(map);
  let tapping = false;

  map.on('click', function (event) {
    if (tapping) {
      tapping = false;
      element.classList.remove('tapping');
      handlers.onTap(event.latlng);
    }
  });

  return {
    map: map,
    grids: grids,
    buildings: buildings,
    cases: cases,
    showGrids: function (features) {
      grids.clearLayers();
      grids.addData({ type: 'FeatureCollection', features: features });
      if (grids.getLayers().length) map.fitBounds(grids.getBounds(), { padding: [8, 8] });
    },
    showBuildings: function (features) {
      buildings.clearLayers();
      buildings.addData({ type: 'FeatureCollection', features: features });
    },
    showCases: function (list, colourOf) {
      cases.clearLayers();
      list.forEach(function (c) {
        if (!c.position || c.position.lat === null) return;
        const marker = L.circleMarker([c.position.lat, c.position.lon], {
          radius: 10, weight: 3, color: '#ffffff', fillColor: colourOf(c), fillOpacity: 1,
        });
        marker.on('click', function (event) { L.DomEvent.stopPropagation(event); handlers.onCase(c.id); });
        marker.addTo(cases);
      });
    },
    showPosition: function (latlng, accuracy) {
      position.clearLayers();
      if (accuracy) L.circle(latlng, { radius: accuracy, weight: 1, color: '#1565c0', fillOpacity: 0.12 }).addTo(position);
      L.circleMarker(latlng, { radius: 8, weight: 3, color: '#ffffff', fillColor: '#1565c0', fillOpacity: 1 }).addTo(position);
      map.panTo(latlng);
    },
    clearPosition: function () { position.clearLayers(); },
    startTap: function () { tapping = true; element.classList.add('tapping'); },
    resize: function () { map.invalidateSize(); },
  };
}

function inRing(point, ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > point[1]) !== (yj > point[1]) && point[0] < (xj - xi) * (point[1] - yi) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function inPolygon(point, rings) {
  return inRing(point, rings[0]) && !rings.slice(1).some(function (hole) { return inRing(point, hole); });
}

/** Whether [lon, lat] lies in any of the grids (GeoJSON Polygon or MultiPolygon features). */
export function insideGrids(point, features) {
  return features.some(function (f) {
    const g = f.geometry;
    if (!g) return false;
    if (g.type === 'Polygon') return inPolygon(point, g.coordinates);
    if (g.type === 'MultiPolygon') return g.coordinates.some(function (rings) { return inPolygon(point, rings); });
    return false;
  });
}
