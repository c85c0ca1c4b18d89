# Two commands for a newcomer: `make run` and `make test`. Every target builds the virtualenv it needs.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: run test test-fast bench token rotate-keys rollup package clean node-tools browser image-tools

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

# Node tools the tests run (asl-validator), pinned by package-lock.json.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

node-tools: node_modules/.installed

# Debian's Chromium for the browser tests (Playwright drives it; never `playwright install`). Needs root.
/usr/bin/chromium:
	apt-get update && apt-get install -y chromium

browser: /usr/bin/chromium

# tmux, jq and git for the base-image tests (real bash in tmux, the image's agent setup). Needs root.
image-tools:
	@command -v tmux >/dev/null && command -v jq >/dev/null && command -v git >/dev/null \
		|| { apt-get update && apt-get install -y tmux jq git; }

## run: the API on http://127.0.0.1:$(PORT) with embedded PostgreSQL and the local keyring
run: venv
	$(PY) -m scripts.devserver --port $(PORT)

## test: the whole suite (unit, integration, browser, real agent CLIs)
test: venv node-tools browser image-tools
	$(PY) -m pytest

## test-fast: unit and functional tests only
test-fast: venv
	$(PY) -m pytest -m "not slow"

## bench: performance figures against baselines measured in the same run
bench: venv
	$(PY) -m bench

## token: a bearer token for the local stage (make token USER=<uuid> [ADMIN=1])
token: venv
	@$(PY) -m scripts.token --user "$(USER)" $(if $(ADMIN),--admin,)

## rotate-keys: re-wrap every stored data key under the current KEK
rotate-keys: venv
	$(PY) -m scripts.rotate_keys

## rollup: run the hourly agent-usage rollup now (make rollup FULL=1 recomputes every day)
rollup: venv
	$(PY) -m scripts.rollup $(if $(FULL),--full,)

## package: CloudFormation template + Lambda zip for a stage in build/<stage> (make package STAGE=prod); no AWS account
STAGE ?= dev
PACKAGE_DIR ?= build/$(STAGE)
package: venv
	rm -rf $(PACKAGE_DIR)
	$(VENV)/bin/chalice package --stage $(STAGE) --merge-template infra/merge.yaml $(PACKAGE_DIR)
	cp infra/statemachine.asl.json $(PACKAGE_DIR)/

clean:
	rm -rf $(VENV) .pytest_cache
