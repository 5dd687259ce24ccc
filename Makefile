# gridmap: the two commands of the README are `make serve` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: serve test install system python assets sample lint bench clean-db

serve: install sample  ## install everything, load the sample district, serve on http://127.0.0.1:8000
	$(VENV)/bin/gridmap serve

test: install  ## install what tests need and run the whole suite
	$(VENV)/bin/ruff check gis api tests bench data/grids
	$(VENV)/bin/pytest

install: system python assets

system:
	bash scripts/install-system.sh

python: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

assets: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

sample: install
	$(VENV)/bin/gridmap sample

lint:
	$(VENV)/bin/ruff check gis api tests bench data/grids

bench: install  ## every benchmark at 2,000 / 10,000 / 50,000 grids beside its baseline; writes docs/performance.md (long)
	$(PY) bench/run_all.py

clean-db:
	$(VENV)/bin/gridmap db stop || true
	rm -rf var/pgdata var/test
