"""The OpenAPI 3.0 document of gridmap's OGC API – Features (`/ogc/api`, the landing page's service-desc).

Written from `gis.features.COLLECTIONS`, so each collection's path, properties and filters are described
from the same table the router serves: one path per collection (as pygeoapi and ldproxy do), which lets
a client such as QGIS read the default and maximum `limit` and the filterable properties.
FastAPI's own document (`/openapi.json`, OpenAPI 3.1) does not list these routes: this is their
description.
"""

from __future__ import annotations

from typing import Any

from gis.features import COLLECTIONS, DEFAULT_LIMIT, MAX_LIMIT, Collection

_JSON = "application/json"
_GEOJSON = "application/geo+json"
_HTML = "text/html"
_F = {"name": "f", "in": "query", "required": False, "style": "form", "explode": False,
      "description": "the format of the answer (else the Accept header decides; JSON by default)",
      "schema": {"type": "string", "enum": ["json", "html"]}}
_EXCEPTION = {"type": "object", "required": ["code"],
              "properties": {"code": {"type": "string"}, "description": {"type": "string"}}}


def _responses(media_type: str, schema: dict[str, Any], *errors: str) -> dict[str, Any]:
    answers: dict[str, Any] = {"200": {"description": "the answer", "content": {
        media_type: {"schema": schema}, _HTML: {"schema": {"type": "string"}}}}}
    words = {"400": "a query parameter that cannot be used (the description names it)",
             "401": "not signed in: the collection needs an API key header or a session",
             "404": "no such collection or feature"}
    for status in errors:
        answers[status] = {"description": words[status],
                           "content": {_JSON: {"schema": {"$ref": "#/components/schemas/exception"}}}}
    return answers


def _get(summary: str, operation_id: str, parameters: list[dict[str, Any]], responses: dict[str, Any],
         tags: list[str], secured: bool = False) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "operationId": operation_id, "tags": tags,
                                 "parameters": [_F, *parameters], "responses": responses}
    if secured:
        operation["security"] = [{"bearer": []}, {"apiKey": []}, {"session": []}]
    return {"get": operation}


def _items_parameters(collection: Collection) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [
        {"$ref": "#/components/parameters/bbox"}, {"$ref": "#/components/parameters/datetime"},
        {"$ref": "#/components/parameters/limit"}, {"$ref": "#/components/parameters/offset"},
    ]
    for name in collection.filters:
        parameters.append({"name": name, "in": "query", "required": False, "style": "form", "explode": False,
                           "description": f"only features whose {name} equals this value",
                           "schema": {"type": collection.properties[name]}})
    return parameters


def _feature_schema(collection: Collection) -> dict[str, Any]:
    properties = {name: {"type": kind, "nullable": True} for name, kind in collection.properties.items()}
    return {"type": "object", "required": ["type", "geometry", "properties"], "properties": {
        "type": {"type": "string", "enum": ["Feature"]},
        "id": {"type": "string"},
        "geometry": {"type": "object", "description": f"a GeoJSON {collection.geometry} in CRS84"},
        "properties": {"type": "object", "properties": properties},
        "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}},
    }}


def _collection_paths(collection: Collection) -> dict[str, Any]:
    base = f"/collections/{collection.id}"
    tags = [collection.id]
    secured = not collection.public
    errors = ("400", "401", "404") if secured else ("400", "404")
    feature = _feature_schema(collection)
    page = {"type": "object", "required": ["type", "features"], "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {"type": "array", "items": feature},
        "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}},
        "timeStamp": {"type": "string", "format": "date-time"},
        "numberMatched": {"type": "integer", "minimum": 0},
        "numberReturned": {"type": "integer", "minimum": 0},
    }}
    feature_id = {"name": "featureId", "in": "path", "required": True, "schema": {"type": "string"},
                  "description": "the feature's id" + (" (a grid version: <code>@<valid_from>; a bare code is "
                                                       "the version current today)" if collection.temporal else "")}
    return {
        base: _get(f"{collection.title}: description and extent", f"describe_{collection.id}", [],
                   _responses(_JSON, {"$ref": "#/components/schemas/collection"}, *errors), tags, secured),
        f"{base}/items": _get(f"{collection.title}: features", f"get_{collection.id}_features",
                              _items_parameters(collection), _responses(_GEOJSON, page, *errors), tags, secured),
        f"{base}/items/{{featureId}}": _get(f"{collection.title}: one feature", f"get_{collection.id}_feature",
                                            [feature_id], _responses(_GEOJSON, feature, *errors), tags, secured),
    }


_LINK = {"type": "object", "required": ["href", "rel"], "properties": {
    "href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"},
    "title": {"type": "string"}}}
_LINKS = {"type": "array", "items": {"$ref": "#/components/schemas/link"}}


def openapi_document(server_url: str) -> dict[str, Any]:
    """The whole document, with `server_url` (the API's root, e.g. http://host:8000/ogc) as its server."""
    paths: dict[str, Any] = {
        "/": _get("Landing page", "get_landing_page", [],
                  _responses(_JSON, {"type": "object", "properties": {"links": _LINKS}}, "400"), ["capabilities"]),
        "/conformance": _get("Conformance classes implemented", "get_conformance_classes", [],
                             _responses(_JSON, {"type": "object", "required": ["conformsTo"], "properties": {
                                 "conformsTo": {"type": "array", "items": {"type": "string"}}}}, "400"),
                             ["capabilities"]),
        "/api": {"get": {"summary": "This document", "operationId": "get_api", "tags": ["capabilities"],
                         "responses": {"200": {"description": "the API definition", "content": {
                             "application/vnd.oai.openapi+json;version=3.0": {"schema": {"type": "object"}}}}}}},
        "/collections": _get("Feature collections (buildings only for a signed-in caller)", "get_collections", [],
                             _responses(_JSON, {"type": "object", "properties": {
                                 "collections": {"type": "array", "items": {"$ref": "#/components/schemas/collection"}},
                                 "links": _LINKS}}, "400"), ["capabilities"]),
    }
    for collection in COLLECTIONS.values():
        paths.update(_collection_paths(collection))
    return {
        "openapi": "3.0.3",
        "info": {"title": "gridmap OGC API – Features", "version": "1.0.0",
                 "description": "Communities, grids with their boundary versions, and buildings (signed-in "
                                "callers only), as OGC API – Features Part 1 (core, GeoJSON, HTML, OpenAPI 3.0)."},
        "servers": [{"url": server_url}],
        "tags": [{"name": "capabilities"}, *({"name": c.id, "description": c.description}
                                             for c in COLLECTIONS.values())],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "session": {"type": "apiKey", "in": "cookie", "name": "gridmap_session"},
            },
            "parameters": {
                "bbox": {"name": "bbox", "in": "query", "required": False, "style": "form", "explode": False,
                         "description": "minLon,minLat,maxLon,maxLat in CRS84 (six numbers: heights ignored); "
                                        "features whose geometry intersects the box",
                         "schema": {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}},
                "datetime": {"name": "datetime", "in": "query", "required": False, "style": "form",
                             "explode": False,
                             "description": "an RFC 3339 date or date-time, or an interval a/b with '..' for an "
                                            "open end; grids: the versions valid then (judged on the district's "
                                            "day, Asia/Shanghai). Without it: the versions current today. "
                                            "Collections without dates ignore it.",
                             "schema": {"type": "string"}},
                "limit": {"name": "limit", "in": "query", "required": False, "style": "form", "explode": False,
                          "description": f"features per page (above {MAX_LIMIT}: {MAX_LIMIT})",
                          "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                                     "default": DEFAULT_LIMIT}},
                "offset": {"name": "offset", "in": "query", "required": False, "style": "form", "explode": False,
                           "description": "features to skip (the next and prev links carry it)",
                           "schema": {"type": "integer", "minimum": 0, "default": 0}},
            },
            "schemas": {
                "link": _LINK,
                "exception": _EXCEPTION,
                "collection": {"type": "object", "required": ["id", "links"], "properties": {
                    "id": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
                    "itemType": {"type": "string"}, "crs": {"type": "array", "items": {"type": "string"}},
                    "extent": {"type": "object"}, "links": _LINKS}},
            },
        },
    }
