# suite_ai — the two commands a fresh machine needs are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INTEROP := tests/interop
export PORT ?= 8000

.PHONY: install interop run migrate test test-fast lint typecheck bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# The real BlockNote/Yjs libraries that the interop tests prove our documents against.
$(INTEROP)/node_modules/.installed: $(INTEROP)/package.json $(INTEROP)/package-lock.json
	npm ci --prefix $(INTEROP) --legacy-peer-deps --no-audit --no-fund --loglevel=error
	touch $@

interop: $(INTEROP)/node_modules/.installed
INTEROP_DEPS := $(if $(wildcard $(INTEROP)/package.json),$(INTEROP)/node_modules/.installed,)

migrate: install
	$(PY) manage.py migrate --noinput

# Web server on 127.0.0.1:$(PORT) + a Celery worker + beat; SQLite and an embedded broker by default.
run: migrate
	$(PY) manage.py serve

test: install $(INTEROP_DEPS)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy suite_ai

bench: install $(INTEROP_DEPS)
	$(PY) bench/run_all.py

clean:
	rm -rf var/test .pytest_cache .mypy_cache
