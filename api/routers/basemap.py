"""The district's basemap: what the pages should draw beneath the grids, and the tiles of a local archive.

Public, with no key: a basemap shows streets, water and buildings, the same for everyone, and carries no
personal data (no case, reporter or resident). The archive is described and opened once, when the app is
built (`gis.basemap.configured`, kept in `app.state.basemap`); a tile service on the government network is
only described here, and the browser loads its tiles from it.
"""

from __future__ import annotations

import gzip
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from api.pages.assets import VENDOR_PACKAGES
from gis.basemap import CONTENT_TYPES, Basemap, check_tile_address, is_gzipped, tile_format
from gis.errors import NotFound

router = APIRouter(tags=["basemap"])

# Tile URLs carry the archive's version (?v=), so a browser may keep a tile for a week; a replaced
# archive has a new version and its tiles are fetched anew.
TILE_CACHE = "public, max-age=604800"
VECTOR_RENDERER = "Leaflet.VectorGrid.bundled.min.js"


def get_basemap(request: Request) -> Basemap | None:
    return getattr(request.app.state, "basemap", None)


AppBasemap = Annotated[Basemap | None, Depends(get_basemap)]


@router.get("/api/basemap", summary="The basemap the pages draw beneath the grids (null: none is configured)")
def describe(basemap: AppBasemap) -> dict[str, Any] | None:
    if basemap is None:
        return None
    described = basemap.describe()
    if basemap.kind == "vector":  # the renderer the pages load for it, served by gridmap (api/static/shell/basemap.js)
        described["renderer_script"] = VENDOR_PACKAGES["leaflet.vectorgrid"].url(VECTOR_RENDERER)
    return described


@router.get(
    "/basemap/{z}/{x}/{y}.{ext}",
    summary="A tile of the local basemap archive (204: the archive holds no tile there)",
    response_class=Response,
    responses={200: {"content": {media: {} for media in CONTENT_TYPES.values()}},
               204: {"description": "the archive has no tile at this address"},
               404: {"description": "no local basemap archive, or another tile format than the archive's"}},
)
def tile(z: int, x: int, y: int, ext: str, request: Request, basemap: AppBasemap) -> Response:
    check_tile_address(z, x, y)
    fmt = tile_format(ext)
    if basemap is None or basemap.archive is None:
        raise NotFound("no local basemap archive is configured (GRIDMAP_BASEMAP or <data_dir>/basemap/)")
    if fmt != basemap.format:
        raise NotFound(f"the basemap's tiles are .{basemap.format}, not .{ext}",
                       details={"ext": ext, "allowed": [basemap.format]})
    headers = {"Cache-Control": TILE_CACHE}
    body = basemap.archive.tile(z, x, y) if basemap.min_zoom <= z <= basemap.max_zoom else None
    if not body:
        return Response(status_code=204, headers=headers)
    if basemap.kind == "vector" and is_gzipped(body):
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
            headers["Vary"] = "Accept-Encoding"
        else:
            body = gzip.decompress(body)
    return Response(body, media_type=CONTENT_TYPES[fmt], headers=headers)
