"""OGC API – Features answers: content negotiation, links, the JSON bodies and their HTML pages.

JSON links are absolute (clients such as GDAL and QGIS follow them as given); HTML pages link with paths
only, so a page names no other site (`api.pages.assets.external_urls` finds nothing but the conformance
classes' identifiers, which are names and never fetched).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api.pages import shell
from api.pages.i18n import messages, pick_language
from gis.errors import NotFound
from gis.features import COLLECTIONS, CONFORMANCE, CRS84, GREGORIAN, Collection, InvalidParameter
from gis.store.features import Extent, Items
from gis.workcalendar import SHANGHAI

ROOT = "/ogc"
JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
FORMATS = {"json": "json", "html": "html"}
_JSON_TYPES = (JSON, GEOJSON, "application/*", "*/*")


# -- negotiation --------------------------------------------------------------------------------------


def _accepted(header: str) -> dict[str, float]:
    ranges: dict[str, float] = {}
    for part in header.split(","):
        fields = [f.strip() for f in part.split(";")]
        if not fields[0]:
            continue
        quality = 1.0
        for parameter in fields[1:]:
            if parameter.lower().startswith("q="):
                try:
                    quality = float(parameter[2:])
                except ValueError:
                    quality = 0.0
        ranges[fields[0].lower()] = max(quality, ranges.get(fields[0].lower(), 0.0))
    return ranges


def wanted_format(request: Request) -> str:
    """`json` or `html`: the `f` parameter if given, else the Accept header (HTML only when the client
    prefers it to JSON, as browsers do), else JSON."""
    chosen = request.query_params.get("f")
    if chosen is not None:
        if chosen not in FORMATS:
            raise InvalidParameter("f", f"{chosen!r} is not a format served here; known: json, html")
        return FORMATS[chosen]
    accepted = _accepted(request.headers.get("accept", ""))
    html = max(accepted.get(HTML, 0.0), accepted.get("text/*", 0.0))
    json = max((accepted.get(t, 0.0) for t in _JSON_TYPES), default=0.0)
    return "html" if html > json else "json"


# -- links --------------------------------------------------------------------------------------------


def url(request: Request, path: str = "", **query: object) -> str:
    """The absolute address of `ROOT + path` on the host the client asked."""
    base = str(request.base_url).rstrip("/") + ROOT + path
    pairs = "&".join(f"{k}={v}" for k, v in query.items() if v is not None)
    return f"{base}?{pairs}" if pairs else base


def link(href: str, rel: str, media_type: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": media_type, "title": title}


def self_links(request: Request, media_type: str, title: str) -> list[dict[str, str]]:
    """`self` (this answer as JSON) and `alternate` (the same as HTML), keeping the other parameters."""
    json_url = str(request.url.include_query_params(f="json"))
    html_url = str(request.url.include_query_params(f="html"))
    return [link(json_url, "self", media_type, title), link(html_url, "alternate", HTML, f"{title} (HTML)")]


# -- bodies -------------------------------------------------------------------------------------------


def landing(request: Request) -> dict[str, Any]:
    return {
        "title": "gridmap",
        "description": "Communities, grids (with their boundary versions) and buildings of the urban grid "
                       "governance service, as OGC API – Features (Part 1).",
        "links": [
            *self_links(request, JSON, "This document"),
            link(url(request, "/api"), "service-desc", OPENAPI, "The API definition (OpenAPI 3.0)"),
            link(url(request, "/conformance"), "conformance", JSON, "Conformance classes implemented"),
            link(url(request, "/conformance"), "http://www.opengis.net/def/rel/ogc/1.0/conformance", JSON,
                 "Conformance classes implemented"),
            link(url(request, "/collections"), "data", JSON, "Feature collections"),
            link(url(request, "/collections"), "http://www.opengis.net/def/rel/ogc/1.0/data", JSON,
                 "Feature collections"),
        ],
    }


def conformance(request: Request) -> dict[str, Any]:
    return {"conformsTo": list(CONFORMANCE), "links": self_links(request, JSON, "Conformance classes")}


def _interval_end(day: date | None) -> str | None:
    """A district day's start as RFC 3339 (Asia/Shanghai), None for an open end."""
    return None if day is None else datetime.combine(day, time(), SHANGHAI).isoformat()


def collection(request: Request, described: Collection, extent: Extent) -> dict[str, Any]:
    path = f"/collections/{described.id}"
    body: dict[str, Any] = {
        "id": described.id,
        "title": described.title,
        "description": described.description,
        "itemType": "feature",
        "crs": [CRS84],
        "links": [
            link(url(request, path, f="json"), "self", JSON, described.title),
            link(url(request, path, f="html"), "alternate", HTML, f"{described.title} (HTML)"),
            link(url(request, f"{path}/items", f="json"), "items", GEOJSON, f"{described.title} (GeoJSON)"),
            link(url(request, f"{path}/items", f="html"), "items", HTML, f"{described.title} (HTML)"),
        ],
    }
    spatial: dict[str, Any] = {"crs": CRS84}
    if extent.bbox is not None:
        spatial["bbox"] = [list(extent.bbox)]
    body["extent"] = {"spatial": spatial}
    if described.temporal:
        body["extent"]["temporal"] = {"interval": [[_interval_end(extent.first), _interval_end(extent.last)]],
                                      "trs": GREGORIAN}
    return body


def collections(request: Request, bodies: list[dict[str, Any]]) -> dict[str, Any]:
    return {"links": self_links(request, JSON, "Feature collections"), "collections": bodies}


def items(request: Request, described: Collection, page: Items, *, limit: int, offset: int) -> dict[str, Any]:
    links = self_links(request, GEOJSON, f"{described.title}: features")
    links.append(link(url(request, f"/collections/{described.id}", f="json"), "collection", JSON, described.title))
    if offset + len(page.features) < page.matched:
        links.append(link(str(request.url.include_query_params(offset=offset + limit, limit=limit, f="json")),
                          "next", GEOJSON, "Next page"))
    if offset > 0:
        links.append(link(str(request.url.include_query_params(offset=max(0, offset - limit), limit=limit,
                                                               f="json")), "prev", GEOJSON, "Previous page"))
    for feature in page.features:
        feature["links"] = _feature_links(request, described, feature["id"])
    return {
        "type": "FeatureCollection",
        "features": page.features,
        "links": links,
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "numberMatched": page.matched,
        "numberReturned": len(page.features),
    }


def _feature_links(request: Request, described: Collection, feature_id: str) -> list[dict[str, str]]:
    path = f"/collections/{described.id}/items/{feature_id}"
    return [link(url(request, path, f="json"), "self", GEOJSON, feature_id),
            link(url(request, path, f="html"), "alternate", HTML, f"{feature_id} (HTML)"),
            link(url(request, f"/collections/{described.id}", f="json"), "collection", JSON, described.title)]


def feature(request: Request, described: Collection, found: dict[str, Any]) -> dict[str, Any]:
    return {**found, "links": _feature_links(request, described, found["id"])}


# -- answers ------------------------------------------------------------------------------------------


def json_answer(body: dict[str, Any], media_type: str = JSON) -> Response:
    return JSONResponse(body, media_type=media_type, headers={"Vary": "Accept, Authorization, Cookie"})


def _path(href: str) -> str:
    parts = urlsplit(href)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def html_answer(request: Request, kind: str, body: dict[str, Any], *, heading: str | None = None,
                described: Collection | None = None) -> Response:
    """The page of one answer: its heading, links (as paths), and a table where the answer has rows."""
    language = pick_language(request.query_params.get("lang") or request.headers.get("accept-language"))
    words = messages(language, "ogc")
    links = _html_links(body, words)
    json_href = next(_path(item["href"]) for item in body["links"] if item["rel"] == "self")
    table = _table(kind, body, words)
    page = shell.render_page(
        "features.html", lang=language, title=f"{heading or words[kind]} · gridmap",
        heading=heading or words[kind], description=body.get("description", ""), words=words, links=links,
        json_href=json_href, table=table, facts=_facts(kind, body, words),
        crumbs=_crumbs(words, described), body_class="ogc")
    return HTMLResponse(page, headers={"Vary": "Accept, Authorization, Cookie"})


def _html_links(body: dict[str, Any], words: dict[str, str]) -> list[dict[str, str]]:
    """The answer's links as paths to their HTML pages (the OpenAPI document stays JSON); registered
    relation URIs and links whose HTML twin is listed are left out."""
    listed = body.get("links", [])
    html_rels = {item["rel"] for item in listed if item["type"] == HTML}
    links = []
    for item in listed:
        rel = item["rel"]
        if rel in ("self", "alternate") or rel.startswith("http") or (rel in html_rels and item["type"] != HTML):
            continue
        href = _path(item["href"])
        if item["type"] != OPENAPI:
            href = _as_html(href)
        links.append({"href": href, "rel": rel, "title": words.get(rel, item["title"])})
    return links


def _as_html(href: str) -> str:
    if "f=json" in href:
        return href.replace("f=json", "f=html")
    return href + ("&" if "?" in href else "?") + "f=html"


def _crumbs(words: dict[str, str], described: Collection | None) -> list[dict[str, str]]:
    crumbs = [{"href": f"{ROOT}?f=html", "title": words["landing"]},
              {"href": f"{ROOT}/collections?f=html", "title": words["collections"]}]
    if described is not None:
        crumbs.append({"href": f"{ROOT}/collections/{described.id}?f=html", "title": described.title})
    return crumbs


def _facts(kind: str, body: dict[str, Any], words: dict[str, str]) -> list[tuple[str, str]]:
    if kind == "items":
        return [(words["matched"], str(body["numberMatched"])), (words["returned"], str(body["numberReturned"]))]
    if kind == "collection":
        facts = [(words["bbox"], ", ".join(f"{v:.6f}" for v in body["extent"]["spatial"].get("bbox", [[]])[0]))]
        if "temporal" in body["extent"]:
            first, last = body["extent"]["temporal"]["interval"][0]
            facts.append((words["interval"], f"{first or '..'} / {last or '..'}"))
        return facts
    return []


def _table(kind: str, body: dict[str, Any], words: dict[str, str]) -> dict[str, Any] | None:
    if kind == "conformance":
        return {"columns": [words["class"]], "rows": [[{"text": uri}] for uri in body["conformsTo"]]}
    if kind == "collections":
        return {"columns": [words["collection"], words["description"]],
                "rows": [[{"text": c["title"], "href": f"{ROOT}/collections/{c['id']}?f=html"},
                          {"text": c["description"]}] for c in body["collections"]]}
    if kind == "items":
        if not body["features"]:
            return {"columns": [words["id"]], "rows": []}
        names = list(body["features"][0]["properties"])
        return {"columns": [words["id"], *names],
                "rows": [[{"text": f["id"], "href": _path(f["links"][1]["href"])},
                          *({"text": _cell(f["properties"][n])} for n in names)] for f in body["features"]]}
    if kind == "feature":
        return {"columns": [words["property"], words["value"]],
                "rows": [[{"text": name}, {"text": _cell(value)}] for name, value in body["properties"].items()]}
    return None


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def known(collection_id: str) -> Collection:
    """The collection of that id; NotFound names the ones served."""
    if collection_id not in COLLECTIONS:
        raise NotFound(f"unknown collection {collection_id!r}; served: {', '.join(COLLECTIONS)}")
    return COLLECTIONS[collection_id]
