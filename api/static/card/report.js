/* The report form of a grid card: "use my position" asks the browser (WGS84) and fills the hidden lon/lat;
 * without it the server puts the report inside the card's grid. The form posts without this script too. */

const config = JSON.parse(document.getElementById('page-config').textContent);
const T = config.strings;
const button = document.getElementById('r-locate');
const status = document.getElementById('r-position');

function fill(text, pairs) {
  return text.replace(/\{(\w+)\}/g, function (all, name) { return name in pairs ? pairs[name] : all; });
}

if (button && navigator.geolocation) {
  button.addEventListener('click', function () {
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(function (p) {
      const lon = p.coords.longitude.toFixed(6);
      const lat = p.coords.latitude.toFixed(6);
      document.getElementById('r-lon').value = lon;
      document.getElementById('r-lat').value = lat;
      status.textContent = fill(T.position_set, { lon: lon, lat: lat });
      button.disabled = false;
    }, function () {
      document.getElementById('r-lon').value = '';
      document.getElementById('r-lat').value = '';
      status.textContent = T.position_failed;
      button.disabled = false;
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });
} else if (button) {
  button.hidden = true;
}
