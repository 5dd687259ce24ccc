"""Schemathesis over every operation of the published OpenAPI document (bounded, fixed seed).

No generated request may cause a 5xx, and every response must conform to what the document declares:
status code, content type and body schema. Cases it found are kept as tests in test_bad_input.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from gis.settings import Settings
from gis.store.database import open_database
from gis.store.embedded import EmbeddedCluster
from gis.store.users import create_user
from tests.api.conftest import KEYS, load_drawn
from tests.conftest import _clone, _drop, settings_for

EXAMPLES = int(os.environ.get("GRIDMAP_FUZZ_EXAMPLES", "25"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def fuzz_app(pg_cluster: EmbeddedCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The drawn places and one user per role; shared by every generated case (writes are fine here)."""
    name = f"gridmap_fuzz_{os.getpid()}"
    _clone(pg_cluster, name)
    settings = settings_for(pg_cluster, name)
    load_drawn(settings, Path(tmp_path_factory.mktemp("fuzz")))
    database = open_database(settings)
    with database.session() as session:
        for username, (role, grid, street) in KEYS.items():
            create_user(session, username, role, grid_code=grid, street_code=street, key=f"key-{username}")
    yield create_app(settings, database=database)
    database.close()
    _drop(pg_cluster, name)


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_app: object):  # noqa: ANN201
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)


def _operations() -> list[tuple[str, str, GenerationMode]]:
    """(method, path, mode) of every documented operation, read from an app that needs no database to describe
    itself; negative cases (that break the schema) only where there is an input to break."""
    spec = create_app(Settings(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")).openapi()
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            found.append((method.upper(), path, GenerationMode.POSITIVE))
            breakable = [p for p in operation.get("parameters", [])
                         if p["in"] != "path" or set(p.get("schema", {})) - {"type", "title"}]
            if breakable or operation.get("requestBody"):
                found.append((method.upper(), path, GenerationMode.NEGATIVE))
    return found


@pytest.mark.parametrize(("method", "path", "mode"), _operations())
def test_no_server_error_and_every_answer_as_documented(
    fuzz_schema, method: str, path: str, mode: GenerationMode,  # noqa: ANN001
) -> None:
    """Valid requests (positive) and requests that break the schema (negative) alike."""
    operation = fuzz_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def call(case: schemathesis.Case) -> None:
        case.call_and_validate(headers={"Authorization": "Bearer key-admin"}, checks=CHECKS)

    call()
