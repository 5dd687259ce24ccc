"""Who is calling: an API key from the Authorization header (Bearer), X-API-Key, the `api_key` query
parameter (Open311 clients) or the `gridmap_key` cookie (pages)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.deps import StoreDatabase
from gis.permissions import Actor, Unauthenticated
from gis.store.users import actor_for_key

KEY_COOKIE = "gridmap_key"


def presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return (request.headers.get("x-api-key") or request.query_params.get("api_key")
            or request.cookies.get(KEY_COOKIE) or None)


def optional_actor(request: Request, database: StoreDatabase) -> Actor | None:
    """Who the key belongs to, looked up in a short session of its own: the connection goes back to the
    pool before the endpoint waits for its thread (holding it across that wait can stall the server)."""
    key = presented_key(request)
    if key is None:
        return None
    with database.session() as session:
        actor = actor_for_key(session, key)
    if actor is None:
        raise Unauthenticated("the API key is not valid (unknown or deactivated)")
    return actor


def required_actor(actor: Annotated[Actor | None, Depends(optional_actor)]) -> Actor:
    if actor is None:
        raise Unauthenticated("an API key is required: send 'Authorization: Bearer <key>' or 'X-API-Key'")
    return actor


CurrentActor = Annotated[Actor, Depends(required_actor)]
MaybeActor = Annotated[Actor | None, Depends(optional_actor)]
