# hiroba — the two commands: `make run` (serve the demo on SQLite) and `make test` (the whole suite).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.hiroba-installed
export HIROBA_DATA_DIR ?= $(CURDIR)/var

.PHONY: setup run test bench system-packages lint clean

setup: system-packages $(STAMP) ## idempotent: .venv, dependencies, messages, fonts, migrations
	@mkdir -p "$(HIROBA_DATA_DIR)/static"
	$(BIN)/hiroba compilemessages --ignore=.venv -v 0
	$(BIN)/hiroba build_fonts
	$(BIN)/hiroba migrate --no-input -v 0

system-packages:
	@./scripts/system-packages.sh

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

run: setup ## set up, load the demo data, serve on http://127.0.0.1:8000
	@# the demo's mail (receipts, notices) goes to files under var/mail, as the server's does
	HIROBA_HTTPS=0 HIROBA_EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend $(BIN)/hiroba demo
	$(BIN)/hiroba collectstatic --no-input -v 0
	@echo "hiroba: http://127.0.0.1:8000/  (mail is written to $(HIROBA_DATA_DIR)/mail)"
	@# beside the server, stopping with it: the background worker (receipt mail, opinion analysis)
	@# and the audit chainer (links residents' pending audit entries into the hash chain)
	export HIROBA_HTTPS=0 HIROBA_EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend; \
	  $(BIN)/hiroba db_worker --no-reload -v 0 & worker=$$!; \
	  $(BIN)/hiroba audit chain --follow & chainer=$$!; \
	  trap 'kill $$worker $$chainer 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/hiroba runserver 127.0.0.1:8000

test: setup ## set up, start Redis if it is stopped, then the whole test suite (exits non-zero when no test ran)
	@./scripts/ensure-redis.sh
	HIROBA_TEST_REDIS=required $(BIN)/pytest $(PYTEST_ARGS)

bench: setup ## the benchmarks under bench/, each printing its ratio to a baseline run beside it
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

lint: $(STAMP) ## ruff over src, tests and bench, mypy (django-stubs) and bandit (medium and high) over src (the import contracts run in the test suite)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src/hiroba
	$(BIN)/bandit -q -r src/hiroba -x '*/migrations/*' --severity-level medium

clean:
	rm -rf $(VENV) var
