"""The district map at `/`: every grid and building, drawn with folium from locally served assets."""

from __future__ import annotations

import html
from typing import Annotated

import folium
from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from api.deps import DbSession
from api.pages.assets import render_map_html
from api.pages.i18n import pick_language, strings
from gis.store import places

router = APIRouter(tags=["pages"])

# A qualitative palette readable on a light background; streets cycle through it.
STREET_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
                  "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f", "#393b79", "#637939"]


@router.get("/", response_class=HTMLResponse, summary="District map of grids and buildings")
def district_map(session: DbSession, lang: Annotated[str | None, Query()] = None) -> HTMLResponse:
    language = pick_language(lang)
    text = strings(language)
    grids = places.list_grids(session, bbox=None, limit=100_000, offset=0).features
    buildings = places.list_buildings(session, bbox=None, limit=1_000_000, offset=0).features
    figure = _build_map(grids, buildings, text)
    page = render_map_html(figure)
    page = page.replace("<head>", f'<head><meta charset="utf-8"><title>{html.escape(text["map_title"])}</title>'
                        '<meta name="viewport" content="width=device-width, initial-scale=1">', 1)
    page = page.replace("<html>", f'<html lang="{language}">', 1)
    return HTMLResponse(page)


def _build_map(grids: list[dict], buildings: list[dict], text: dict[str, str]) -> folium.Map:
    streets = sorted({g["properties"]["street_code"] for g in grids})
    colour = {code: STREET_COLOURS[i % len(STREET_COLOURS)] for i, code in enumerate(streets)}
    fmap = folium.Map(tiles=None, prefer_canvas=True, control_scale=True, zoom_control=True)
    grid_layer = folium.GeoJson(
        {"type": "FeatureCollection", "features": grids},
        name=text["grids"],
        style_function=lambda f: {
            "color": colour.get(f["properties"]["street_code"], "#555"), "weight": 1.5,
            "fillColor": colour.get(f["properties"]["street_code"], "#555"), "fillOpacity": 0.25,
        },
        highlight_function=lambda f: {"weight": 3, "fillOpacity": 0.45},
        tooltip=folium.GeoJsonTooltip(
            fields=["code", "name", "community_name", "street_name"],
            aliases=[text["code"], text["name"], text["community"], text["street"]],
        ),
    )
    grid_layer.add_to(fmap)
    inside = [b for b in buildings if b["properties"]["grid_code"]]
    outside = [b for b in buildings if not b["properties"]["grid_code"]]
    inside_layer = _points(inside, text["buildings"], "#333333", 1, text).add_to(fmap)
    outside_layer = _points(outside, text["outside"], "#e6007e", 4, text).add_to(fmap)
    if grids:
        xs, ys = _bounds(grids)
        fmap.fit_bounds([[min(ys), min(xs)], [max(ys), max(xs)]])
    folium.LayerControl(collapsed=True).add_to(fmap)
    fmap.get_root().html.add_child(folium.Element(_title_bar(text)))
    fmap.get_root().script.add_child(folium.Element(_scale_points_js(fmap, inside_layer, outside_layer)))
    return fmap


def _points(features: list[dict], name: str, colour: str, radius: float, text: dict[str, str]) -> folium.GeoJson:
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=name,
        marker=folium.CircleMarker(radius=radius, weight=0, fill=True, fill_opacity=0.8, fill_color=colour),
        tooltip=folium.GeoJsonTooltip(
            fields=["code", "address", "households", "grid_code"],
            aliases=[text["code"], text["address"], text["households"], text["grid"]],
        ),
    )


def _bounds(features: list[dict]) -> tuple[list[float], list[float]]:
    xs: list[float] = []
    ys: list[float] = []
    for feature in features:
        for polygon in feature["geometry"]["coordinates"]:
            for ring in polygon:
                xs.extend(p[0] for p in ring)
                ys.extend(p[1] for p in ring)
    return xs, ys


def _scale_points_js(fmap: folium.Map, inside: folium.GeoJson, outside: folium.GeoJson) -> str:
    """Buildings are dots when the whole district shows and grow as the map zooms in, so they never
    hide the grid boundaries."""
    return f"""
    document.addEventListener('DOMContentLoaded', function () {{
      const map = {fmap.get_name()};
      function scale() {{
        const z = map.getZoom();
        const r = z >= 17 ? 6 : z >= 16 ? 4 : z >= 15 ? 3 : z >= 14 ? 2 : 1;
        {inside.get_name()}.eachLayer(l => l.setRadius && l.setRadius(r));
        {outside.get_name()}.eachLayer(l => l.setRadius && l.setRadius(r + 3));
      }}
      map.on('zoomend', scale);
      scale();
    }});
    """


def _title_bar(text: dict[str, str]) -> str:
    other = "en" if text is strings("zh-CN") else "zh-CN"
    return (
        '<style>#gridmap-title{position:fixed;top:10px;left:56px;right:64px;z-index:1000;background:#fff;'
        'padding:6px 14px;border-radius:6px;box-shadow:0 1px 4px rgba(0,0,0,.3);width:max-content;max-width:'
        'calc(100% - 130px);font:600 18px/1.4 "Noto Sans CJK SC","Noto Sans",sans-serif}'
        '@media (max-width:600px){ #gridmap-title{font-size:14px;padding:4px 8px} }</style>'
        '<div id="gridmap-title">'
        f'{html.escape(text["map_title"])} · {html.escape(text["legend_street"])} '
        f'<a style="font-weight:400;font-size:14px;margin-left:8px" href="?lang={other}">'
        f'{html.escape(text["switch_language"])}</a></div>'
    )



