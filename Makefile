# Quick start: `make run` (the product on its embedded default) and `make test` (every test).
SHELL := /bin/bash
.DEFAULT_GOAL := help
PY := .venv/bin/python
RASA := .venv-rasa/bin/rasa
DEMO_CUSTOMERS ?= 3000
export CRM_DATABASE_URL ?= sqlite:///$(CURDIR)/var/crm.sqlite3
export CRM_URL ?= http://127.0.0.1:$(or $(CRM_PORT),8000)
export CRM_GATEWAY_URL ?= http://127.0.0.1:$(or $(GATEWAY_PORT),8001)
# Tests start their own processes on free ports; no test may reach a running `make run`.
TEST_ENV := env -u CRM_GATEWAY_URL -u CRM_URL -u RASA_URL -u CRM_DATABASE_URL
export RASA_URL ?= http://127.0.0.1:$(or $(RASA_PORT),5005)
export CRM_SERVICE_TOKEN ?= dev-service-token
export RASA_TELEMETRY_ENABLED := false
MODEL := models/current.tar.gz
SPACY_ZH := var/spacy_zh/meta.json
RASA_INPUTS := config.yml $(shell find domain -type f) $(shell find data -type f 2>/dev/null) \
	$(shell find nlu sentiment -name '*.py' -o -name '*.json' 2>/dev/null)

.PHONY: browser help setup assets migrate demo-data train run test test-crm test-rasa lint format \
	clean bench bench-nlu bench-gateway bench-throughput bench-wechat bench-notices

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

setup: assets  ## create/update both Python environments and the web assets from the locks
	@scripts/setup_envs.sh

WEB := bot/web
assets:  ## the web chat's browser assets (npm ci; skipped while node_modules matches the lock)
	@want=$$(sha256sum $(WEB)/package-lock.json | cut -d' ' -f1); \
	if [ "$$(cat $(WEB)/node_modules/.lock-sha256 2>/dev/null)" != "$$want" ]; then \
		echo "==> npm ci in $(WEB) (socket.io-client for the web chat)"; \
		(cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error) && \
		echo "$$want" > $(WEB)/node_modules/.lock-sha256; \
	fi

migrate: setup  ## bring the CRM database to the newest schema
	@mkdir -p var
	@$(PY) -m alembic upgrade head

demo-data: migrate  ## load the reproducible demo book (only into an empty database)
	@$(PY) -m crm_backend.demo --customers $(DEMO_CUSTOMERS) --if-empty

train: setup $(MODEL)  ## train the Rasa model when its data or config changed

$(SPACY_ZH): scripts/build_spacy_zh.py nlu/spacy_zh.py $(wildcard data/jieba/*) requirements/rasa.lock.txt
	@echo "==> building the spaCy zh pipeline (jieba + insurance dictionary + entity rules)"
	@.venv-rasa/bin/python scripts/build_spacy_zh.py

$(MODEL): $(RASA_INPUTS) requirements/rasa.lock.txt $(SPACY_ZH)
	@echo "==> training the Rasa model (data or config changed)"
	@$(RASA) train --quiet --domain domain --out models --fixed-model-name current

run: demo-data train  ## run every process (CRM, actions, Rasa, gateway) and print the URLs
	@.venv/bin/honcho start -f Procfile

browser:  ## Debian's chromium and a CJK font for the browser tests
	@scripts/install_browser.sh

test: setup browser  ## the whole test suite (PostgreSQL required in CI)
	@$(TEST_ENV) $(PY) -m pytest -m "not rasa" -n 2 -p no:cacheprovider
	@$(TEST_ENV) $(PY) -m pytest -m rasa -p no:cacheprovider

test-crm: setup  ## the tests that need no Rasa model
	@$(TEST_ENV) $(PY) -m pytest -m "not rasa" -n 2 -p no:cacheprovider

bench: bench-nlu bench-gateway bench-throughput bench-wechat bench-notices  ## every benchmark (slow)

bench-nlu: setup $(SPACY_ZH)  ## NLU benchmark (5-fold CV, SMP2017, sentiment) → reports/nlu.md; 15+ min
	@.venv-rasa/bin/python -m bench.nlu

bench-gateway: train  ## gateway latency vs Rasa direct, agent→customer delivery → reports/gateway.md
	@$(PY) -m bench.gateway

bench-throughput: train  ## msg/s and latency at 1, 8, 32 conversations vs a stock Rasa bot → reports/throughput.md
	@$(PY) -m bench.throughput

bench-wechat: train  ## WeChat: passive replies within 5 s under load, async reply time → reports/wechat.md
	@$(PY) -m bench.wechat

bench-notices: setup  ## complaint-notice latency to an open web chat (no Rasa) → reports/notices.md
	@$(PY) -m bench.notices

lint: setup  ## ruff and mypy
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .
	@.venv/bin/mypy

format:  ## apply ruff's formatting and fixable lint
	@.venv/bin/ruff format .
	@.venv/bin/ruff check --fix .

clean:  ## remove the embedded database and trained models
	rm -rf var models
