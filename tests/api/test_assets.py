"""Local front-end assets: rendered folium pages reference only /vendor files that exist and are served."""

from __future__ import annotations

import json
import re
from pathlib import Path

import branca.colormap as cm
import folium
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from folium.elements import JSCSSMixin
from folium.plugins import Fullscreen, HeatMap, MarkerCluster

from api.pages.assets import (
    CACHE_CONTROL,
    DROPPED_ASSETS,
    LOCAL_ASSETS,
    REPO_ROOT,
    VENDOR_DIR_ENV,
    VENDOR_PACKAGES,
    VENDOR_ROUTE,
    DroppedAsset,
    UnknownAsset,
    asset_file,
    external_urls,
    localize,
    mount_vendor,
    offline_map,
    render_map_html,
    vendor_dir,
)

SQUARE = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "网格 A-01"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[121.49, 31.19], [121.51, 31.19], [121.51, 31.21], [121.49, 31.21], [121.49, 31.19]]
                ],
            },
        }
    ],
}


def build_map() -> folium.Map:
    """A map using every folium feature gridmap relies on (shared with the browser test)."""
    fmap = offline_map(location=[31.2, 121.5], zoom_start=14)
    folium.GeoJson(SQUARE, name="grids", tooltip=folium.GeoJsonTooltip(fields=["name"])).add_to(fmap)
    cluster = MarkerCluster(name="events").add_to(fmap)
    for i in range(3):
        folium.Marker([31.2 + i * 0.0002, 121.5], popup=f"event {i}").add_to(cluster)
    folium.Marker([31.205, 121.495], tooltip="default Leaflet icon").add_to(fmap)
    folium.Marker(
        [31.195, 121.505],
        popup="<b>站点</b>",
        icon=folium.Icon(color="red", prefix="fa", icon="house", angle=90),
    ).add_to(fmap)
    HeatMap([[31.2, 121.5, 1.0], [31.201, 121.501, 0.5]], name="heat").add_to(fmap)
    Fullscreen().add_to(fmap)
    cm.LinearColormap(["green", "yellow", "red"], vmin=0, vmax=100, caption="households").add_to(fmap)
    folium.LayerControl().add_to(fmap)
    return fmap


def _vendor_refs(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)=["'](/vendor/[^"']+)["']""", html)


def test_rendered_map_loads_nothing_from_the_internet() -> None:
    html = render_map_html(build_map())
    assert external_urls(html) == []
    refs = _vendor_refs(html)
    # leaflet, jquery, bootstrap (2), font awesome, awesome-markers (2), markercluster (3), heat,
    # fullscreen (2), d3 for the colormap legend
    assert len(refs) == 15, refs
    assert f"{VENDOR_ROUTE}/d3@3.5.5/d3.min.js" in refs
    for ref in refs:
        assert asset_file(ref).is_file(), ref


def test_every_known_asset_exists_on_disk() -> None:
    for cdn, local in LOCAL_ASSETS.items():
        assert local.startswith(VENDOR_ROUTE + "/"), cdn
        assert asset_file(local).is_file(), f"{cdn} -> {local}"


def test_package_json_lock_and_node_modules_match_the_pins() -> None:
    pins = {p.npm: p.version for p in VENDOR_PACKAGES.values() if p.npm}
    package = json.loads((REPO_ROOT / "package.json").read_text())
    assert package["dependencies"] == pins
    assert "scripts" not in package
    lock = json.loads((REPO_ROOT / "package-lock.json").read_text())["packages"]
    for name, version in pins.items():
        assert lock[f"node_modules/{name}"]["version"] == version, name
        installed = json.loads((vendor_dir() / name / "package.json").read_text())
        assert installed["version"] == version, name
    assert VENDOR_PACKAGES["folium"].version == folium.__version__


def test_localize_is_per_map_and_repeatable() -> None:
    class_js = list(folium.Map.default_js)
    class_css = list(MarkerCluster.default_css)
    fmap = build_map()
    localize(fmap)
    localize(fmap)
    first = render_map_html(fmap)
    assert folium.Map.default_js == class_js
    assert MarkerCluster.default_css == class_css
    # Another map that is never localized still points at the CDNs: nothing leaked globally.
    untouched = build_map().get_root().render()
    assert "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js" in untouched
    # A second render of the same map (folium itself re-adds header links) stays local.
    second = render_map_html(fmap)
    assert external_urls(second) == []
    assert sorted(set(_vendor_refs(first))) == sorted(set(_vendor_refs(second)))


def test_dropped_assets_are_removed_not_served() -> None:
    html = render_map_html(build_map())
    for url in DROPPED_ASSETS:
        assert url not in html


class _CdnPlugin(JSCSSMixin):
    """A plugin-like element whose script lives on a CDN gridmap does not know."""

    default_js = [("mystery", "https://cdn.example.com/mystery@1.0.0/mystery.min.js")]


def test_unknown_cdn_asset_raises() -> None:
    fmap = folium.Map(tiles=None)
    _CdnPlugin().add_to(fmap)
    with pytest.raises(UnknownAsset, match=re.escape("https://cdn.example.com/mystery@1.0.0/mystery.min.js")):
        localize(fmap)


class _RenderTimeLink(folium.MacroElement):
    """Adds a protocol-relative script to the figure header while rendering, like branca's colormaps."""

    def render(self, **kwargs: object) -> None:
        from branca.element import JavascriptLink

        self.get_root().header.add_child(JavascriptLink("//cdn.example.com/late.js"), name="late")
        super().render(**kwargs)


def test_links_added_while_rendering_are_checked_too() -> None:
    fmap = folium.Map(tiles=None)
    _RenderTimeLink().add_to(fmap)
    with pytest.raises(UnknownAsset, match="//cdn.example.com/late.js"):
        render_map_html(fmap)


@pytest.mark.parametrize(
    ("icon", "message"),
    [
        (folium.Icon(icon="info-sign"), "glyphicon"),
        (folium.Icon(prefix="fa", icon="house", angle=45), "angle=45"),
    ],
)
def test_icons_needing_dropped_stylesheets_raise(icon: folium.Icon, message: str) -> None:
    fmap = folium.Map(tiles=None)
    folium.Marker([31.2, 121.5], icon=icon).add_to(fmap)
    with pytest.raises(DroppedAsset, match=message):
        localize(fmap)


def test_external_urls_finds_every_kind_of_reference() -> None:
    html = """<html><head>
    <script src="//cdn.example.com/a.js"></script>
    <link rel="stylesheet" href="https://cdn.example.com/b.css"/>
    <style>@font-face { src: url(//fonts.example.com/f.woff2) }
      .x { background: url('http://img.example.com/i.png') }</style>
    </head><body><svg xmlns="http://www.w3.org/2000/svg"></svg>
    <img src="/vendor/leaflet@1.9.4/images/layers.png">
    <script>
      // a comment, not a URL
      L.tileLayer("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png").addTo(map);
      var other = '//{s}.tiles.example.com/{z}/{x}/{y}.png';
      var escaped = "https:\\/\\/escaped.example.com\\/x.js";
    </script></body></html>"""
    assert external_urls(html) == [
        "https://cdn.example.com/b.css",
        "http://img.example.com/i.png",
        "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png",
        "https:\\/\\/escaped.example.com",
        "//cdn.example.com/a.js",
        "//fonts.example.com/f.woff2",
        "//{s}.tiles.example.com/{z}/{x}/{y}.png",
    ]


def test_a_default_tile_layer_is_caught() -> None:
    html = render_map_html(folium.Map())  # tiles="OpenStreetMap": not allowed on a closed network
    assert any("openstreetmap" in url for url in external_urls(html))


def test_vendor_dir_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert vendor_dir() == REPO_ROOT / "node_modules"
    monkeypatch.setenv(VENDOR_DIR_ENV, str(tmp_path))
    assert vendor_dir() == tmp_path
    assert asset_file(LOCAL_ASSETS["https://code.jquery.com/jquery-3.7.1.min.js"]) == (
        tmp_path / "jquery" / "dist" / "jquery.min.js"
    )


@pytest.fixture(scope="module")
def vendor_client() -> TestClient:
    app = FastAPI()
    mount_vendor(app)
    return TestClient(app)


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/vendor/leaflet@1.9.4/leaflet.js", "text/javascript"),
        ("/vendor/leaflet@1.9.4/leaflet.css", "text/css"),
        ("/vendor/leaflet@1.9.4/images/marker-icon.png", "image/png"),
        ("/vendor/fontawesome-free@6.2.0/webfonts/fa-solid-900.woff2", "font/woff2"),
        ("/vendor/bootstrap@5.2.2/css/bootstrap.min.css", "text/css"),
        ("/vendor/folium@0.20.0/leaflet_heat.min.js", "text/javascript"),
    ],
)
def test_mounted_vendor_serves_assets(vendor_client: TestClient, path: str, content_type: str) -> None:
    response = vendor_client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == content_type
    assert response.headers["cache-control"] == CACHE_CONTROL
    assert response.content == asset_file(path).read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/vendor/leaflet.fullscreen@3.0.0/package.json",  # not an asset type
        "/vendor/leaflet@1.9.3/leaflet.js",  # wrong version
        "/vendor/leaflet@1.9.4/../package.json",
        "/vendor/jquery/dist/jquery.min.js",  # node_modules itself is not mounted
    ],
)
def test_mounted_vendor_serves_nothing_else(vendor_client: TestClient, path: str) -> None:
    assert vendor_client.get(path).status_code == 404
