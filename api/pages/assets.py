"""Every front-end asset a gridmap page uses, served by gridmap itself under `/vendor`.

Command centres run on closed networks, so no page may load anything from the internet. folium, its
plugins and branca point at CDNs; `localize` rewrites each of those links to a local `/vendor/...` path
(instance-level, per map) and raises `UnknownAsset` for any CDN link it does not know, so a new folium
feature or a folium upgrade fails a test instead of silently breaking a closed network.

The files come from npm packages pinned exactly in the repo's `package.json` (installed with `npm ci`
into `node_modules/`), plus folium's own patched Leaflet.heat build from the installed folium wheel.
URLs carry the package version (`/vendor/leaflet@1.9.4/leaflet.js`), so they are cached as immutable.

To support a new CDN link: add the npm package to `package.json` and `VENDOR_PACKAGES`, and map the URL
in `_CDN`. To drop one deliberately, list it in `DROPPED_ASSETS` with the reason.
"""

from __future__ import annotations

import mimetypes
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import folium
from branca.element import Element, Figure, Link
from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

VENDOR_ROUTE = "/vendor"
VENDOR_DIR_ENV = "GRIDMAP_VENDOR_DIR"
REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_CONTROL = "public, max-age=31536000, immutable"
# Only these file types are served from the mounted package folders (no package.json, README, ...).
SERVED_SUFFIXES = frozenset({".js", ".css", ".map", ".png", ".svg", ".gif", ".woff2", ".woff", ".ttf"})


class AssetError(RuntimeError):
    """A page would need something from the internet."""


class UnknownAsset(AssetError):
    """A CDN URL that gridmap does not serve locally."""

    def __init__(self, url: str, where: str = "") -> None:
        self.url = url
        detail = f" (in {where})" if where else ""
        super().__init__(
            f"unknown external asset {url!r}{detail}: serve it from an npm package "
            "(package.json + api/pages/assets.py) or drop it there deliberately"
        )


class DroppedAsset(AssetError):
    """The map uses a feature whose asset gridmap deliberately does not serve."""


class VendorMissing(RuntimeError):
    """node_modules (or one of its package folders) is not installed: run `npm ci` at the repo root."""


@dataclass(frozen=True)
class VendorPackage:
    """A package whose folders are served under `/vendor/<slug>@<version>/`."""

    slug: str
    version: str
    folders: Mapping[str, str]  # URL sub-path ("" = the package route itself) -> folder in the package
    npm: str | None = None  # npm package name (under vendor_dir()); None for a Python package
    python_dir: Path | None = field(default=None, compare=False)  # folder of a Python package's data

    @property
    def route(self) -> str:
        """URL prefix of this package, version included."""
        return f"{VENDOR_ROUTE}/{self.slug}@{self.version}"

    def package_dir(self) -> Path:
        """Where the package is installed."""
        if self.npm is not None:
            return vendor_dir() / self.npm
        assert self.python_dir is not None
        return self.python_dir

    def url(self, file: str) -> str:
        """Local URL of `file` (a path relative to the package route)."""
        return f"{self.route}/{file}"


_FOLIUM_DIR = Path(folium.__file__).resolve().parent

# Versions are exact and must equal package.json (tests check package.json, the lock and node_modules).
VENDOR_PACKAGES: dict[str, VendorPackage] = {
    p.slug: p
    for p in (
        VendorPackage("leaflet", "1.9.4", {"": "dist"}, npm="leaflet"),
        VendorPackage("jquery", "3.7.1", {"": "dist"}, npm="jquery"),
        VendorPackage("bootstrap", "5.2.2", {"css": "dist/css", "js": "dist/js"}, npm="bootstrap"),
        VendorPackage(
            "fontawesome-free",
            "6.2.0",
            {"css": "css", "webfonts": "webfonts"},
            npm="@fortawesome/fontawesome-free",
        ),
        VendorPackage("leaflet.awesome-markers", "2.0.5", {"": "dist"}, npm="leaflet.awesome-markers"),
        VendorPackage("leaflet.markercluster", "1.5.3", {"": "dist"}, npm="leaflet.markercluster"),
        VendorPackage("leaflet.fullscreen", "3.0.0", {"": "."}, npm="leaflet.fullscreen"),
        VendorPackage("d3", "3.5.5", {"": "."}, npm="d3"),
        VendorPackage("swagger-ui-dist", "5.32.0", {"": "."}, npm="swagger-ui-dist"),
        # Draws a vector basemap (MVT from /basemap/...) on a Leaflet canvas: api/static/shell/basemap.js.
        VendorPackage("leaflet.vectorgrid", "1.3.0", {"": "dist"}, npm="leaflet.vectorgrid"),
        # The planner's editor at /plan: draw, edit vertices, snap (api/static/plan/).
        VendorPackage("leaflet-geoman-free", "2.20.2", {"": "dist"}, npm="@geoman-io/leaflet-geoman-free"),
        # folium ships the patched Leaflet.heat its HeatMap template expects (weights fix, Leaflet.heat#78);
        # npm's leaflet.heat@0.2.0 lacks that patch, so the file is served from the installed folium wheel.
        VendorPackage("folium", folium.__version__, {"": "templates"}, python_dir=_FOLIUM_DIR),
    )
}


def _local(slug: str, file: str) -> str:
    return VENDOR_PACKAGES[slug].url(file)


_JSD = "https://cdn.jsdelivr.net"
_CDNJS = "https://cdnjs.cloudflare.com/ajax/libs"
# CDN URL (exactly as folium 0.20 / branca 0.8 emit it) -> local /vendor path.
_CDN: dict[str, str] = {
    # folium.Map defaults
    f"{_JSD}/npm/leaflet@1.9.3/dist/leaflet.js": _local("leaflet", "leaflet.js"),
    f"{_JSD}/npm/leaflet@1.9.3/dist/leaflet.css": _local("leaflet", "leaflet.css"),
    "https://code.jquery.com/jquery-3.7.1.min.js": _local("jquery", "jquery.min.js"),
    f"{_JSD}/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": _local(
        "bootstrap", "js/bootstrap.bundle.min.js"
    ),
    f"{_JSD}/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": _local("bootstrap", "css/bootstrap.min.css"),
    f"{_JSD}/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": _local(
        "fontawesome-free", "css/all.min.css"
    ),
    # Not the package's .min.js: it is a stale 2.0.1 build without `extraClasses` (folium's Icon angle).
    f"{_CDNJS}/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js": _local(
        "leaflet.awesome-markers", "leaflet.awesome-markers.js"
    ),
    f"{_CDNJS}/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css": _local(
        "leaflet.awesome-markers", "leaflet.awesome-markers.css"
    ),
    # folium.plugins.MarkerCluster
    f"{_CDNJS}/leaflet.markercluster/1.1.0/leaflet.markercluster.js": _local(
        "leaflet.markercluster", "leaflet.markercluster.js"
    ),
    f"{_CDNJS}/leaflet.markercluster/1.1.0/MarkerCluster.css": _local(
        "leaflet.markercluster", "MarkerCluster.css"
    ),
    f"{_CDNJS}/leaflet.markercluster/1.1.0/MarkerCluster.Default.css": _local(
        "leaflet.markercluster", "MarkerCluster.Default.css"
    ),
    # folium.plugins.Fullscreen (the npm package has no .min.js; jsDelivr minifies on the fly)
    f"{_JSD}/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js": _local(
        "leaflet.fullscreen", "Control.FullScreen.js"
    ),
    f"{_JSD}/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css": _local(
        "leaflet.fullscreen", "Control.FullScreen.css"
    ),
    # folium.plugins.HeatMap
    f"{_JSD}/gh/python-visualization/folium@main/folium/templates/leaflet_heat.min.js": _local(
        "folium", "leaflet_heat.min.js"
    ),
    # branca.colormap (LinearColormap/StepColormap legends), added to the figure header at render time
    f"{_CDNJS}/d3/3.5.5/d3.min.js": _local("d3", "d3.min.js"),
}
LOCAL_ASSETS: dict[str, str] = dict(_CDN)

# CDN URL -> why gridmap does not serve it; links to these are removed from the page.
DROPPED_ASSETS: dict[str, str] = {
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": (
        "Bootstrap 3.0.0 glyphicons stylesheet, only for folium.Icon(prefix='glyphicon'); not on npm as a "
        "standalone file. Use folium.Icon(prefix='fa', icon=...) (Font Awesome 6 is served)."
    ),
    f"{_JSD}/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css": (
        "folium's CSS for folium.Icon(angle=N) with arbitrary N; not on npm. Font Awesome 6 rotates by "
        "0/90/180/270 itself."
    ),
}
_FA_ANGLES = frozenset({0, 90, 180, 270})
_EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)


def vendor_dir() -> Path:
    """The installed npm packages: `$GRIDMAP_VENDOR_DIR`, else `node_modules/` at the repo root."""
    override = os.environ.get(VENDOR_DIR_ENV)
    return Path(override) if override else REPO_ROOT / "node_modules"


def asset_file(local_url: str) -> Path:
    """The file on disk behind a local `/vendor/...` URL (whether or not it exists)."""
    for package in VENDOR_PACKAGES.values():
        prefix = package.route + "/"
        if not local_url.startswith(prefix):
            continue
        rest = local_url[len(prefix) :]
        # Longest URL sub-path first, so "css/x" picks the "css" folder rather than "".
        for sub in sorted(package.folders, key=len, reverse=True):
            if sub == "" or rest == sub or rest.startswith(sub + "/"):
                inner = rest[len(sub) :].lstrip("/")
                return package.package_dir() / package.folders[sub] / inner
    raise KeyError(f"not a vendor URL: {local_url!r}")


class _VendorFiles(StaticFiles):
    """StaticFiles limited to asset file types, with immutable cache headers (URLs are versioned)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if PurePosixPath(path).suffix.lower() not in SERVED_SUFFIXES:
            raise HTTPException(status_code=404)
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            response.headers["Cache-Control"] = CACHE_CONTROL
        return response


def mount_vendor(app: FastAPI, *, require: bool = True) -> None:
    """Mount each package's asset folders (not all of node_modules) under `/vendor/<slug>@<version>/`.

    With `require` (the default) a missing folder raises `VendorMissing` at start-up rather than
    serving map pages whose scripts 404."""
    mimetypes.add_type("font/woff2", ".woff2")
    mimetypes.add_type("application/json", ".map")
    for package in VENDOR_PACKAGES.values():
        # Longest sub-path first: a sub-folder mount must win over the package-root mount.
        for sub, folder in sorted(package.folders.items(), key=lambda item: len(item[0]), reverse=True):
            directory = package.package_dir() / folder
            if require and not directory.is_dir():
                raise VendorMissing(f"{directory} is missing: run `npm ci` at {REPO_ROOT}")
            path = package.route + (f"/{sub}" if sub else "")
            app.mount(path, _VendorFiles(directory=directory, check_dir=False), name=f"vendor:{path}")


def _resolve(url: str, where: str) -> str | None:
    """The local URL for `url`, None if it is deliberately dropped; local URLs pass through."""
    if url in LOCAL_ASSETS:
        return LOCAL_ASSETS[url]
    if url in DROPPED_ASSETS:
        return None
    if _EXTERNAL.match(url):
        raise UnknownAsset(url, where)
    return url


def _localize_pairs(pairs: list[tuple[str, str]], where: str) -> list[tuple[str, str]]:
    out = []
    for name, url in pairs:
        local = _resolve(url, where)
        if local is not None:
            out.append((name, local))
    return out


def _localize_links(element: Element) -> None:
    """Rewrite (or remove, if dropped) the JavascriptLink/CssLink children of `element`."""
    for name, child in list(element._children.items()):
        if isinstance(child, Link):
            local = _resolve(child.url, f"{type(child).__name__} {name!r}")
            if local is None:
                del element._children[name]
            else:
                child.url = local


def _check_icon(element: Element) -> None:
    """Refuse folium.Icon options that need a dropped stylesheet (they would render blank or unrotated)."""
    if not isinstance(element, folium.Icon):
        return
    options = element.options
    if options.get("prefix") == "glyphicon":
        raise DroppedAsset(
            f"folium.Icon(icon={options.get('icon')!r}, prefix='glyphicon') needs Bootstrap 3 glyphicons, "
            "which gridmap does not serve: use prefix='fa' with a Font Awesome 6 icon name"
        )
    match = re.fullmatch(r"fa-rotate-(-?\d+)", str(options.get("extra_classes", "fa-rotate-0")))
    if match and int(match.group(1)) % 360 not in _FA_ANGLES:
        raise DroppedAsset(
            f"folium.Icon(angle={match.group(1)}): only 0, 90, 180 or 270 are supported offline"
        )


def _walk(root: Element) -> Iterator[Element]:
    """Every element under `root` (children plus the header/html/script parts of figures, divs, popups)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        element = stack.pop()
        if id(element) in seen:
            continue
        seen.add(id(element))
        yield element
        stack.extend(element._children.values())
        for part in ("header", "html", "script"):
            child = getattr(element, part, None)
            if isinstance(child, Element):
                stack.append(child)


class _LocalizedHeader(Element):
    """A figure header that localizes the links added to it while the figure renders.

    branca's colormaps (d3) and some folium elements add `JavascriptLink`s to the figure header inside
    their own `render()`, after `localize` has run; `Figure.render` renders all children before it
    renders the header, so rewriting them here catches every one. It adds no state to `Element`, which
    is what makes swapping the class of an existing header instance safe."""

    def render(self, **kwargs: object) -> str:
        _localize_links(self)
        return super().render(**kwargs)


def localize(figure_or_map: Element) -> None:
    """Point every asset link of the map's whole figure at `/vendor`, in place. Safe to repeat.

    Rewrites `default_js`/`default_css` as *instance* attributes (folium's class-level lists, shared by
    all maps, are never touched) and the links already in headers, and guards the figure header so
    links added during rendering (branca's d3) are rewritten too. Raises `UnknownAsset` for a CDN URL it
    does not know and `DroppedAsset` for an Icon that needs a stylesheet gridmap does not serve."""
    root = figure_or_map.get_root()
    start = root if isinstance(root, Figure) else figure_or_map
    for element in _walk(start):
        where = f"{type(element).__module__}.{type(element).__name__}"
        for attr in ("default_js", "default_css"):
            pairs = getattr(element, attr, None)
            if isinstance(pairs, list):
                setattr(element, attr, _localize_pairs(pairs, where))
        _localize_links(element)
        _check_icon(element)
    if isinstance(root, Figure) and not isinstance(root.header, _LocalizedHeader):
        if type(root.header) is not Element:
            raise TypeError(f"cannot guard a figure header of type {type(root.header).__name__}")
        root.header.__class__ = _LocalizedHeader


def offline_map(*, min_zoom: int = 0, max_zoom: int = 19, **kwargs: object) -> folium.Map:
    """A `folium.Map` with no internet basemap (`tiles=None`) and explicit zoom limits.

    folium only passes `min_zoom`/`max_zoom` to its tile layer, so a map without tiles has no maxZoom
    and Leaflet.markercluster throws "Map has no maxZoom specified"; here they go on the map itself."""
    if kwargs.pop("tiles", None) is not None:
        raise ValueError("gridmap maps take no internet tiles; add a local basemap layer instead")
    fmap = folium.Map(tiles=None, **kwargs)  # type: ignore[arg-type]
    fmap.options.setdefault("min_zoom", min_zoom)
    fmap.options.setdefault("max_zoom", max_zoom)
    return fmap


def render_map_html(m: folium.Map) -> str:
    """The full HTML page of `m` with every asset served locally.

    It does not check the page for other external URLs (popups may quote URLs from data); tests do
    that with `external_urls`. Maps must be created with `tiles=None` (no internet basemap)."""
    localize(m)
    return m.get_root().render()


# Namespace identifiers, never fetched.
_IDENTIFIERS = ("http://www.w3.org/",)
_ABSOLUTE = re.compile(r"""\bhttps?:(?://|\\/\\/)[^\s"'`<>()\\]+""", re.IGNORECASE)
# Protocol-relative: right after a quote, `(`, or `=` (attributes, CSS url(), JS strings); not comments.
_RELATIVE = re.compile(r"""(?<=["'`(=])\s*(//[a-z0-9{\[][^\s"'`<>()\\]*)""", re.IGNORECASE)


def external_urls(html: str) -> list[str]:
    """Every http(s):// or protocol-relative `//` URL left in a page, in order, without repeats.

    Catches script/link/img/font references, CSS `url()`/`@import`, and URLs inside inline JS strings
    (tile-layer templates); ignores XML namespace identifiers."""
    found: dict[str, None] = {}
    for match in _ABSOLUTE.finditer(html):
        url = match.group(0)
        if not url.startswith(_IDENTIFIERS):
            found.setdefault(url)
    for match in _RELATIVE.finditer(html):
        found.setdefault(match.group(1))
    return list(found)
