"""tipg (developmentseed/tipg, from PyPI) as the baseline server of bench/layers.py.

tipg pins its own FastAPI and Starlette, so it lives in a virtualenv of its own under var/bench/tipg-venv,
made on first use (`python3 -m venv` + `pip install`), never in the project's .venv. `served_tipg` starts
it with uvicorn on a free loopback port, serving one table of one database, and stops it on exit.

    .venv/bin/python bench/tipg_server.py [DBNAME [PORT]]   # by hand, on bench/layers.py's cluster
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.serving import free_port, served_process  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent.parent / "var" / "bench"
VENV = BENCH_DIR / "tipg-venv"
REQUIREMENTS = ("tipg==1.6.1", "uvicorn")
"""Pinned so that runs compare against the same baseline; change deliberately."""


def ensure_venv(progress: Callable[[str], None] = print) -> Path:
    """The tipg virtualenv's python, made and filled on first use."""
    python = VENV / "bin" / "python"
    if python.exists() and _has_tipg(python):
        return python
    if VENV.exists():
        shutil.rmtree(VENV)  # a half-made one from an interrupted run
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    progress(f"tipg: creating {VENV} and installing {' '.join(REQUIREMENTS)} (first run only)")
    subprocess.run(["python3", "-m", "venv", str(VENV)], check=True)
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                           *REQUIREMENTS], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"pip install {' '.join(REQUIREMENTS)} failed:\n{done.stdout}{done.stderr}")
    return python


def _has_tipg(python: Path) -> bool:
    return subprocess.run([str(python), "-c", "import tipg, uvicorn"], capture_output=True).returncode == 0


def versions(python: Path) -> str:
    """'tipg X, fastapi Y, starlette Z, asyncpg W' of the tipg virtualenv."""
    code = ("import importlib.metadata as m; print(', '.join(f'{p} ' + m.version(p) "
            "for p in ('tipg', 'fastapi', 'starlette', 'asyncpg')))")
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def tipg_env(database_url: str, table: str, max_features: int) -> dict[str, str]:
    """The environment tipg reads its settings from (pydantic-settings: TIPG_*, DATABASE_URL)."""
    schema = table.split(".", 1)[0]
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "DATABASE_URL": database_url,
        "TIPG_DB_SCHEMAS": json.dumps([schema]),
        "TIPG_DB_TABLES": json.dumps([table]),
        "TIPG_MAX_FEATURES_PER_QUERY": str(max_features),  # default 10,000: one request for all grids
        "TIPG_DB_MAX_CONN_SIZE": "10",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


@contextmanager
def served_tipg(database_url: str, table: str = "public.grid", *, max_features: int = 50_000,
                log_name: str = "tipg-server.log") -> Iterator[str]:
    """tipg under uvicorn on a free loopback port; yields its base URL once the table is in its catalogue.
    Runs in var/bench (tipg would read a .env file in its working directory)."""
    python = ensure_venv()
    port = free_port()
    command = [str(python), "-m", "uvicorn", "tipg.main:app", "--host", "127.0.0.1", "--port", str(port),
               "--log-level", "warning", "--no-access-log"]
    with served_process(command, ready_path=f"/collections/{table}", log_path=BENCH_DIR / log_name, cwd=BENCH_DIR,
                        env=tipg_env(database_url, table, max_features), port=port, name="tipg", timeout=90):
        yield f"http://127.0.0.1:{port}"


def main() -> int:
    """Serve one database's public.grid with tipg until interrupted."""
    database = sys.argv[1] if len(sys.argv) > 1 else "gridmap_layers"
    port = sys.argv[2] if len(sys.argv) > 2 else "54369"
    with served_tipg(f"postgresql://postgres@127.0.0.1:{port}/{database}") as url:
        print(f"tipg serving {database} public.grid on {url}/collections/public.grid", flush=True)
        with suppress(KeyboardInterrupt):
            signal.pause()
    return 0


if __name__ == "__main__":
    sys.exit(main())
