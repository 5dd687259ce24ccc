"""The pages. Every module here that has a `router` is served (`page_routers`, included by api/app.py):
a new page is its module (a route calling `shell.render_page`) and its scripts under `api/static/<page>/`;
its words are a section of the message catalogues, and it needs a template only if its markup is not
built by its scripts (the default template gives them an empty `#page-root`)."""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter


def page_routers() -> list[APIRouter]:
    """The router of every page module here, in module-name order."""
    routers = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        router = getattr(importlib.import_module(f"{__name__}.{info.name}"), "router", None)
        if isinstance(router, APIRouter):
            routers.append(router)
    return routers
