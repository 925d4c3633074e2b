# suite_ai — the two commands a fresh machine needs are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INTEROP := tests/interop
AI_CLIENT := tests/ai_client
export PORT ?= 8000

.PHONY: install lock interop editor editor-build editor-test editor-latest run migrate preflight test test-fast lint typecheck bench clean

# Exactly the lock (runtime + dev, every file checked against its hash), then the project itself
# without resolving anything: pyproject.toml only declares ranges, the lock decides what installs.
$(VENV)/.installed: requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --require-hashes -r requirements-dev.txt
	$(VENV)/bin/pip install --quiet --no-deps -e .
	touch $@

install: $(VENV)/.installed

# pyproject.toml's ranges → requirements.txt (runtime, what the image installs) and
# requirements-dev.txt (runtime + dev), keeping every current pin the ranges still allow.
# LOCK_ARGS=--upgrade takes the newest releases, LOCK_ARGS="--upgrade-package NAME" one of them.
# The dev lock is constrained by the runtime lock so both install the same runtime versions.
UV_COMPILE := $(VENV)/bin/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock"
lock: | $(VENV)/.installed
	$(UV_COMPILE) pyproject.toml -o requirements.txt $(LOCK_ARGS)
	$(UV_COMPILE) pyproject.toml --extra dev -c requirements.txt -o requirements-dev.txt $(LOCK_ARGS)

# The real BlockNote/Yjs libraries that the interop tests prove our documents against.
$(INTEROP)/node_modules/.installed: $(INTEROP)/package.json $(INTEROP)/package-lock.json
	npm ci --prefix $(INTEROP) --legacy-peer-deps --no-audit --no-fund --loglevel=error
	touch $@

interop: $(INTEROP)/node_modules/.installed
INTEROP_DEPS := $(if $(wildcard $(INTEROP)/package.json),$(INTEROP)/node_modules/.installed,)

# The Vercel AI SDK's client (the `ai` package Docs' frontend pins) that reads the ai-proxy stream.
$(AI_CLIENT)/node_modules/.installed: $(AI_CLIENT)/package.json $(AI_CLIENT)/package-lock.json
	npm ci --prefix $(AI_CLIENT) --no-audit --no-fund --loglevel=error
	touch $@

INTEROP_DEPS += $(if $(wildcard $(AI_CLIENT)/package.json),$(AI_CLIENT)/node_modules/.installed,)

# The editor extension (editor/): its own toolchain, its unit tests (vitest), and Playwright (no
# browser download: the browser tests drive Debian's Chromium).
EDITOR := editor
$(EDITOR)/node_modules/.installed: $(EDITOR)/package.json $(EDITOR)/package-lock.json
	npm ci --prefix $(EDITOR) --no-audit --no-fund --loglevel=error
	touch $@

editor: $(EDITOR)/node_modules/.installed

# The library (editor/dist) and the playground's bundle, which is committed
# (suite_ai/playground/static/playground/): run after changing editor/, and commit the bundle.
editor-build: editor
	npm run --prefix $(EDITOR) build

editor-test: editor
	npm test --prefix $(EDITOR)

# The same unit and browser tests with the newest BlockNote from the npm registry (not in `make test`).
editor-latest: editor
	$(EDITOR)/scripts/check-latest-blocknote.sh

migrate: install
	$(PY) manage.py migrate --noinput

# Web server on 127.0.0.1:$(PORT) + a Celery worker + beat; SQLite and an embedded broker by default.
run: migrate
	$(PY) manage.py serve

# One line per missing tool or silent service (node, the Redis/Postgres named by the environment),
# before npm or pytest fail on it less clearly.
preflight: install
	$(PY) tests/preflight.py

test: install preflight $(INTEROP_DEPS) editor
	npm test --prefix $(EDITOR)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

typecheck: install
	$(VENV)/bin/mypy suite_ai

bench: install $(INTEROP_DEPS)
	$(PY) bench/run_all.py

clean:
	rm -rf var/test .pytest_cache .mypy_cache
