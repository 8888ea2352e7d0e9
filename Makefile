# Tributary: one entry point for developers and CI.
#
#   make install   tools (.tools/uv), the workspace (.venv), the emulators' own venvs (.localstack-venv,
#                  .ministack-venv) and InfluxDB's server (influxd, for the series readers' contract suite)
#   make test      install, then the whole pytest suite with lint beside it, ending with the slowest 15 tests
#                  (installs Debian's chromium when missing: the console's browser test drives it)
#   make test-fast install, lint, then the unit and service tests without emulators (the inner loop, < 3 min)
#   make lint      ruff check, ruff format --check, mypy, contract schemas up to date and evolution rules kept
#   make demo      install, then run the demo against a fresh local stack
#   make synth     install, then synthesize the CDK app (infra/cdk) into infra/cdk/cdk.out, cdk-nag checked
#   make deploy-local  install, synthesize (local profile), deploy every stack into the emulator's
#                  CloudFormation (EMULATOR=ministack, the default, or localstack) and run the services
#                  with their task definitions' environment (Ctrl-C stops it)
#   make up        install, then bring the local stack up in the foreground (Ctrl-C stops it)
#   make bench     install, then benchmark the whole pipeline (not part of `make test`; sustained, several
#                  minutes on MiniStack): one JSON line per scenario, also written to
#                  bench/results/<date>.json, and the figures as a table. BENCH_ARGS="--events 20000
#                  --latency-s 20 --replicas 1,2,4" sets its sizes
#   make clean     remove every generated folder
#
# Each install step writes a stamp keyed on the content it was built from, so a second `make install` is
# a few cheap checks. uv never downloads a Python: Python 3.13 comes from pyenv (or python3.13 on PATH).

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test
.PHONY: install tools check-py313 check-node influxdb chromium venv localstack-venv ministack-venv test test-fast lint pytest pytest-fast demo up bench synth deploy-local clean

export UV_PYTHON_DOWNLOADS := never
export UV_NO_PROGRESS := 1
unexport VIRTUAL_ENV

UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
BOOTSTRAP_PYTHON ?= python3

# Python 3.13: the newest pyenv 3.13.x if pyenv exists, else python3.13 on PATH. Override with PY313=...
PY313 ?= $(shell \
	if command -v pyenv >/dev/null 2>&1; then \
		ls -d "$$(pyenv root)"/versions/3.13*/bin/python3.13 2>/dev/null | sort -V | tail -n 1; \
	fi)
ifeq ($(strip $(PY313)),)
PY313 := $(shell command -v python3.13 2>/dev/null)
endif

LOCALSTACK_VENV := .localstack-venv
LOCALSTACK_REQS := localstack-core[runtime]==4.14.0 cbor2==5.6.5 cryptography==43.0.3 pyopenssl==24.2.1 \
	service_identity joserfc<1.1
MINISTACK_VENV := .ministack-venv
MINISTACK_REQS := ministack==1.5.33

# EMULATOR=localstack|ministack picks the stack's emulator for up, demo and bench, and limits the e2e suite
# to it; without it the stack runs on LocalStack and `make test` runs the e2e suite on both.
ifdef EMULATOR
export TRIBUTARY_EMULATOR := $(EMULATOR)
export TRIBUTARY_E2E_EMULATORS := $(EMULATOR)
endif

WORKSPACE_MANIFESTS = pyproject.toml $(sort $(wildcard */pyproject.toml services/*/pyproject.toml infra/cdk/pyproject.toml))
RUN := $(UV) run --no-sync

install: tools venv localstack-venv ministack-venv check-node influxdb

# influxd, which services/timeseries_writer/tests/test_readers.py starts on 127.0.0.1 to hold the InfluxDB
# reader to DuckDB's answers: Debian's influxdb package (1.x, which serves InfluxQL), installed with apt-get
# when missing (as root, or through sudo).
influxdb:
	@if ! command -v influxd >/dev/null 2>&1; then \
		echo "install: influxdb (influxd) with apt-get"; \
		if [ "$$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends influxdb >/dev/null \
			|| { echo "install: could not apt-get install influxdb; install influxd (InfluxDB 1.x) yourself" >&2; exit 1; }; \
	fi

tools:
	@if [ ! -x "$(UV)" ] || [ "$$($(UV) --version 2>/dev/null | cut -d' ' -f2)" != "$(UV_VERSION)" ]; then \
		echo "install: uv $(UV_VERSION) into $(TOOLS)/"; \
		"$(BOOTSTRAP_PYTHON)" -m venv "$(TOOLS)"; \
		"$(TOOLS)/bin/python" -m pip install -q --disable-pip-version-check "uv==$(UV_VERSION)"; \
	fi

check-py313:
	@if [ -z "$(PY313)" ] || [ ! -x "$(PY313)" ]; then \
		echo "install: no Python 3.13 found (pyenv install 3.13, or put python3.13 on PATH, or PY313=...)" >&2; \
		exit 1; \
	fi

# The CDK app (infra/cdk) runs aws-cdk-lib through jsii, which needs Node.js: the PyPI packages bundle the
# JavaScript, so no npm install is needed, only `node` on PATH (18 or newer).
check-node:
	@if ! command -v node >/dev/null 2>&1; then \
		echo "install: the CDK app needs Node.js >= 18 on PATH (apt-get install nodejs)" >&2; \
		exit 1; \
	fi; \
	major="$$(node --version | sed -E 's/^v([0-9]+).*/\1/')"; \
	if [ "$$major" -lt 18 ]; then \
		echo "install: Node.js $$(node --version) is too old for the CDK app (>= 18)" >&2; \
		exit 1; \
	fi

# The console's browser test (tests/e2e/test_console.py) drives headless Chromium: Debian's package, installed
# only when /usr/bin/chromium is missing (as root, or through sudo). `make test` needs it; `make up` does not.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "install: chromium (apt-get) for the console's browser test"; \
		if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
		$$sudo apt-get update -qq; \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq chromium; \
	fi

# The workspace. Locally `uv lock` refreshes uv.lock when a pyproject changed; under CI a committed lock
# must already be current (`uv sync --locked` fails otherwise), so CI never installs an unreviewed lock.
venv: tools check-py313
	@key() { { echo "$(PY313)"; cat $(WORKSPACE_MANIFESTS); cat uv.lock 2>/dev/null || true; } | sha256sum | cut -c1-16; }; \
	stamp=".venv/.tributary-sync"; \
	if [ -x .venv/bin/python ] && [ -f "$$stamp" ] && [ "$$(cat "$$stamp")" = "$$(key)" ]; then exit 0; fi; \
	if [ -z "$${CI:-}" ] || [ ! -f uv.lock ]; then $(UV) lock --python "$(PY313)" -q; fi; \
	$(UV) sync --all-packages --locked --python "$(PY313)" -q; \
	key > "$$stamp"

# $(call emulator-venv,FOLDER,REQUIREMENTS): an emulator's own virtualenv, rebuilt only when its pins change.
define emulator-venv
	@key() { echo "$(PY313) $(2)" | sha256sum | cut -c1-16; }; \
	stamp="$(1)/.tributary-reqs"; \
	if [ -x "$(1)/bin/python" ] && [ -f "$$stamp" ] && [ "$$(cat "$$stamp")" = "$$(key)" ]; then exit 0; fi; \
	echo "install: $(firstword $(2)) into $(1)/"; \
	rm -rf "$(1)"; \
	$(UV) venv -q -p "$(PY313)" "$(1)"; \
	$(UV) pip install -q --python "$(1)/bin/python" $(foreach r,$(2),'$(r)'); \
	key > "$$stamp"
endef

localstack-venv: tools check-py313
	$(call emulator-venv,$(LOCALSTACK_VENV),$(LOCALSTACK_REQS))

ministack-venv: tools check-py313
	$(call emulator-venv,$(MINISTACK_VENV),$(MINISTACK_REQS))

# The contract check also enforces the evolution rules (= tributary contracts check). The shell stops at the
# first failure (-e), so the time is printed only when every check passed.
lint: install
	@started=$$SECONDS; \
	echo "lint: ruff check, ruff format --check, mypy, contracts.schemas check"; \
	$(RUN) ruff check .; \
	$(RUN) ruff format --check .; \
	$(RUN) mypy; \
	$(RUN) python -m contracts.schemas check; \
	echo "lint: passed in $$((SECONDS - started)) s"

# Unit and service tests spread over PYTEST_WORKERS processes (many wait on subprocesses and sockets).
# Stack tests are grouped per emulator and per module with a stack of its own (tests/support/grouping.py).
PYTEST_WORKERS ?= 2
# Stack tests run side by side: the LocalStack group, the MiniStack group and the modules with stacks of their
# own (fault suite, deployed topology, replicas, crash stacks) spread over two processes. E2E_PARALLEL= runs
# them one at a time.
E2E_PARALLEL ?= -n 2 --dist loadgroup
REPORTS := .tributary/reports
pytest: install chromium
	@rm -rf $(REPORTS); mkdir -p $(REPORTS); status=0; started=$$SECONDS; \
	$(RUN) pytest -m "not e2e and not fault" -n $(PYTEST_WORKERS) --junitxml=$(REPORTS)/unit.xml || status=$$?; \
	unit_s=$$((SECONDS - started)); \
	if [ $$status -eq 0 ]; then $(RUN) pytest -m "e2e or fault" $(E2E_PARALLEL) --junitxml=$(REPORTS)/stack.xml || status=$$?; fi; \
	stack_s=$$((SECONDS - started - unit_s)); \
	$(RUN) python -m tests.support.durations $(REPORTS)/unit.xml $(REPORTS)/stack.xml --top 15; \
	echo "steps: unit and service tests $${unit_s} s, stack tests $${stack_s} s"; \
	exit $$status

# The inner loop: lint and the tests that start no emulator (marker `stack` marks those that do).
pytest-fast: install
	$(RUN) pytest -m "not e2e and not fault and not stack" -n $(PYTEST_WORKERS) --durations=5

# Lint runs beside the tests (mypy is one core for about a minute, while the unit step waits on sockets and
# subprocesses too); its output follows the tests', and a lint failure fails `make test` all the same.
test: install chromium
	@mkdir -p .tributary; status=0; \
	$(MAKE) --no-print-directory lint > .tributary/lint.log 2>&1 & lint=$$!; \
	$(MAKE) --no-print-directory pytest || status=$$?; \
	lint_status=0; wait $$lint || lint_status=$$?; \
	echo; echo "---- lint (ran beside the tests) ----"; cat .tributary/lint.log; \
	if [ $$lint_status -ne 0 ]; then echo "lint FAILED (exit $$lint_status)"; status=$$lint_status; fi; \
	exit $$status

test-fast: lint pytest-fast

demo: install
	$(RUN) tributary demo

up: install
	$(RUN) tributary up

BENCH_ARGS ?=
bench: install
	$(RUN) python bench/pipeline_bench.py $(BENCH_ARGS)

# jsii warns on every start when Node.js is past its end of life (the machine's 20 is); it still works.
# Synth checks the templates, so it says plain HTTP on purpose (no certificate here); a deployment sets
# ingest_certificate_arn, or synth refuses an internet-facing ingest without one.
synth: install
	cd infra/cdk && JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=$$(node --version | sed -E 's/^v([0-9]+).*/\1/') \
		CDK_CONTEXT_JSON='{"tributary": {"ingest_plain_http": true}}' ../../.venv/bin/python -m tributary_cdk.app

# The CDK app's stacks deployed into the emulator's CloudFormation (MiniStack unless EMULATOR=localstack),
# every service run with its deployed task definition's environment; Ctrl-C stops it all.
deploy-local: install
	JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=$$(node --version | sed -E 's/^v([0-9]+).*/\1/') \
		$(RUN) tributary deploy-local --emulator $(or $(EMULATOR),ministack)

clean:
	rm -rf .venv $(TOOLS) $(LOCALSTACK_VENV) $(MINISTACK_VENV) .tributary .mypy_cache .ruff_cache .pytest_cache .hypothesis dist \
		infra/cdk/cdk.out
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +
