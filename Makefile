# esure — two commands: `make run` (demo on SQLite) and `make test` (whole suite on PostgreSQL).
SHELL := /bin/sh
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Browser-test tools from npm (package.json: axe-core), for `make test` only.
NODE_STAMP := node_modules/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/esure
# Test settings: hermetic (no var/.env), fixed non-production secrets.
TEST_ENV := ESURE_ENV_FILE= DEBUG=false DATABASE_URL=$(PG_URL) \
	SECRET_KEY=test-only-secret-key-not-for-production-0123456789 \
	ESURE_AUTH_KEY_SECRET=test-only-auth-key-secret-0123456789 \
	ESURE_STAFF_MFA_REQUIRED=true EMAIL_URL=consolemail:// \
	ESURE_TASKS_BACKEND=esure.tasks_backends.ImmediateOnCommitBackend

.PHONY: run test install debs lint bench-smoke bench restore-drill clean

run: install
	@sh ops/make-local-env.sh $(PY)
	@$(PY) manage.py make_demo_seal
	@$(PY) manage.py migrate --noinput -v 0
	@$(PY) manage.py createcachetable
	@$(PY) manage.py load_demo
	@$(PY) manage.py load_demo_advances
	@$(PY) manage.py load_demo_api
	@$(PY) manage.py load_demo_reservations
	@echo "Serving on http://127.0.0.1:8000/  (admin: /admin/, D-Sure for orderers: /dsure/)  — Ctrl-C stops"
	@echo "The mail worker and the webhook collector run alongside; mails are printed here."
	@$(PY) manage.py worker --no-reload -v 0 & worker=$$!; \
	$(PY) manage.py send_webhooks --every 30 & hooks=$$!; \
	trap 'kill $$worker $$hooks 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver 127.0.0.1:8000

# Two pytest workers (pytest-xdist) on the two cores; TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
test: install $(NODE_STAMP)
	@sh ops/ensure-postgres.sh $(notdir $(PG_URL))
	$(VENV)/bin/ruff check .
	$(TEST_ENV) $(VENV)/bin/pytest -n $(TEST_WORKERS) $(ARGS)

# The restore drill (docs/operations.md): seed, back up, wipe, restore, verify storage, keys and
# audit chain, with negative controls. Drill databases are named esure_drill*; a short run
# (3 guarantees) is part of `make test` (tests/ops/test_restore_drill.py).
DRILL_GUARANTEES ?= 20
restore-drill: install
	@sh ops/ensure-postgres.sh postgres
	PY=$(PY) DRILL_GUARANTEES=$(DRILL_GUARANTEES) sh ops/restore-drill.sh

# The benchmark (bench/README.md): never part of `make test`. BENCH_SCALE=0.01 for a quick run.
BENCH_SCALE ?= 1
bench: install
	@sh ops/ensure-postgres.sh esure_bench
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; } \
		|| { echo "wrk is missing: sudo apt-get install wrk" >&2; exit 1; }
	BENCH_SCALE=$(BENCH_SCALE) $(PY) bench/run.py

install: debs $(STAMP)
	@mkdir -p var/static var/media

debs:
	@sh ops/ensure-debs.sh

$(STAMP): pyproject.toml
	@test -x $(PY) || "$$(sh ops/find-python.sh)" -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q ".[test]"
	@touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || sh ops/ensure-debs.sh nodejs npm
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

clean:
	rm -rf $(VENV) node_modules build *.egg-info
