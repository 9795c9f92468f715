# make test: bootstrap .venv from pyproject.toml (if missing or stale) and run ruff + pytest.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The project's own packages, compiled ahead: with PYTHONDONTWRITEBYTECODE set (as in some shells)
# Python still reads .pyc files but never writes them, so every start recompiled them (~0.2 s).
PACKAGES := resizer_function operations cloudformation localcloud cli console

.PHONY: test test-aws lint bench bench-sharp clean up compile

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade 'pip>=24,<27'
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Before every target that starts the project's processes (sources change after the install), and
# serially: with a process pool (-j0) finding nothing to compile took 0.4 s on 2 cores, 0.05 s without.
compile: $(STAMP)
	@$(BIN)/python -m compileall -q $(PACKAGES)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The browser tests drive a Chromium: tools/chromium.py finds one (or installs one where the
# platform allows) and prints its path, or says in one line what to run.
test: lint compile
	@chromium="$$($(BIN)/python tools/chromium.py)" && echo "browser tests use $$chromium" && \
	CHROMIUM="$$chromium" $(BIN)/pytest -q

# make test-aws: the end-to-end tests (tests/e2e) against a real AWS account instead of the local
# cloud: a throwaway stack with a unique name, deployed, used and destroyed with its images bucket.
# The usual credential chain (AWS_PROFILE, AWS_REGION...); none: one line saying so, and exit 0.
# Costs and permissions: README, "Testing against AWS".
test-aws: compile
	@reason="$$(RESIZER_TEST_TARGET=aws $(BIN)/python -m tests.e2e.target)" || exit 1; \
	if [ -n "$$reason" ]; then echo "make test-aws: skipped: $$reason"; \
	else RESIZER_TEST_TARGET=aws $(BIN)/pytest tests/e2e -v -s --durations=0; fi

bench: $(STAMP)
	$(BIN)/python -m benchmarks.pipeline

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis

# make up: bootstrap .venv, then run the local cloud with the stack deployed and a sample photo.
up: compile
	$(BIN)/resizer up

# make bench-sharp: the pipeline against sharp (installed from npm into ~/.cache/resizer/sharp),
# side by side on one core each and on two; exits non-zero when a goal of issue 14 is missed.
bench-sharp: $(STAMP)
	$(BIN)/python -m benchmarks.vs_sharp
